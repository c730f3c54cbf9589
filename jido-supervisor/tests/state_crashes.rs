//! Issue 10: a crash of the State loses nothing committed. Proptest makes
//! sequences of State operations (every kind, histories small enough that
//! the caps are hit) and runs them against a session's State on a
//! multi-thread runtime, and against a model — a plain `Conversation` that
//! never crashes:
//!
//! - **crashes between operations**: the sequence is interleaved with kills
//!   of the State (each waited for until the restart is reported); every
//!   result, and every read afterwards, equals the model's, where a crash
//!   loses only the message being streamed (documented on `State`);
//! - **crashes during operations**: a killer task kills the State at random
//!   moments while the operations run; an operation either commits and
//!   answers `Ok`, or fails with a call error and commits nothing — so the
//!   model applies exactly the operations that answered `Ok`, and the
//!   conversation read back equals it.

use std::time::Duration;

use jido_supervisor::process::{CallError, RestartIntensity};
use jido_supervisor::session::{
    Conversation, ConversationError, ConversationLimits, FileOperation, ReasoningStep, State, Todo,
    ToolCall, ToolStatus,
};
use jido_supervisor::tree::SessionSup;
use jido_supervisor::{EventKind, Message, Role, SessionSupervisor, StateError, StateRef};
use proptest::prelude::*;
use serde_json::json;

const CAP: usize = 4;
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
enum Op {
    Append(u8),
    Reasoning(u8),
    ToolCall(u8),
    /// Updates the `pick`-th kept tool call (modulo), or an unknown id.
    UpdateTool {
        pick: usize,
        known: bool,
    },
    SetTodos(u8),
    Prompt(&'static str),
    FileRead(u8),
    FileWrite(u8),
    /// Replaces the prompt history with `n` prompts (some blank).
    SetPrompts(u8),
    ClearMessages,
    ClearReasoning,
    StartStream(u8),
    Chunk(u8),
    EndStream,
    Crash,
}

fn op(streaming: bool) -> impl Strategy<Value = Op> {
    let changes = prop_oneof![
        4 => any::<u8>().prop_map(Op::Append),
        1 => any::<u8>().prop_map(Op::Reasoning),
        2 => any::<u8>().prop_map(Op::ToolCall),
        2 => (0_usize..8, prop::bool::weighted(0.8))
            .prop_map(|(pick, known)| Op::UpdateTool { pick, known }),
        1 => (0_u8..4).prop_map(Op::SetTodos),
        2 => prop::sample::select(vec!["fix it", "", "  ", "run the tests"]).prop_map(Op::Prompt),
        2 => (0_u8..6).prop_map(Op::FileRead),
        1 => (0_u8..6).prop_map(Op::FileWrite),
        1 => (0_u8..7).prop_map(Op::SetPrompts),
        1 => Just(Op::ClearMessages),
        1 => Just(Op::ClearReasoning),
    ];
    if streaming {
        prop_oneof![
            12 => changes,
            2 => any::<u8>().prop_map(Op::StartStream),
            3 => any::<u8>().prop_map(Op::Chunk),
            2 => Just(Op::EndStream),
            3 => Just(Op::Crash),
        ]
        .boxed()
    } else {
        changes.boxed()
    }
}

fn limits() -> ConversationLimits {
    ConversationLimits::all(CAP)
}

/// What a State that never crashes would hold.
struct Model {
    conversation: Conversation,
    streaming: Option<Message>,
}

/// An operation made concrete (ids and timestamps fixed) so that the State
/// and the model get the very same values.
#[derive(Debug)]
enum Call {
    Append(Message),
    Reasoning(ReasoningStep),
    ToolCall(ToolCall),
    UpdateTool(String),
    SetTodos(Vec<Todo>),
    Prompt(&'static str),
    FileRead(FileOperation),
    FileWrite(FileOperation),
    SetPrompts(Vec<String>),
    ClearMessages,
    ClearReasoning,
    StartStream(String),
    Chunk(String),
    EndStream,
    Crash,
}

fn path(n: u8) -> String {
    format!("src/file{n}.rs")
}

impl Model {
    fn new() -> Self {
        Model {
            conversation: Conversation::new(limits()),
            streaming: None,
        }
    }

