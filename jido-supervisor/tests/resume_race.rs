//! Issue 22 (found in review): a resume must read the session after it owns
//! it. A resume that read a snapshot, then waited (a slow store, a busy
//! runtime) while another resume of the same session ran it, appended to
//! it and stopped it again (saving it), went on to run what it had read —
//! without the other's acknowledged changes, which its own next save then
//! overwrote.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use jido_registry::MemoryCluster;
use jido_supervisor::store::{Durability, FileStore, SnapshotStore, StoreError};
use jido_supervisor::{
    Message, Persistence, ResumeError, Role, SessionId, SessionSupervisor, StartError,
};
use tokio::sync::Notify;

/// A store whose next read, once armed, reads and then waits until
/// released before it answers: the reader holds what was there when it
/// read.
struct SlowRead {
    inner: FileStore,
    armed: AtomicBool,
    /// Reads to let through, once armed, before the one that waits.
    skip: AtomicUsize,
    entered: Notify,
    release: Notify,
}

impl SlowRead {
    /// The read after the next `skip` ones waits.
    fn arm(&self, skip: usize) {
        self.skip.store(skip, Ordering::SeqCst);
        self.armed.store(true, Ordering::SeqCst);
    }
}

#[async_trait]
impl SnapshotStore for SlowRead {
    async fn put(&self, id: SessionId, bytes: Vec<u8>) -> Result<(), StoreError> {
        self.inner.put(id, bytes).await
    }
    async fn get(&self, id: SessionId, max: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let read = self.inner.get(id, max).await;
        let waits = self.armed.load(Ordering::SeqCst)
            && self
                .skip
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_err();
        if waits && self.armed.swap(false, Ordering::SeqCst) {
            self.entered.notify_one();
            self.release.notified().await;
        }
        read
    }
    async fn list(&self) -> Result<Vec<SessionId>, StoreError> {
        self.inner.list().await
    }
    async fn delete(&self, id: SessionId) -> Result<(), StoreError> {
        self.inner.delete(id).await
    }
}

async fn contents(supervisor: &SessionSupervisor, id: SessionId) -> Vec<String> {
    let page = supervisor
        .state(id)
        .unwrap()
        .messages(0, None)
        .await
        .unwrap();
    page.items.into_iter().map(|m| m.content).collect()
}

/// Appends a user message `text` to the session `id`.
async fn append(supervisor: &SessionSupervisor, id: SessionId, text: &str) {
    supervisor
        .state(id)
        .unwrap()
        .append_message(Message::new(Role::User, text))
        .await
        .unwrap();
}

/// A session opened by `supervisor`, holding the message "first", stopped
/// (and so saved); its id and project directory.
async fn saved(supervisor: &SessionSupervisor) -> (SessionId, tempfile::TempDir) {
    let project = tempfile::tempdir().unwrap();
    let id = supervisor
        .create_session(project.path())
        .await
        .unwrap()
        .id();
    append(supervisor, id, "first").await;
    supervisor.stop_session(id).await.unwrap();
    (id, project)
}

/// One resume reads through `late` and waits; meanwhile `other` resumes
/// the session, acknowledges a change, renames it and stops it (saving
/// it); then the first goes on. It must run the session as `other` saved
/// it.
async fn overtaken_resume(store: &SlowRead, late: &SessionSupervisor, other: &SessionSupervisor) {
    let (id, _project) = saved(other).await;

    // The first resume reads the snapshot ("first"), then waits.
    store.arm(0);
    let waiting = tokio::spawn({
        let late = late.clone();
        async move { late.resume(id).await }
    });
    store.entered.notified().await;

    // Meanwhile another resume runs the session, which acknowledges a
    // change, and stops it: saved with both messages.
    other.resume(id).await.unwrap();
    append(other, id, "second").await;
    other.rename_session(id, "renamed").await.unwrap();
    other.stop_session(id).await.unwrap();

    // The first resume goes on: the session it runs is the one saved last.
    store.release.notify_one();
    waiting.await.unwrap().unwrap();
    assert_eq!(contents(late, id).await, ["first", "second"]);
    // Under the record saved last, in the registry and in the tree.
    assert_eq!(late.registry().lookup(id).unwrap().name(), "renamed");
    let manager = late.manager(id).unwrap();
    assert_eq!(manager.session().await.unwrap().name(), "renamed");

    // And what it saves keeps both.
    late.stop_session(id).await.unwrap();
    other.resume(id).await.unwrap();
    assert_eq!(contents(other, id).await, ["first", "second"]);
    other.stop_session(id).await.unwrap();
}

