//! Issue 20 through the supervisor: every change the State acknowledges is
//! journaled first, so a program that dies (here: its supervisor dropped,
//! its trees killed, nothing saved) loses nothing acknowledged; the session
//! is listed as interrupted and resumed whole, also after a resume, and
//! also when its snapshot could not be written.

use std::sync::Arc;

use async_trait::async_trait;
use jido_supervisor::session::{Conversation, Todo, ToolCall};
use jido_supervisor::store::Read;
use jido_supervisor::store::{Durability, FileJournal, JournalStore, StoreError};
use jido_supervisor::{
    EventKind, Message, Persistence, Role, SessionId, SessionSupervisor, StateError,
};
use serde_json::json;
use tempfile::TempDir;

struct Dirs {
    snapshots: TempDir,
    project: TempDir,
}

fn dirs() -> Dirs {
    Dirs {
        snapshots: tempfile::tempdir().unwrap(),
        project: tempfile::tempdir().unwrap(),
    }
}

fn supervisor(dirs: &Dirs, durability: Durability, save_on_stop: bool) -> SessionSupervisor {
    SessionSupervisor::builder()
        .persistence(Persistence::in_dir(dirs.snapshots.path()).unwrap())
        .durability(durability)
        .save_on_stop(save_on_stop)
        .build()
}

/// Holds a conversation of every kind of change; returns it as the State
/// has it.
async fn converse(supervisor: &SessionSupervisor, id: SessionId, from: usize) -> Conversation {
    let state = supervisor.state(id).unwrap();
    for i in from..from + 30 {
        state
            .append_message(Message::new(Role::User, format!("message {i}")))
            .await
            .unwrap();
    }
    let mut call = ToolCall::new("grep", json!({"q": "x"}));
    call.id = format!("call-{from}");
    state.push_tool_call(call).await.unwrap();
    state
        .update_tool_call(
            format!("call-{from}"),
            jido_supervisor::session::ToolStatus::Completed,
            Some(json!("found")),
        )
        .await
        .unwrap();
    state
        .set_todos(vec![Todo::new("write the test")])
        .await
        .unwrap();
    assert!(state.record_prompt(format!("prompt {from}")).await.unwrap());
    assert!(!state.record_prompt("   ").await.unwrap());
    state
        .start_streaming(format!("answer-{from}"))
        .await
        .unwrap();
    state.append_chunk("streamed ").unwrap();
    state.append_chunk("answer").unwrap();
    state.end_streaming().await.unwrap();
    state.conversation().await.unwrap()
}

/// Resumes session `id` through `supervisor` and reads its conversation.
async fn resumed(supervisor: &SessionSupervisor, id: SessionId) -> Conversation {
    supervisor.resume(id).await.unwrap();
    supervisor.state(id).unwrap().conversation().await.unwrap()
}

#[tokio::test]
async fn a_program_that_dies_loses_nothing_acknowledged() {
    for durability in [Durability::Os, Durability::Sync] {
        let dirs = dirs();
        let first = supervisor(&dirs, durability, false);
        let id = first
            .create_session(dirs.project.path())
            .await
            .unwrap()
            .id();
        first.rename_session(id, "before the crash").await.unwrap();
        let before = converse(&first, id, 0).await;
        let config = jido_supervisor::SessionConfig {
            model: "another-model".into(),
            ..Default::default()
        };
        first
            .update_session_config(id, config.clone())
            .await
            .unwrap();
        first.rename_session(id, "renamed last").await.unwrap();
        drop(first); // the program dies: trees killed, nothing saved

        let second = supervisor(&dirs, durability, false);
        let resumable = second.list_resumable().await.unwrap();
        assert_eq!(resumable.len(), 1, "{durability:?}");
        assert_eq!(resumable[0].id, id);
        assert!(resumable[0].interrupted);
        assert_eq!(resumable[0].messages, 31);
        assert_eq!(resumable[0].name, "renamed last");
        assert_eq!(resumed(&second, id).await, before);
        let session = second.registry().lookup(id).unwrap();
        assert_eq!(session.name(), "renamed last");
        assert_eq!(session.config(), &config);
    }
}

