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
        second.resume(id).await.unwrap();
        assert_eq!(
            second.state(id).unwrap().conversation().await.unwrap(),
            before
        );
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
    second.resume(id).await.unwrap();
    assert_eq!(
        second.state(id).unwrap().conversation().await.unwrap(),
        before
    );
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
    first.resume(id).await.unwrap();
    assert_eq!(
        first.state(id).unwrap().conversation().await.unwrap(),
        before
    );
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
    for i in 0..1_200 {
        state
            .append_message(Message::new(Role::User, format!("{i}")))
            .await
            .unwrap();
    }
    let before = state.conversation().await.unwrap();
    drop(first);

    let second = with_limits(5_000);
    second.resume(id).await.unwrap();
    let after = second.state(id).unwrap().conversation().await.unwrap();
    assert_eq!(after.message_count(), 1_200);
    assert_eq!(after, before);
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
        state
            .append_message(Message::new(Role::User, format!("{i}")))
            .await
            .unwrap();
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
    second.resume(id).await.unwrap();
    assert_eq!(
        second.state(id).unwrap().conversation().await.unwrap(),
        before
    );
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
    second.resume(id).await.unwrap();
    assert_eq!(
        second.state(id).unwrap().conversation().await.unwrap(),
        before
    );
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
    second.resume(id).await.unwrap();
    assert_eq!(
        second.state(id).unwrap().conversation().await.unwrap(),
        before
    );
}