    fn concrete(&self, op: &Op) -> Call {
        match *op {
            Op::Append(n) => Call::Append(Message::new(Role::User, format!("m{n}"))),
            Op::Reasoning(n) => Call::Reasoning(ReasoningStep::new(format!("r{n}"))),
            Op::ToolCall(n) => Call::ToolCall(ToolCall::new(format!("t{n}"), json!({ "n": n }))),
            Op::UpdateTool { pick, known } => {
                let kept: Vec<&ToolCall> = self.conversation.tool_calls().collect();
                Call::UpdateTool(match kept.len() {
                    len if known && len > 0 => kept[pick % len].id.clone(),
                    _ => "unknown".into(),
                })
            }
            Op::SetTodos(n) => {
                Call::SetTodos((0..n).map(|i| Todo::new(format!("todo{i}"))).collect())
            }
            Op::Prompt(text) => Call::Prompt(text),
            Op::FileRead(n) => Call::FileRead(FileOperation::new(path(n))),
            Op::FileWrite(n) => Call::FileWrite(FileOperation::new(path(n))),
            Op::SetPrompts(n) => Call::SetPrompts(
                (0..n)
                    .map(|i| {
                        if i % 3 == 1 {
                            " ".into()
                        } else {
                            format!("p{i}")
                        }
                    })
                    .collect(),
            ),
            Op::ClearMessages => Call::ClearMessages,
            Op::ClearReasoning => Call::ClearReasoning,
            Op::StartStream(n) => Call::StartStream(format!("s{n}")),
            Op::Chunk(n) => Call::Chunk(format!("c{n} ")),
            Op::EndStream => Call::EndStream,
            Op::Crash => Call::Crash,
        }
    }
}

/// The outcome of one call, comparable between the State and the model.
#[derive(Debug, PartialEq)]
enum Outcome {
    Done,
    Kept(bool),
    Ended(Message),
    Refused(StateError),
}

/// Runs `call` on the State.
async fn on_state(state: &StateRef, call: &Call) -> Result<Outcome, CallError> {
    let refused = |error: StateError| match error {
        StateError::Call(error) => Err(error),
        other => Ok(Outcome::Refused(other)),
    };
    // A change is refused only by a failed call here (nothing is journaled).
    let call_error = |error: StateError| match error {
        StateError::Call(error) => error,
        other => panic!("refused: {other}"),
    };
    Ok(match call {
        Call::Append(m) => state
            .append_message(m.clone())
            .await
            .map(|()| Outcome::Done)
            .map_err(call_error)?,
        Call::Reasoning(r) => state
            .push_reasoning_step(r.clone())
            .await
            .map(|()| Outcome::Done)
            .map_err(call_error)?,
        Call::ToolCall(t) => state
            .push_tool_call(t.clone())
            .await
            .map(|()| Outcome::Done)
            .map_err(call_error)?,
        Call::UpdateTool(id) => {
            let result = Some(json!(format!("done {id}")));
            match state
                .update_tool_call(id, ToolStatus::Completed, result)
                .await
            {
                Ok(()) => Outcome::Done,
                Err(error) => return refused(error),
            }
        }
        Call::SetTodos(todos) => state
            .set_todos(todos.clone())
            .await
            .map(|()| Outcome::Done)
            .map_err(call_error)?,
        Call::Prompt(text) => Outcome::Kept(state.record_prompt(*text).await.map_err(call_error)?),
        Call::FileRead(op) => state
            .record_file_read(op.clone())
            .await
            .map(|()| Outcome::Done)
            .map_err(call_error)?,
        Call::FileWrite(op) => state
            .record_file_write(op.clone())
            .await
            .map(|()| Outcome::Done)
            .map_err(call_error)?,
        Call::SetPrompts(prompts) => state
            .set_prompt_history(prompts.clone())
            .await
            .map(|()| Outcome::Done)
            .map_err(call_error)?,
        Call::ClearMessages => state
            .clear_messages()
            .await
            .map(|()| Outcome::Done)
            .map_err(call_error)?,
        Call::ClearReasoning => state
            .clear_reasoning_steps()
            .await
            .map(|()| Outcome::Done)
            .map_err(call_error)?,
        Call::StartStream(id) => match state.start_streaming(id).await {
            Ok(()) => Outcome::Done,
            Err(error) => return refused(error),
        },
        Call::Chunk(chunk) => match state.append_chunk(chunk) {
            Ok(()) => Outcome::Done,
            Err(error) => return refused(error),
        },
        Call::EndStream => match state.end_streaming().await {
            Ok(message) => Outcome::Ended(message),
            Err(error) => return refused(error),
        },
        Call::Crash => unreachable!("crashes are not calls"),
    })
}

impl Model {
    /// Applies `call` as a State that never crashes would.
    fn apply(&mut self, call: &Call) -> Outcome {
        let c = &mut self.conversation;
        match call {
            Call::Append(m) => c.push_message(m.clone()),
            Call::Reasoning(r) => c.push_reasoning_step(r.clone()),
            Call::ToolCall(t) => c.push_tool_call(t.clone()),
            Call::UpdateTool(id) => {
                let result = Some(json!(format!("done {id}")));
                if let Err(ConversationError::UnknownToolCall { id }) =
                    c.update_tool_call(id, ToolStatus::Completed, result)
                {
                    return Outcome::Refused(StateError::Conversation(
                        ConversationError::UnknownToolCall { id },
                    ));
                }
            }
            Call::SetTodos(todos) => c.set_todos(todos.clone()),
            Call::Prompt(text) => return Outcome::Kept(c.record_prompt(*text)),
            Call::FileRead(op) => c.record_file_read(op.clone()),
            Call::FileWrite(op) => c.record_file_write(op.clone()),
            Call::SetPrompts(prompts) => c.set_prompt_history(prompts.clone()),
            Call::ClearMessages => c.clear_messages(),
            Call::ClearReasoning => c.clear_reasoning_steps(),
            Call::StartStream(id) => {
                if let Some(open) = &self.streaming {
                    return Outcome::Refused(StateError::AlreadyStreaming {
                        id: open.id.clone(),
                    });
                }
                // The State stamps its own time: compared without it.
                let mut message = Message::new(Role::Assistant, "");
                message.id = id.clone();
                self.streaming = Some(message);
            }
            Call::Chunk(chunk) => match &mut self.streaming {
                Some(message) => message.content.push_str(chunk),
                None => return Outcome::Refused(StateError::NotStreaming),
            },
            Call::EndStream => match self.streaming.take() {
                Some(message) => return Outcome::Ended(message),
                None => return Outcome::Refused(StateError::NotStreaming),
            },
            Call::Crash => self.streaming = None,
        }
        Outcome::Done
    }