#[tokio::test]
async fn a_resumed_session_that_dies_comes_back_with_every_change_since() {
    let dirs = dirs();
    let first = supervisor(&dirs, Durability::Os, true);
    let id = first
        .create_session(dirs.project.path())
        .await
        .unwrap()
        .id();
    converse(&first, id, 0).await;
    first.stop_session(id).await.unwrap(); // saved as it stops
    first.resume(id).await.unwrap();
    let before = converse(&first, id, 100).await;
    drop(first); // dies after the resume: before, the snapshot was gone

    let second = supervisor(&dirs, Durability::Os, true);
    let resumable = second.list_resumable().await.unwrap();
    assert_eq!(resumable.len(), 1);
    assert!(resumable[0].interrupted);
    second.resume(id).await.unwrap();
    let after = second.state(id).unwrap().conversation().await.unwrap();
    assert_eq!(after, before);
    assert_eq!(after.message_count(), 62);
}

#[tokio::test]
async fn a_conversation_over_the_snapshot_limit_is_kept_by_its_journal() {
    let dirs = dirs();
    let small = || {
        SessionSupervisor::builder()
            .persistence(
                Persistence::in_dir(dirs.snapshots.path())
                    .unwrap()
                    .max_snapshot_bytes(2048),
            )
            .save_on_stop(true)
            .build()
    };
    let first = small();
    let mut events = first.subscribe();
    let id = first
        .create_session(dirs.project.path())
        .await
        .unwrap()
        .id();
    let before = converse(&first, id, 0).await;
    first.stop_session(id).await.unwrap();
    let mut save_failed = false;
    while let Ok(event) = events.try_recv() {
        save_failed |= matches!(event.kind, EventKind::SaveFailed { .. });
    }
    assert!(save_failed, "the snapshot is over the limit");

    let second = small();
    let resumable = second.list_resumable().await.unwrap();
    assert_eq!((resumable.len(), resumable[0].interrupted), (1, true));
    assert_eq!(resumed(&second, id).await, before);
}

#[tokio::test]
async fn a_session_saved_as_it_stops_is_listed_saved_not_interrupted() {
    let dirs = dirs();
    let first = supervisor(&dirs, Durability::Os, true);
    let id = first
        .create_session(dirs.project.path())
        .await
        .unwrap()
        .id();
    let before = converse(&first, id, 0).await;
    first.stop_session(id).await.unwrap();
    let journals = FileJournal::new(dirs.snapshots.path()).unwrap();
    assert!(
        !journals.path_of(id).exists(),
        "the snapshot covers the journal"
    );
    let resumable = first.list_resumable().await.unwrap();
    assert_eq!((resumable.len(), resumable[0].interrupted), (1, false));
    assert_eq!(resumed(&first, id).await, before);
}

#[tokio::test]
async fn resume_interrupted_brings_back_the_interrupted_sessions_only() {
    let (dirs, saved_project, gone_project) = (
        dirs(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let first = supervisor(&dirs, Durability::Os, true);
    let interrupted = first
        .create_session(dirs.project.path())
        .await
        .unwrap()
        .id();
    let saved = first
        .create_session(saved_project.path())
        .await
        .unwrap()
        .id();
    let gone = first
        .create_session(gone_project.path())
        .await
        .unwrap()
        .id();
    let before = converse(&first, interrupted, 0).await;
    converse(&first, saved, 0).await;
    converse(&first, gone, 0).await;
    first.stop_session(saved).await.unwrap();
    drop(first); // dies with two sessions running
    let gone_path = gone_project.path().to_owned();
    drop(gone_project);

    let again = supervisor(&dirs, Durability::Os, true);
    let outcomes = again.resume_interrupted().await.unwrap();
    let mut ids: Vec<_> = outcomes.iter().map(|(id, _)| *id).collect();
    ids.sort();
    let mut expected = vec![interrupted, gone];
    expected.sort();
    assert_eq!(ids, expected, "the saved session is not resumed");
    for (id, outcome) in &outcomes {
        if *id == gone {
            assert!(
                matches!(
                    outcome,
                    Err(jido_supervisor::ResumeError::ProjectMissing { path }) if *path == gone_path
                ),
                "{outcome:?}"
            );
        } else {
            assert!(outcome.is_ok(), "{outcome:?}");
        }
    }
    assert_eq!(
        again
            .state(interrupted)
            .unwrap()
            .conversation()
            .await
            .unwrap(),
        before
    );
    assert!(again.registry().lookup(saved).is_none());
    // What could not be resumed is still listed, still interrupted.
    let listed = again.list_resumable().await.unwrap();
    let gone_listed = listed.iter().find(|info| info.id == gone).unwrap();
    assert!(gone_listed.interrupted);
    // Nothing is left to resume but what cannot be.
    let outcomes = again.resume_interrupted().await.unwrap();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].0, gone);
}

