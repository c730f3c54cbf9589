//! Issue 11 through the supervisor: save a running session, save on stop
//! (best effort, reported), list and list what is resumable, resume with the
//! conversation (save → resume → same State reads, as a property), every
//! refusal of a resume keeping the snapshot, delete and cleanup.

use std::fs;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use jido_supervisor::session::{ReasoningStep, Todo, ToolCall};
use jido_supervisor::store::{FileStore, LoadError, SnapshotStore, StoreError};
use jido_supervisor::{
    EventKind, Message, PersistError, Persistence, RegistryError, ResumeError, Role,
    SaveSessionError, SessionId, SessionSupervisor, StartError,
};
use jido_testkit::SessionSupervisorStub;
use proptest::prelude::*;
use serde_json::json;
use tempfile::TempDir;
use tokio::sync::Notify;

struct Fixture {
    supervisor: SessionSupervisor,
    snapshots: TempDir,
    root: TempDir,
}

fn fixture(save_on_stop: bool) -> Fixture {
    let snapshots = tempfile::tempdir().unwrap();
    let supervisor = SessionSupervisor::builder()
        .persistence(Persistence::in_dir(snapshots.path()).unwrap())
        .save_on_stop(save_on_stop)
        .build();
    Fixture {
        supervisor,
        snapshots,
        root: tempfile::tempdir().unwrap(),
    }
}

impl Fixture {
    fn project(&self, name: &str) -> std::path::PathBuf {
        let path = self.root.path().join(name);
        fs::create_dir_all(&path).unwrap();
        path
    }

    async fn open(&self, name: &str) -> SessionId {
        let path = self.project(name);
        self.supervisor.create_session(path).await.unwrap().id()
    }

    fn snapshot_file(&self, id: SessionId) -> std::path::PathBuf {
        FileStore::new(self.snapshots.path()).unwrap().path_of(id)
    }
}

async fn say(supervisor: &SessionSupervisor, id: SessionId, text: &str) {
    supervisor
        .state(id)
        .unwrap()
        .append_message(Message::new(Role::User, text))
        .await
        .unwrap();
}

#[tokio::test]
async fn saving_on_stop_is_reported_before_the_end_and_resuming_restores_the_conversation() {
    let f = fixture(true);
    let mut events = f.supervisor.subscribe();
    let id = f.open("alpha").await;
    say(&f.supervisor, id, "first").await;
    say(&f.supervisor, id, "second").await;
    let before = f
        .supervisor
        .state(id)
        .unwrap()
        .conversation()
        .await
        .unwrap();

    f.supervisor.stop_session(id).await.unwrap();
    let kinds: Vec<EventKind> = std::iter::from_fn(|| events.try_recv().ok())
        .map(|e| e.kind)
        .collect();
    assert!(matches!(
        kinds.as_slice(),
        [
            EventKind::Started,
            EventKind::Saved,
            EventKind::Stopped { .. }
        ]
    ));
    assert!(f.snapshot_file(id).exists());
    let resumable = f.supervisor.list_resumable().await.unwrap();
    assert_eq!(resumable.len(), 1);
    assert_eq!((resumable[0].id, resumable[0].messages), (id, 2));

    f.supervisor.resume(id).await.unwrap();
    let state = f.supervisor.state(id).unwrap();
    assert_eq!(state.conversation().await.unwrap(), before);
    assert!(
        f.snapshot_file(id).exists(),
        "a resumed session keeps its snapshot: it is the checkpoint its journal goes on from"
    );
    assert_eq!(
        f.supervisor.resume(id).await.unwrap_err(),
        ResumeError::AlreadyOpen { id }
    );
}

/// A store whose puts fail.
struct Broken;