    /// Commits what the State answered for an ended stream (its timestamp
    /// is the State's).
    fn commit_ended(&mut self, message: &Message) {
        self.conversation.push_message(message.clone());
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

async fn session() -> (SessionSupervisor, StateRef, tempfile::TempDir) {
    let tree = SessionSup::new()
        .intensity(RestartIntensity::new(1_000_000, Duration::from_secs(1)).expect("intensity"))
        .child(State::spec_with(limits()));
    let supervisor = SessionSupervisor::builder().session_child(tree).build();
    let dir = tempfile::tempdir().expect("temp dir");
    let id = supervisor
        .create_session(dir.path())
        .await
        .expect("session")
        .id();
    let state = supervisor
        .state(id)
        .expect("a State")
        .with_timeout(CALL_TIMEOUT);
    (supervisor, state, dir)
}

/// Every read of the State equals the model's.
async fn assert_reads_equal(state: &StateRef, model: &Model) -> Result<(), TestCaseError> {
    let c = &model.conversation;
    prop_assert_eq!(&state.conversation().await.expect("snapshot"), c);
    let page = state.messages(0, None).await.expect("messages");
    prop_assert_eq!(page.items, c.iter_messages().cloned().collect::<Vec<_>>());
    let reasoning: Vec<_> = c.reasoning_steps().cloned().collect();
    prop_assert_eq!(state.reasoning_steps().await.expect("reasoning"), reasoning);
    let calls: Vec<_> = c.tool_calls().cloned().collect();
    prop_assert_eq!(state.tool_calls().await.expect("tool calls"), calls);
    prop_assert_eq!(state.todos().await.expect("todos"), c.todos().to_vec());
    let prompts: Vec<_> = c.prompt_history().cloned().collect();
    prop_assert_eq!(state.prompt_history().await.expect("prompts"), prompts);
    let reads: Vec<_> = c.file_reads().cloned().collect();
    prop_assert_eq!(state.file_reads().await.expect("reads"), reads);
    let writes: Vec<_> = c.file_writes().cloned().collect();
    prop_assert_eq!(state.file_writes().await.expect("writes"), writes);
    for n in 0..6 {
        let read = c.file_was_read(path(n).as_ref());
        prop_assert_eq!(state.file_was_read(path(n)).await.expect("was read"), read);
    }
    let streaming = state.streaming_message().await.expect("streaming");
    prop_assert_eq!(
        streaming.map(|m| (m.id, m.content)),
        model.streaming.clone().map(|m| (m.id, m.content))
    );
    Ok(())
}

fn crashes_between_operations(ops: &[Op]) -> Result<(), TestCaseError> {
    runtime().block_on(async {
        let (supervisor, state, _dir) = session().await;
        let mut events = supervisor.subscribe();
        let mut model = Model::new();
        for op in ops {
            let call = model.concrete(op);
            if let Call::Crash = call {
                let old = state.pid().expect("a running State");
                old.kill();
                loop {
                    let event = events.recv().await.expect("events");
                    if matches!(&event.kind, EventKind::Restarted { child, .. } if child == "state")
                    {
                        break;
                    }
                }
                model.apply(&call);
                continue;
            }
            let got = on_state(&state, &call)
                .await
                .expect("no call fails between crashes");
            let expected = model.apply(&call);
            match (&got, &expected) {
                (Outcome::Ended(got), Outcome::Ended(expected)) => {
                    prop_assert_eq!((&got.id, &got.content), (&expected.id, &expected.content));
                    model.commit_ended(got);
                }
                _ => prop_assert_eq!(got, expected, "{:?}", call),
            }
        }
        assert_reads_equal(&state, &model).await?;
        supervisor.shutdown().await;
        Ok(())
    })
}

fn crashes_during_operations(ops: &[Op], kills: usize, spacing: u8) -> Result<(), TestCaseError> {
    runtime().block_on(async {
        let (supervisor, state, _dir) = session().await;
        let killer = {
            let state = state.clone();
            tokio::spawn(async move {
                for _ in 0..kills {
                    for _ in 0..spacing {
                        tokio::task::yield_now().await;
                    }
                    if let Some(pid) = state.pid() {
                        pid.kill();
                    }
                }
            })
        };
        let mut model = Model::new();
        for op in ops {
            let call = model.concrete(op);
            match on_state(&state, &call).await {
                Ok(got) => {
                    // Answered: committed, exactly as the model says.
                    let expected = model.apply(&call);
                    prop_assert_eq!(got, expected, "{:?}", call);
                }
                // Not answered: not committed; nothing to apply.
                Err(CallError::Exited { .. }) => {}
                Err(other) => prop_assert!(false, "unexpected call error {other:?}"),
            }
        }
        killer.await.expect("killer");
        assert_reads_equal(&state, &model).await?;
        supervisor.shutdown().await;
        Ok(())
    })
}

proptest! {
    #![proptest_config(jido_testkit::strategies::cases_from_env(64))]

    #[test]
    fn crashes_between_operations_lose_only_the_streamed_message(
        ops in prop::collection::vec(op(true), 1..60),
    ) {
        crashes_between_operations(&ops)?;
    }

    #[test]
    fn an_operation_interrupted_by_a_crash_commits_all_or_nothing(
        ops in prop::collection::vec(op(false), 1..60),
        kills in 1_usize..64,
        spacing in 0_u8..16,
    ) {
        crashes_during_operations(&ops, kills, spacing)?;
    }
}