#[tokio::test]
async fn on_stop_only_journals_nothing_as_before() {
    let dirs = dirs();
    let first = supervisor(&dirs, Durability::OnStop, false);
    let id = first
        .create_session(dirs.project.path())
        .await
        .unwrap()
        .id();
    converse(&first, id, 0).await;
    drop(first);
    let second = supervisor(&dirs, Durability::OnStop, false);
    assert!(second.list_resumable().await.unwrap().is_empty());
}

/// A journal store whose appends fail.
struct Full;

#[async_trait]
impl JournalStore for Full {
    async fn append(
        &self,
        _: SessionId,
        _: Vec<u8>,
        _: u64,
        _: Durability,
    ) -> Result<(), StoreError> {
        Err(StoreError::Io {
            operation: "append to the journal",
            kind: Some(std::io::ErrorKind::StorageFull),
            message: "no space left on device".into(),
        })
    }
    async fn recover(&self, _: SessionId) -> Result<Read, StoreError> {
        Ok(Read::default())
    }
    async fn read(&self, _: SessionId) -> Result<Read, StoreError> {
        Ok(Read::default())
    }
    async fn last_written(
        &self,
        _: SessionId,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, StoreError> {
        Ok(None)
    }
    async fn list(&self) -> Result<Vec<SessionId>, StoreError> {
        Ok(Vec::new())
    }
    async fn delete(&self, _: SessionId) -> Result<(), StoreError> {
        Ok(())
    }
}

#[tokio::test]
async fn a_change_that_cannot_be_journaled_is_refused_and_not_made() {
    let dirs = dirs();
    let persistence =
        Persistence::new(jido_supervisor::store::FileStore::new(dirs.snapshots.path()).unwrap())
            .with_journal_arc(Arc::new(Full));
    let supervisor = SessionSupervisor::builder()
        .persistence(persistence)
        .build();
    let id = supervisor
        .create_session(dirs.project.path())
        .await
        .unwrap()
        .id();
    let state = supervisor.state(id).unwrap();
    assert!(matches!(
        state
            .append_message(Message::new(Role::User, "lost?"))
            .await,
        Err(StateError::NotJournaled { .. })
    ));
    assert_eq!(state.message_count().await.unwrap(), 0);
    state.start_streaming("a").await.unwrap();
    state.append_chunk("kept open").unwrap();
    assert!(matches!(
        state.end_streaming().await,
        Err(StateError::NotJournaled { .. })
    ));
    // The streamed message is still open, whole.
    assert_eq!(
        state.streaming_message().await.unwrap().unwrap().content,
        "kept open"
    );
}

#[tokio::test]
async fn a_state_with_its_own_limits_comes_back_with_exactly_what_it_kept() {
    use jido_supervisor::session::{ConversationLimits, State};
    use jido_supervisor::tree::SessionSup;
    let dirs = dirs();
    let with_limits = |messages| {
        let limits = ConversationLimits {
            messages,
            ..ConversationLimits::default()
        };
        SessionSupervisor::builder()
            .persistence(Persistence::in_dir(dirs.snapshots.path()).unwrap())
            .session_child(SessionSup::new().child(State::spec_with(limits)))
            .build()
    };
    // More than the default cap of 1,000, fewer than this State's.
    let first = with_limits(5_000);
    let id = first
        .create_session(dirs.project.path())
        .await
        .unwrap()
        .id();
    let state = first.state(id).unwrap();
    say_numbered(&state, 0..1_200).await;
    let before = state.conversation().await.unwrap();
    drop(first);

    let second = with_limits(5_000);
    second.resume(id).await.unwrap();
    let after = second.state(id).unwrap().conversation().await.unwrap();
    assert_eq!(after.message_count(), 1_200);
    assert_eq!(after, before);
}

/// Appends a message numbered `i` for every `i` of `numbers`.
async fn say_numbered(state: &jido_supervisor::StateRef, numbers: std::ops::Range<usize>) {
    for i in numbers {
        state
            .append_message(Message::new(Role::User, format!("{i}")))
            .await
            .unwrap();
    }
}

/// The number of records in session `id`'s journal.
async fn journal_records(dirs: &Dirs, id: SessionId) -> usize {
    FileJournal::new(dirs.snapshots.path())
        .unwrap()
        .read(id)
        .await
        .unwrap()
        .records
        .len()
}

#[tokio::test]
async fn a_journal_is_checkpointed_and_cut_as_it_grows_and_nothing_is_lost() {
    let dirs = dirs();
    let every = |records| {
        SessionSupervisor::builder()
            .persistence(Persistence::in_dir(dirs.snapshots.path()).unwrap())
            .checkpoint_every(records)
            .build()
    };
    let first = every(10);
    let id = first
        .create_session(dirs.project.path())
        .await
        .unwrap()
        .id();
    let state = first.state(id).unwrap();
    for i in 0..95 {
        say_numbered(&state, i..i + 1).await;
        assert!(
            journal_records(&dirs, id).await <= 10,
            "cut at every tenth record"
        );
    }
    let before = state.conversation().await.unwrap();
    drop(first);

    let second = every(10);
    let resumable = second.list_resumable().await.unwrap();
    assert_eq!(
        (resumable[0].interrupted, resumable[0].messages),
        (true, 95)
    );
    assert_eq!(resumed(&second, id).await, before);
}

#[tokio::test]
async fn an_explicit_save_is_a_checkpoint_too() {
    let dirs = dirs();
    let first = supervisor(&dirs, Durability::Os, false);
    let id = first
        .create_session(dirs.project.path())
        .await
        .unwrap()
        .id();
    converse(&first, id, 0).await;
    first.save(id).await.unwrap();
    assert_eq!(
        journal_records(&dirs, id).await,
        0,
        "the save covers the journal"
    );
    let before = converse(&first, id, 100).await;
    drop(first);
    let second = supervisor(&dirs, Durability::Os, false);
    assert_eq!(resumed(&second, id).await, before);
}

#[tokio::test]
async fn a_conversation_that_cannot_be_checkpointed_keeps_its_journal() {
    let dirs = dirs();
    let small = || {
        SessionSupervisor::builder()
            .persistence(
                Persistence::in_dir(dirs.snapshots.path())
                    .unwrap()
                    .max_snapshot_bytes(1024),
            )
            .checkpoint_every(5)
            .build()
    };
    let first = small();
    let id = first
        .create_session(dirs.project.path())
        .await
        .unwrap()
        .id();
    let before = converse(&first, id, 0).await;
    assert!(journal_records(&dirs, id).await > 30, "never cut");
    drop(first);
    let second = small();
    assert_eq!(resumed(&second, id).await, before);
}

mod crash_at_any_point {
    use jido_supervisor::session::{Change, Conversation, Todo, ToolStatus};
    use jido_supervisor::store::Durability;
    use jido_supervisor::{Message, Persistence, Role, SessionSupervisor};
    use proptest::prelude::*;
    use serde_json::json;