fn slow_store(dir: &std::path::Path) -> Arc<SlowRead> {
    Arc::new(SlowRead {
        inner: FileStore::new(dir).unwrap(),
        armed: AtomicBool::new(false),
        skip: AtomicUsize::new(0),
        entered: Notify::new(),
        release: Notify::new(),
    })
}

fn on(store: &Arc<SlowRead>, cluster: Option<&MemoryCluster>) -> SessionSupervisor {
    let builder = SessionSupervisor::builder()
        .persistence(Persistence::from_store(store.clone()))
        .durability(Durability::OnStop)
        .save_on_stop(true);
    match cluster {
        Some(cluster) => builder.backend(cluster.join()).build(),
        None => builder.build(),
    }
}

#[tokio::test]
async fn a_resume_overtaken_by_another_on_the_same_supervisor_runs_what_that_one_saved() {
    let snapshots = tempfile::tempdir().unwrap();
    let store = slow_store(snapshots.path());
    let supervisor = on(&store, None);
    overtaken_resume(&store, &supervisor, &supervisor).await;
    supervisor.shutdown().await;
}

#[tokio::test]
async fn a_resume_overtaken_by_another_node_runs_what_that_node_saved() {
    let snapshots = tempfile::tempdir().unwrap();
    let store = slow_store(snapshots.path());
    let cluster = MemoryCluster::new();
    let (late, other) = (on(&store, Some(&cluster)), on(&store, Some(&cluster)));
    overtaken_resume(&store, &late, &other).await;
    late.shutdown().await;
    other.shutdown().await;
}

/// A saved session with one message, and a supervisor on `store`.
async fn saved_session(store: &Arc<SlowRead>) -> (SessionSupervisor, SessionId, tempfile::TempDir) {
    let supervisor = on(store, None);
    let (id, project) = saved(&supervisor).await;
    (supervisor, id, project)
}

/// Review: a rename answered `Ok` while the resume reads as the session's
/// owner is not lost when what it read replaces the registered record.
#[tokio::test]
async fn a_rename_made_while_the_owner_reads_is_kept() {
    let snapshots = tempfile::tempdir().unwrap();
    let store = slow_store(snapshots.path());
    let (supervisor, id, _project) = saved_session(&store).await;
    // The first read passes; the owner's read waits.
    store.arm(1);
    let resuming = tokio::spawn({
        let supervisor = supervisor.clone();
        async move { supervisor.resume(id).await }
    });
    store.entered.notified().await;
    supervisor
        .rename_session(id, "renamed meanwhile")
        .await
        .unwrap();
    store.release.notify_one();
    resuming.await.unwrap().unwrap();
    assert_eq!(
        supervisor.registry().lookup(id).unwrap().name(),
        "renamed meanwhile"
    );
    let manager = supervisor.manager(id).unwrap();
    assert_eq!(manager.session().await.unwrap().name(), "renamed meanwhile");
    assert_eq!(contents(&supervisor, id).await, ["first"]);
    supervisor.shutdown().await;
}

/// Review: the owner's read runs within the start timeout (a stop or a
/// shutdown waits for a start in flight), and a resume that gave up or was
/// dropped during it leaves nothing registered: the session resumes later.
#[tokio::test]
async fn an_owners_read_that_hangs_times_out_and_a_dropped_one_leaves_nothing() {
    let snapshots = tempfile::tempdir().unwrap();
    let store = slow_store(snapshots.path());
    let (_first, id, _project) = saved_session(&store).await;
    let supervisor = SessionSupervisor::builder()
        .persistence(Persistence::from_store(store.clone()))
        .durability(Durability::OnStop)
        .start_timeout(Duration::from_millis(50))
        .build();

    store.arm(1);
    let timed_out = supervisor.resume(id).await;
    assert!(
        matches!(
            timed_out,
            Err(ResumeError::Start(StartError::Timeout { .. }))
        ),
        "{timed_out:?}"
    );
    assert!(!supervisor.registry().contains(id));
    // It did wait in the owner's read (and left the permit of its entry).
    store.entered.notified().await;

    // Dropped while its owner's read waits.
    store.arm(1);
    let resuming = tokio::spawn({
        let supervisor = supervisor.clone();
        async move { supervisor.resume(id).await }
    });
    store.entered.notified().await;
    resuming.abort();
    assert!(resuming.await.unwrap_err().is_cancelled());
    assert!(!supervisor.registry().contains(id));

    supervisor.resume(id).await.unwrap();
    assert_eq!(contents(&supervisor, id).await, ["first"]);
    supervisor.shutdown().await;
}