#[async_trait]
impl SnapshotStore for Broken {
    async fn put(&self, _: SessionId, _: Vec<u8>) -> Result<(), StoreError> {
        Err(StoreError::Timeout { operation: "put" })
    }
    async fn get(&self, _: SessionId, _: u64) -> Result<Option<Vec<u8>>, StoreError> {
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
async fn a_failed_save_on_stop_is_reported_and_the_stop_still_happens() {
    let supervisor = SessionSupervisor::builder()
        .persistence(Persistence::new(Broken))
        .save_on_stop(true)
        .build();
    let mut events = supervisor.subscribe();
    let dir = tempfile::tempdir().unwrap();
    let id = supervisor.create_session(dir.path()).await.unwrap().id();

    supervisor.stop_session(id).await.unwrap();

    assert_eq!(events.recv().await.unwrap().kind, EventKind::Started);
    assert!(matches!(
        events.recv().await.unwrap().kind,
        EventKind::SaveFailed { error } if error.to_string().contains("timed out")
    ));
    assert!(matches!(
        events.recv().await.unwrap().kind,
        EventKind::Stopped { .. }
    ));
    assert!(!supervisor.session_running(id));
    assert_eq!(supervisor.registry().count(), 0);
}

/// A store whose puts wait until released.
struct Gate {
    inner: FileStore,
    entered: Notify,
    release: Notify,
}

#[async_trait]
impl SnapshotStore for Gate {
    async fn put(&self, id: SessionId, bytes: Vec<u8>) -> Result<(), StoreError> {
        self.entered.notify_one();
        self.release.notified().await;
        self.inner.put(id, bytes).await
    }
    async fn get(&self, id: SessionId, max: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(id, max).await
    }
    async fn list(&self) -> Result<Vec<SessionId>, StoreError> {
        self.inner.list().await
    }
    async fn delete(&self, id: SessionId) -> Result<(), StoreError> {
        self.inner.delete(id).await
    }
}

#[tokio::test]
async fn a_second_save_of_a_session_while_the_first_runs_is_refused() {
    let snapshots = tempfile::tempdir().unwrap();
    let gate = Arc::new(Gate {
        inner: FileStore::new(snapshots.path()).unwrap(),
        entered: Notify::new(),
        release: Notify::new(),
    });
    let supervisor = SessionSupervisor::builder()
        .persistence(Persistence::from_store(gate.clone()))
        .build();
    let dir = tempfile::tempdir().unwrap();
    let id = supervisor.create_session(dir.path()).await.unwrap().id();

    let first = tokio::spawn({
        let supervisor = supervisor.clone();
        async move { supervisor.save(id).await }
    });
    gate.entered.notified().await;
    assert_eq!(
        supervisor.save(id).await,
        Err(SaveSessionError::InProgress { id })
    );
    gate.release.notify_one();
    first.await.unwrap().unwrap();
    // The lock went with the first save.
    let again = tokio::spawn({
        let supervisor = supervisor.clone();
        async move { supervisor.save(id).await }
    });
    gate.entered.notified().await;
    gate.release.notify_one();
    again.await.unwrap().unwrap();
}

/// Found by review: a handle's `wait` that sees the tree end while its stop
/// saves it reports the end first; the stop still saves (its `Saved` then
/// follows the `Stopped`) and returns, and the supervisor is consistent
/// (in debug builds, its lifecycle check accepts the late `Saved`).
#[tokio::test]
async fn a_handle_that_sees_the_end_during_a_save_on_stop_leaves_the_supervisor_consistent() {
    let snapshots = tempfile::tempdir().unwrap();
    let gate = Arc::new(Gate {
        inner: FileStore::new(snapshots.path()).unwrap(),
        entered: Notify::new(),
        release: Notify::new(),
    });
    let supervisor = SessionSupervisor::builder()
        .persistence(Persistence::from_store(gate.clone()))
        .save_on_stop(true)
        .build();
    let dir = tempfile::tempdir().unwrap();
    let handle = supervisor.create_session(dir.path()).await.unwrap();
    let id = handle.id();
    let mut events = supervisor.subscribe();

    let waiter = tokio::spawn(async move { handle.wait().await });
    let stop = tokio::spawn({
        let supervisor = supervisor.clone();
        async move { supervisor.stop_session(id).await }
    });
    gate.entered.notified().await;
    // The tree has ended; the handle reports it while the save waits.
    waiter.await.unwrap();
    assert!(events.recv().await.unwrap().kind.is_end());
    assert!(supervisor.registry().lookup(id).is_none());
    gate.release.notify_one();
    assert!(stop.await.unwrap().is_ok());
    assert_eq!(events.recv().await.unwrap().kind, EventKind::Saved);
    assert_eq!(
        supervisor.list_persisted().await.unwrap().snapshots[0].id,
        id
    );
}

#[tokio::test]
async fn open_sessions_and_open_projects_are_not_resumable() {
    let f = fixture(false);
    let running = f.open("running").await;
    f.supervisor.save(running).await.unwrap();
    let closed = f.open("taken").await;
    say(&f.supervisor, closed, "kept").await;
    f.supervisor.save(closed).await.unwrap();
    f.supervisor.stop_session(closed).await.unwrap();

    let listed = f.supervisor.list_persisted().await.unwrap();
    assert_eq!(listed.snapshots.len(), 2);
    let resumable: Vec<SessionId> = f
        .supervisor
        .list_resumable()
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(resumable, [closed]);

    // The project is taken by a new session: not resumable, and a resume
    // is refused with the snapshot kept.
    let newcomer = f.open("taken").await;
    assert!(f.supervisor.list_resumable().await.unwrap().is_empty());
    assert!(matches!(
        f.supervisor.resume(closed).await,
        Err(ResumeError::Start(StartError::Registry(RegistryError::DuplicateProject { owner, .. }))) if owner == newcomer
    ));
    assert!(f.snapshot_file(closed).exists());
    let ghost = SessionId::new();
    assert_eq!(
        f.supervisor.save(ghost).await.unwrap_err(),
        SaveSessionError::NotFound { id: ghost }
    );
}

#[tokio::test]
async fn every_refusal_of_a_resume_keeps_the_snapshot() {
    let f = fixture(true);
    let unconfigured = SessionSupervisor::new();
    assert_eq!(
        unconfigured.resume(SessionId::new()).await.unwrap_err(),
        ResumeError::NotConfigured
    );
    assert_eq!(
        unconfigured.list_persisted().await.unwrap_err(),
        PersistError::NotConfigured
    );
    let nobody = SessionId::new();
    assert_eq!(
        f.supervisor.resume(nobody).await.unwrap_err(),
        ResumeError::Load(LoadError::NotFound { id: nobody })
    );

    // Gone.
    let gone = f.open("gone").await;
    f.supervisor.stop_session(gone).await.unwrap();
    let gone_path = f.root.path().join("gone").canonicalize().unwrap();
    fs::remove_dir(&gone_path).unwrap();
    assert_eq!(
        f.supervisor.resume(gone).await.unwrap_err(),
        ResumeError::ProjectMissing {
            path: gone_path.clone()
        }
    );
    // A file where the directory was.
    fs::write(&gone_path, "x").unwrap();
    assert_eq!(
        f.supervisor.resume(gone).await.unwrap_err(),
        ResumeError::ProjectNotADirectory { path: gone_path }
    );
    assert!(f.snapshot_file(gone).exists());

    // Another directory at the same path (the old one still exists
    // elsewhere, so its inode cannot be reused).
    let moved = f.open("moved").await;
    f.supervisor.stop_session(moved).await.unwrap();
    let path = f.root.path().join("moved").canonicalize().unwrap();
    fs::rename(&path, f.root.path().join("moved-away")).unwrap();
    fs::create_dir(&path).unwrap();
    assert!(matches!(
        f.supervisor.resume(moved).await.unwrap_err(),
        ResumeError::ProjectReplaced { path: p, saved, found } if p == path && saved != found
    ));
    assert!(f.snapshot_file(moved).exists());
    assert_eq!(f.supervisor.registry().count(), 0);
}

#[tokio::test]
async fn a_tree_that_cannot_take_the_conversation_is_stopped_and_the_snapshot_kept() {
    let snapshots = tempfile::tempdir().unwrap();
    let persistence = Persistence::in_dir(snapshots.path()).unwrap();
    let real = SessionSupervisor::builder()
        .persistence(persistence.clone())
        .save_on_stop(true)
        .build();
    let dir = tempfile::tempdir().unwrap();
    let id = real.create_session(dir.path()).await.unwrap().id();
    say(&real, id, "hello").await;
    real.stop_session(id).await.unwrap();

    let stubbed = SessionSupervisor::builder()
        .session_child(SessionSupervisorStub::new())
        .persistence(persistence)
        .build();
    assert_eq!(
        stubbed.resume(id).await.unwrap_err(),
        ResumeError::RestoreFailed { id }
    );
    assert!(!stubbed.session_running(id));
    assert_eq!(stubbed.registry().count(), 0);
    assert_eq!(
        stubbed.list_persisted().await.unwrap().snapshots[0].messages,
        1
    );
}

#[tokio::test]
async fn snapshots_are_deleted_and_cleaned_up_through_the_supervisor() {
    let f = fixture(true);
    let a = f.open("a").await;
    let b = f.open("b").await;
    f.supervisor.stop_session(a).await.unwrap();
    f.supervisor.stop_session(b).await.unwrap();

    f.supervisor.delete_persisted(a).await.unwrap();
    f.supervisor.delete_persisted(a).await.unwrap();
    // Issue 24: a maximum age of zero is refused, and deletes nothing.
    assert_eq!(
        f.supervisor.cleanup(Duration::ZERO).await,
        Err(PersistError::ZeroMaxAge)
    );
    assert_eq!(f.supervisor.list_persisted().await.unwrap().total, 1);
    let report = f.supervisor.cleanup(Duration::from_nanos(1)).await.unwrap();
    assert_eq!(report.deleted, [b]);
    assert!(
        f.supervisor
            .list_persisted()
            .await
            .unwrap()
            .snapshots
            .is_empty()
    );
}

#[derive(Debug, Clone)]
enum Change {
    Say(String),
    Reason(String),
    Tool(String),
    Todos(u8),
    Prompt(String),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        4 => "[a-z ]{0,10}".prop_map(Change::Say),
        1 => "[a-z]{0,6}".prop_map(Change::Reason),
        1 => "[a-z]{1,6}".prop_map(Change::Tool),
        1 => (0_u8..4).prop_map(Change::Todos),
        1 => "[a-z ]{0,6}".prop_map(Change::Prompt),
    ]
}

proptest! {
    #![proptest_config(jido_testkit::strategies::cases_from_env(32))]

    /// Save → resume → the same State reads, whatever the conversation.
    #[test]
    fn a_resumed_session_reads_back_what_was_saved(changes in prop::collection::vec(change(), 0..30)) {
        let runtime = jido_testkit::multi_thread_runtime(2).unwrap();
        runtime.block_on(async {
            let f = fixture(true);
            let id = f.open("p").await;
            let state = f.supervisor.state(id).unwrap();
            for change in &changes {
                match change {
                    Change::Say(text) => state.append_message(Message::new(Role::User, text.clone())).await.unwrap(),
                    Change::Reason(text) => state.push_reasoning_step(ReasoningStep::new(text.clone())).await.unwrap(),
                    Change::Tool(name) => state.push_tool_call(ToolCall::new(name.clone(), json!({"n": name}))).await.unwrap(),
                    Change::Todos(n) => state.set_todos((0..*n).map(|i| Todo::new(format!("t{i}"))).collect()).await.unwrap(),
                    Change::Prompt(text) => { state.record_prompt(text.clone()).await.unwrap(); }
                }
            }
            let before = state.conversation().await.unwrap();
            let messages = state.messages(0, None).await.unwrap();
            f.supervisor.stop_session(id).await.unwrap();
            f.supervisor.resume(id).await.unwrap();
            let state = f.supervisor.state(id).unwrap();
            prop_assert_eq!(state.conversation().await.unwrap(), before);
            prop_assert_eq!(state.messages(0, None).await.unwrap(), messages);
            f.supervisor.shutdown().await;
            Ok(())
        })?;
    }
}

#[derive(Debug, Clone)]
enum Race {
    Stop(usize),
    StopAbandoned(usize),
    Kill(usize),
    Shutdown,
}

fn race() -> impl Strategy<Value = Race> {
    prop_oneof![
        4 => (0_usize..3).prop_map(Race::Stop),
        2 => (0_usize..3).prop_map(Race::StopAbandoned),
        1 => (0_usize..3).prop_map(Race::Kill),
        1 => Just(Race::Shutdown),
    ]
}

proptest! {
    #![proptest_config(jido_testkit::strategies::cases_from_env(32))]

    /// Stops racing stops, kills and a shutdown, with save on stop: per
    /// session the events stay a valid lifecycle — `Started`, at most one
    /// save report and only before a `Stopped`, exactly one end, last — and
    /// nothing is left registered.
    #[test]
    fn saves_on_stop_keep_every_lifecycle_valid_under_races(
        races in prop::collection::vec(race(), 1..10),
        workers in 2_usize..=3,
    ) {
        let runtime = jido_testkit::multi_thread_runtime(workers).unwrap();
        runtime.block_on(async {
            let f = fixture(true);
            let mut events = f.supervisor.subscribe();
            let mut ids = Vec::new();
            for n in 0..3 {
                ids.push(f.open(&format!("p{n}")).await);
            }
            let tasks: Vec<_> = races
                .iter()
                .cloned()
                .map(|race| {
                    let supervisor = f.supervisor.clone();
                    let ids = ids.clone();
                    tokio::spawn(async move {
                        match race {
                            Race::Stop(n) => {
                                let _ = supervisor.stop_session(ids[n]).await;
                            }
                            Race::StopAbandoned(n) => {
                                let stop = supervisor.stop_session(ids[n]);
                                let _ = tokio::time::timeout(Duration::ZERO, stop).await;
                            }
                            Race::Kill(n) => {
                                if let Some(handle) = supervisor.find_session(ids[n]) {
                                    handle.pid().kill();
                                }
                            }
                            Race::Shutdown => supervisor.shutdown().await,
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            f.supervisor.shutdown().await;
            f.supervisor.settle().await;
            prop_assert_eq!(f.supervisor.registry().count(), 0);

            let mut seen: std::collections::HashMap<SessionId, Vec<EventKind>> = Default::default();
            while let Ok(event) = events.try_recv() {
                seen.entry(event.session_id).or_default().push(event.kind);
            }
            for id in &ids {
                let kinds = &seen[id];
                prop_assert_eq!(&kinds[0], &EventKind::Started, "{:?}", kinds);
                prop_assert!(kinds.last().unwrap().is_end(), "{:?}", kinds);
                prop_assert_eq!(kinds.iter().filter(|k| k.is_end()).count(), 1, "{:?}", kinds);
                let saves: Vec<usize> = kinds
                    .iter()
                    .enumerate()
                    .filter(|(_, k)| matches!(k, EventKind::Saved | EventKind::SaveFailed { .. }))
                    .map(|(at, _)| at)
                    .collect();
                prop_assert!(saves.len() <= 1, "{:?}", kinds);
                if let Some(&at) = saves.first() {
                    prop_assert_eq!(at, kinds.len() - 2, "{:?}", kinds);
                    prop_assert!(matches!(kinds.last(), Some(EventKind::Stopped { .. })), "{:?}", kinds);
                }
            }
            Ok(())
        })?;
    }
}

#[tokio::test]
async fn a_state_ref_taken_before_a_resume_streams_into_the_resumed_session() {
    let f = fixture(true);
    let id = f.open("streams").await;
    let old_ref = f.supervisor.state(id).unwrap();
    f.supervisor.stop_session(id).await.unwrap();
    f.supervisor.resume(id).await.unwrap();

    // The reference follows the session by id: its streaming check too.
    old_ref.start_streaming("after-resume").await.unwrap();
    old_ref.append_chunk("still here").unwrap();
    assert_eq!(old_ref.end_streaming().await.unwrap().content, "still here");
}

/// Issue 24: a todo's `active_form` is kept on save → resume, as are the
/// histories cleared and the prompt history replaced.
#[tokio::test]
async fn a_todo_s_active_form_and_the_replaced_histories_survive_save_and_resume() {
    let f = fixture(true);
    let id = f.open("forms").await;
    let state = f.supervisor.state(id).unwrap();
    let todo = Todo::new("Run the tests").with_active_form("Running the tests");
    state.set_todos(vec![todo.clone()]).await.unwrap();
    say(&f.supervisor, id, "to be cleared").await;
    state.clear_messages().await.unwrap();
    state
        .push_reasoning_step(ReasoningStep::new("to be cleared"))
        .await
        .unwrap();
    state.clear_reasoning_steps().await.unwrap();
    state
        .set_prompt_history(vec!["one".into(), "two".into()])
        .await
        .unwrap();
    f.supervisor.stop_session(id).await.unwrap();

    f.supervisor.resume(id).await.unwrap();
    let state = f.supervisor.state(id).unwrap();
    let todos = state.todos().await.unwrap();
    assert_eq!(todos, [todo]);
    assert_eq!(todos[0].active_form.as_deref(), Some("Running the tests"));
    assert_eq!(state.message_count().await.unwrap(), 0);
    assert!(state.reasoning_steps().await.unwrap().is_empty());
    assert_eq!(state.prompt_history().await.unwrap(), ["one", "two"]);
}

/// Issue 24: past the store's cap, each save on stop deletes the sessions
/// closed longest ago — never one that runs (here, a resumed one whose
/// snapshot is the oldest).
#[tokio::test]
async fn past_the_cap_a_save_on_stop_deletes_the_oldest_closed_never_a_running_one() {
    let snapshots = tempfile::tempdir().unwrap();
    let supervisor = SessionSupervisor::builder()
        .persistence(
            Persistence::in_dir(snapshots.path())
                .unwrap()
                .keep_at_most(std::num::NonZeroUsize::new(2).unwrap()),
        )
        .save_on_stop(true)
        .build();
    let f = Fixture {
        supervisor,
        snapshots,
        root: tempfile::tempdir().unwrap(),
    };
    let mut ids = Vec::new();
    for name in ["a", "b", "c"] {
        let id = f.open(name).await;
        f.supervisor.stop_session(id).await.unwrap();
        ids.push(id);
    }
    let saved = persisted_ids(&f.supervisor).await;
    assert_eq!(saved, [ids[2], ids[1]], "a, the oldest, went");

    // b runs again: its snapshot, now the oldest, is spared.
    f.supervisor.resume(ids[1]).await.unwrap();
    let d = f.open("d").await;
    f.supervisor.stop_session(d).await.unwrap();
    let saved = persisted_ids(&f.supervisor).await;
    assert!(saved.contains(&ids[1]), "the running b kept: {saved:?}");
    assert!(saved.contains(&d));
    assert!(!saved.contains(&ids[2]), "c, the oldest closed, went");
    let page = f.supervisor.list_resumable_page(0, 10).await.unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.snapshots[0].id, d);
}

/// The ids of the saved sessions, as listed (newest closed first).
async fn persisted_ids(supervisor: &SessionSupervisor) -> Vec<SessionId> {
    let listing = supervisor.list_persisted().await.unwrap();
    listing.snapshots.iter().map(|info| info.id).collect()
}