    #[derive(Debug, Clone)]
    enum Op {
        Say(String),
        Tool(String),
        Finish(usize),
        Todos(u8),
        Prompt(String),
        Prompts(Vec<String>),
        ClearMessages,
        ClearReasoning,
        Reason(String),
        Rename(String),
        Save,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            5 => "[a-z ]{0,8}".prop_map(Op::Say),
            1 => "[a-z]{1,5}".prop_map(Op::Tool),
            1 => (0_usize..4).prop_map(Op::Finish),
            1 => (0_u8..3).prop_map(Op::Todos),
            1 => "[a-z ]{0,5}".prop_map(Op::Prompt),
            1 => prop::collection::vec("[a-z ]{0,3}", 0..4).prop_map(Op::Prompts),
            1 => Just(Op::ClearMessages),
            1 => Just(Op::ClearReasoning),
            1 => "[a-z]{0,5}".prop_map(Op::Reason),
            1 => "[a-z]{1,8}".prop_map(Op::Rename),
            1 => Just(Op::Save),
        ]
    }

    /// What `op` does to the conversation (with the tool calls made so far),
    /// if it is a conversation change.
    fn change_of(op: &Op, tools: &mut Vec<String>) -> Option<Change> {
        Some(match op {
            Op::Say(text) => Change::Message(Message::new(Role::User, text.clone())),
            Op::Tool(name) => {
                let mut call = jido_supervisor::session::ToolCall::new(name.clone(), json!({}));
                call.id = format!("call-{}", tools.len());
                tools.push(call.id.clone());
                Change::ToolCall(call)
            }
            Op::Finish(i) => Change::ToolCallUpdate {
                id: tools.get(*i).cloned().unwrap_or_else(|| "none".into()),
                status: ToolStatus::Completed,
                result: Some(json!(i)),
            },
            Op::Todos(n) => Change::Todos((0..*n).map(|i| Todo::new(format!("t{i}"))).collect()),
            Op::Prompt(text) => Change::Prompt(text.clone()),
            Op::Prompts(prompts) => Change::PromptHistory(prompts.clone()),
            Op::ClearMessages => Change::ClearMessages,
            Op::ClearReasoning => Change::ClearReasoningSteps,
            Op::Reason(text) => {
                Change::ReasoningStep(jido_supervisor::session::ReasoningStep::new(text.clone()))
            }
            Op::Rename(_) | Op::Save => return None,
        })
    }

