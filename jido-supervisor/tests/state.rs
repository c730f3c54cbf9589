//! The State through its typed reference: every cap, paged reads, streaming
//! and its errors, tool calls, prompts, file operations; and what a crash of
//! the State keeps (everything committed) and loses (the streamed message).

mod common;

use common::{expect_restarted, project, within_a_minute};
use jido_supervisor::session::{
    ConversationError, ConversationLimits, FileOperation, PageMeta, ReasoningStep, State, Todo,
    TodoStatus, ToolCall, ToolStatus,
};
use jido_supervisor::tree::SessionSup;
use jido_supervisor::{Message, Role, SessionId, SessionSupervisor, StateError, StateRef};
use serde_json::json;
use tempfile::TempDir;

fn limits(cap: usize) -> ConversationLimits {
    ConversationLimits::all(cap)
}

struct Fixture {
    supervisor: SessionSupervisor,
    id: SessionId,
    state: StateRef,
    _dir: TempDir,
}

async fn start(tree: SessionSup) -> Fixture {
    let supervisor = SessionSupervisor::builder().session_child(tree).build();
    let dir = project();
    let id = supervisor.create_session(dir.path()).await.unwrap().id();
    let state = supervisor.state(id).unwrap();
    Fixture {
        supervisor,
        id,
        state,
        _dir: dir,
    }
}

async fn start_capped(cap: usize) -> Fixture {
    start(SessionSup::new().child(State::spec_with(limits(cap)))).await
}

/// Appends user messages `m0`, `m1`, … `m{count - 1}`.
async fn append_numbered(state: &StateRef, count: usize) {
    for n in 0..count {
        state
            .append_message(Message::new(Role::User, format!("m{n}")))
            .await
            .unwrap();
    }
}

fn contents(messages: &[Message]) -> Vec<&str> {
    messages.iter().map(|m| m.content.as_str()).collect()
}

#[tokio::test]
async fn the_default_limits_are_jido_codes() {
    let f = start(SessionSup::new()).await;
    append_numbered(&f.state, 1005).await;
    let page = f.state.messages(0, Some(1)).await.unwrap();
    assert_eq!(page.meta.total, 1000);
    assert_eq!(page.items[0].content, "m5", "the oldest five were dropped");
    assert_eq!(
        f.state.conversation().await.unwrap().limits(),
        ConversationLimits::default()
    );
}

#[tokio::test]
async fn every_history_drops_its_oldest_past_its_cap() {
    let f = start_capped(3).await;
    let s = &f.state;
    for n in 0..5 {
        s.append_message(Message::new(Role::User, format!("m{n}")))
            .await
            .unwrap();
        s.push_reasoning_step(ReasoningStep::new(format!("r{n}")))
            .await
            .unwrap();
        s.push_tool_call(ToolCall::new(format!("t{n}"), json!({ "n": n })))
            .await
            .unwrap();
        assert!(s.record_prompt(format!("p{n}")).await.unwrap());
        s.record_file_read(FileOperation::new(format!("read{n}")))
            .await
            .unwrap();
        s.record_file_write(FileOperation::new(format!("write{n}")))
            .await
            .unwrap();
    }

    let messages = s.messages(0, None).await.unwrap().items;
    assert_eq!(contents(&messages), ["m2", "m3", "m4"]);
    let steps: Vec<String> = s
        .reasoning_steps()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.content)
        .collect();
    assert_eq!(steps, ["r2", "r3", "r4"]);
    let calls: Vec<String> = s
        .tool_calls()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(calls, ["t2", "t3", "t4"]);
    assert_eq!(s.prompt_history().await.unwrap(), ["p2", "p3", "p4"]);
    let reads: Vec<_> = s
        .file_reads()
        .await
        .unwrap()
        .into_iter()
        .map(|op| op.path)
        .collect();
    assert_eq!(
        reads,
        ["read2", "read3", "read4"].map(std::path::PathBuf::from)
    );
    let writes: Vec<_> = s
        .file_writes()
        .await
        .unwrap()
        .into_iter()
        .map(|op| op.path)
        .collect();
    assert_eq!(
        writes,
        ["write2", "write3", "write4"].map(std::path::PathBuf::from)
    );
    // A read that fell off the history no longer counts as read.
    assert!(!s.file_was_read("read1").await.unwrap());
    assert!(s.file_was_read("read2").await.unwrap());
    assert!(!s.file_was_read("write4").await.unwrap());
}