    /// Does `op` through the supervisor; `change` is what it does to the
    /// conversation.
    async fn run(
        supervisor: &SessionSupervisor,
        id: jido_supervisor::SessionId,
        op: &Op,
        change: Option<Change>,
    ) {
        let state = supervisor.state(id).unwrap();
        match (op, change) {
            (Op::Rename(name), _) => {
                supervisor.rename_session(id, name.clone()).await.unwrap();
            }
            (Op::Save, _) => {
                supervisor.save(id).await.unwrap();
            }
            (_, Some(Change::Message(message))) => state.append_message(message).await.unwrap(),
            (_, Some(Change::ToolCall(call))) => state.push_tool_call(call).await.unwrap(),
            (_, Some(Change::ToolCallUpdate { id, status, result })) => {
                // An unknown call is refused, as it is by the model.
                let _ = state.update_tool_call(id, status, result).await;
            }
            (_, Some(Change::Todos(todos))) => state.set_todos(todos).await.unwrap(),
            (_, Some(Change::Prompt(prompt))) => {
                state.record_prompt(prompt).await.unwrap();
            }
            (_, Some(Change::PromptHistory(prompts))) => {
                state.set_prompt_history(prompts).await.unwrap();
            }
            (_, Some(Change::ClearMessages)) => state.clear_messages().await.unwrap(),
            (_, Some(Change::ClearReasoningSteps)) => {
                state.clear_reasoning_steps().await.unwrap();
            }
            (_, Some(Change::ReasoningStep(step))) => {
                state.push_reasoning_step(step).await.unwrap();
            }
            (op, change) => unreachable!("{op:?} {change:?}"),
        }
    }

    proptest! {
        #![proptest_config(jido_testkit::strategies::cases_from_env(32))]

        /// Any sequence of State operations, renames and saves; the program
        /// dies at any point, one operation in flight; the resumed session
        /// reads as a model that applied exactly the acknowledged ones, or
        /// those and the one in flight.
        #[test]
        fn a_crash_at_any_point_resumes_to_exactly_what_was_acknowledged(
            ops in prop::collection::vec(op(), 1..25),
            crash in any::<prop::sample::Index>(),
            yields in 0_usize..6,
            durability in prop_oneof![Just(Durability::Os), Just(Durability::Sync)],
        ) {
            let runtime = jido_testkit::multi_thread_runtime(2).unwrap();
            runtime.block_on(async {
                let store = tempfile::tempdir().unwrap();
                let project = tempfile::tempdir().unwrap();
                let build = || SessionSupervisor::builder()
                    .persistence(Persistence::in_dir(store.path()).unwrap())
                    .durability(durability)
                    .checkpoint_every(4)
                    .build();
                let supervisor = build();
                let id = supervisor.create_session(project.path()).await.unwrap().id();
                let crash = crash.index(ops.len());
                let mut model = Conversation::default();
                let mut name = supervisor.registry().lookup(id).unwrap().name().to_owned();
                let mut tools = Vec::new();
                for op in &ops[..crash] {
                    let change = change_of(op, &mut tools);
                    if let Some(change) = &change
                        && model.check(change).is_ok()
                    {
                        model.apply(change.clone()).unwrap();
                    }
                    if let Op::Rename(new) = op {
                        name = new.clone();
                    }
                    run(&supervisor, id, op, change).await;
                }
                // The last one in flight as the program dies.
                let in_flight = &ops[crash];
                let change = change_of(in_flight, &mut tools);
                let mut model_after = model.clone();
                if let Some(change) = &change
                    && model_after.check(change).is_ok()
                {
                    model_after.apply(change.clone()).unwrap();
                }
                let flying = tokio::spawn({
                    let supervisor = supervisor.clone();
                    let in_flight = in_flight.clone();
                    async move { run(&supervisor, id, &in_flight, change).await }
                });
                for _ in 0..yields {
                    tokio::task::yield_now().await;
                }
                drop(supervisor);
                flying.abort();
                let _ = flying.await;

                let again = build();
                let resume = again.resume(id).await;
                if let Err(jido_supervisor::ResumeError::Load(
                    jido_supervisor::store::LoadError::NotFound { .. },
                )) = resume
                {
                    // Nothing acknowledged, nothing written: a session with
                    // no change leaves no journal behind.
                    prop_assert_eq!(&model, &Conversation::default());
                    prop_assert!(!ops[..crash].iter().any(|op| matches!(op, Op::Rename(_) | Op::Save)));
                    return Ok(());
                }
                prop_assert!(resume.is_ok(), "the resume failed: {:?}", resume.err());
                let resumed = again.state(id).unwrap().conversation().await;
                prop_assert!(resumed.is_ok(), "the resumed State: {:?}", resumed.as_ref().err());
                let resumed = resumed.unwrap();
                prop_assert!(
                    resumed == model || resumed == model_after,
                    "resumed {:?}\nmodel {:?}", resumed, model
                );
                let resumed_name = again.registry().lookup(id).unwrap().name().to_owned();
                match in_flight {
                    Op::Rename(new) => prop_assert!(resumed_name == name || resumed_name == *new),
                    _ => prop_assert_eq!(resumed_name, name),
                }
                Ok(())
            })?;
        }
    }
}

/// Issue 20: a resume racing a stop of the same session once deleted the
/// snapshot the stop had just saved, leaving the session neither running
/// nor saved. Resume deletes nothing now: raced many times, the session
/// is always running or resumable, with its whole conversation.
#[test]
fn a_resume_racing_a_stop_leaves_the_session_running_or_resumable() {
    let runtime = jido_testkit::multi_thread_runtime(2).unwrap();
    runtime.block_on(async {
        for round in 0..60 {
            let dirs = dirs();
            let supervisor = supervisor(&dirs, Durability::Os, true);
            let id = supervisor
                .create_session(dirs.project.path())
                .await
                .unwrap()
                .id();
            let before = converse(&supervisor, id, 0).await;
            let stop = tokio::spawn({
                let supervisor = supervisor.clone();
                async move { supervisor.stop_session(id).await }
            });
            let resume = tokio::spawn({
                let supervisor = supervisor.clone();
                async move {
                    // Until the stop has let the session go.
                    loop {
                        match supervisor.resume(id).await {
                            Err(jido_supervisor::ResumeError::AlreadyOpen { .. }) => {
                                tokio::task::yield_now().await;
                            }
                            other => return other.map(drop),
                        }
                    }
                }
            });
            stop.await.unwrap().unwrap();
            resume.await.unwrap().unwrap();
            assert!(supervisor.session_running(id), "round {round}");
            assert_eq!(
                supervisor.state(id).unwrap().conversation().await.unwrap(),
                before,
                "round {round}"
            );
            // Died now, it comes back whole too.
            drop(supervisor);
            let again = self::supervisor(&dirs, Durability::Os, true);
            assert_eq!(resumed(&again, id).await, before, "round {round}");
        }
    });
}