#[tokio::test]
async fn messages_are_read_in_pages_with_their_meta() {
    let f = start(SessionSup::new()).await;
    append_numbered(&f.state, 5).await;

    let page = f.state.messages(1, Some(2)).await.unwrap();
    assert_eq!(contents(&page.items), ["m1", "m2"]);
    assert_eq!(
        page.meta,
        PageMeta {
            total: 5,
            offset: 1,
            limit: Some(2),
            returned: 2,
            has_more: true
        }
    );
    let last = f.state.messages(4, Some(10)).await.unwrap();
    assert_eq!(contents(&last.items), ["m4"]);
    assert!(!last.meta.has_more);
    let rest = f.state.messages(3, None).await.unwrap();
    assert_eq!((rest.meta.returned, rest.meta.has_more), (2, false));
    let past = f.state.messages(9, Some(3)).await.unwrap();
    assert!(past.items.is_empty());
    assert_eq!((past.meta.total, past.meta.returned), (5, 0));
    assert_eq!(f.state.message_count().await.unwrap(), 5);
}

#[tokio::test]
async fn a_streamed_message_is_committed_whole_when_it_ends() {
    let f = start(SessionSup::new()).await;
    let s = &f.state;
    s.append_message(Message::new(Role::User, "question"))
        .await
        .unwrap();

    s.start_streaming("a1").await.unwrap();
    s.append_chunk("Hel").unwrap();
    s.append_chunk("lo").unwrap();
    let partial = s.streaming_message().await.unwrap().unwrap();
    assert_eq!(
        (partial.id.as_str(), partial.content.as_str()),
        ("a1", "Hello")
    );
    // Not committed yet.
    assert_eq!(s.message_count().await.unwrap(), 1);

    let message = s.end_streaming().await.unwrap();
    assert_eq!(
        (message.id.as_str(), message.role, message.content.as_str()),
        ("a1", Role::Assistant, "Hello")
    );
    let page = s.messages(0, None).await.unwrap();
    assert_eq!(page.items[1], message);
    assert_eq!(s.streaming_message().await.unwrap(), None);
}

#[tokio::test]
async fn appending_or_ending_when_nothing_streams_is_a_typed_error() {
    let f = start(SessionSup::new()).await;
    let s = &f.state;
    assert_eq!(s.append_chunk("x"), Err(StateError::NotStreaming));
    assert_eq!(s.end_streaming().await, Err(StateError::NotStreaming));

    s.start_streaming("a1").await.unwrap();
    assert_eq!(
        s.start_streaming("a2").await,
        Err(StateError::AlreadyStreaming { id: "a1".into() })
    );
    s.end_streaming().await.unwrap();
    assert_eq!(s.append_chunk("late"), Err(StateError::NotStreaming));
    assert_eq!(s.end_streaming().await, Err(StateError::NotStreaming));
    assert_eq!(
        s.message_count().await.unwrap(),
        1,
        "nothing extra committed"
    );
}

#[tokio::test]
async fn a_streamed_message_counts_against_the_message_cap() {
    let f = start_capped(2).await;
    let s = &f.state;
    for text in ["one", "two"] {
        s.append_message(Message::new(Role::User, text))
            .await
            .unwrap();
    }
    s.start_streaming("three").await.unwrap();
    s.append_chunk("three").unwrap();
    s.end_streaming().await.unwrap();

    let page = s.messages(0, None).await.unwrap();
    assert_eq!(contents(&page.items), ["two", "three"]);
    assert_eq!(page.meta.total, 2);
}

#[tokio::test]
async fn tool_calls_are_updated_by_id_and_unknown_ids_are_refused() {
    let f = start(SessionSup::new()).await;
    let s = &f.state;
    let call = ToolCall::new("read_file", json!({ "path": "src/lib.rs" }));
    let id = call.id.clone();
    s.push_tool_call(call).await.unwrap();

    s.update_tool_call(&id, ToolStatus::Completed, Some(json!("fn main() {}")))
        .await
        .unwrap();
    let calls = s.tool_calls().await.unwrap();
    assert_eq!(calls[0].status, ToolStatus::Completed);
    assert_eq!(calls[0].result, Some(json!("fn main() {}")));
    assert_eq!(calls[0].arguments, json!({ "path": "src/lib.rs" }));

    assert_eq!(
        s.update_tool_call("nope", ToolStatus::Failed, None).await,
        Err(StateError::Conversation(
            ConversationError::UnknownToolCall { id: "nope".into() }
        ))
    );
}

#[tokio::test]
async fn blank_prompts_are_ignored_and_todos_keep_their_ids() {
    let f = start(SessionSup::new()).await;
    let s = &f.state;
    assert!(!s.record_prompt("").await.unwrap());
    assert!(!s.record_prompt(" \t\n").await.unwrap());
    assert!(s.record_prompt("fix it").await.unwrap());
    assert_eq!(s.prompt_history().await.unwrap(), ["fix it"]);

    let mut first = Todo::new("write tests");
    first.status = TodoStatus::Completed;
    let todos = vec![first, Todo::new("ship")];
    s.set_todos(todos.clone()).await.unwrap();
    let back = s.todos().await.unwrap();
    assert_eq!(back, todos);
    assert_ne!(back[0].id, back[1].id);
}

#[tokio::test]
async fn a_restarted_state_keeps_every_committed_history_and_loses_the_streamed_message() {
    let f = start(SessionSup::new()).await;
    let mut events = f.supervisor.subscribe();
    let s = &f.state;
    s.append_message(Message::new(Role::User, "hi"))
        .await
        .unwrap();
    s.push_reasoning_step(ReasoningStep::new("think"))
        .await
        .unwrap();
    s.push_tool_call(ToolCall::new("ls", json!({})))
        .await
        .unwrap();
    s.set_todos(vec![Todo::new("t")]).await.unwrap();
    s.record_prompt("p").await.unwrap();
    s.record_file_read(FileOperation::new("a.rs"))
        .await
        .unwrap();
    s.record_file_write(FileOperation::new("b.rs"))
        .await
        .unwrap();
    s.start_streaming("open").await.unwrap();
    s.append_chunk("in flight").unwrap();
    let before = s.conversation().await.unwrap();

    let old = s.pid().unwrap();
    old.kill();
    within_a_minute(expect_restarted(&mut events, f.id, "state")).await;

    assert_ne!(s.pid(), Some(old));
    assert_eq!(s.conversation().await.unwrap(), before);
    assert!(s.file_was_read("a.rs").await.unwrap());
    // The streamed message was the process's: lost, and said so.
    assert_eq!(s.streaming_message().await.unwrap(), None);
    assert_eq!(s.append_chunk("more"), Err(StateError::NotStreaming));
    assert_eq!(s.end_streaming().await, Err(StateError::NotStreaming));
    // A new stream works.
    s.start_streaming("again").await.unwrap();
    s.append_chunk("ok").unwrap();
    assert_eq!(s.end_streaming().await.unwrap().content, "ok");
}

#[tokio::test]
async fn each_session_keeps_its_own_conversation() {
    let supervisor = SessionSupervisor::new();
    let (a, b) = (project(), project());
    let first = supervisor.create_session(a.path()).await.unwrap().id();
    let second = supervisor.create_session(b.path()).await.unwrap().id();
    supervisor
        .state(first)
        .unwrap()
        .append_message(Message::new(Role::User, "first only"))
        .await
        .unwrap();
    assert_eq!(
        supervisor.state(second).unwrap().message_count().await,
        Ok(0)
    );
    assert_eq!(
        supervisor.state(first).unwrap().message_count().await,
        Ok(1)
    );
}
