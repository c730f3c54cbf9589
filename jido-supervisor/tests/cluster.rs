//! Supervisors sharing one admission through a `RegistryBackend`
//! (in memory here; PostgreSQL in `jido-cluster`'s tests): one project
//! once and one limit across them, claims given up on every way out, and a
//! lost lease stops the node's sessions.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use common::{next_kind, project, projects, session};
use futures_util::future::join_all;
use jido_supervisor::cluster::{
    BackendError, Claim, Fence, Lease, LeaseLost, MemoryCluster, MemoryNode, NodeId, Placement,
    RegistryBackend,
};
use jido_supervisor::{
    EventKind, ExitReason, RegistryError, Session, SessionId, SessionSupervisor, StartError, Term,
};
use jido_testkit::{Script, SessionSupervisorStub};
use tokio::sync::watch;

/// A supervisor on a new node of `cluster` (limit 3), and the node.
fn joined(
    cluster: &MemoryCluster,
    stub: &SessionSupervisorStub,
) -> (MemoryNode, SessionSupervisor) {
    let node = cluster.join();
    let supervisor = SessionSupervisor::builder()
        .backend(node.clone())
        .session_child(stub.clone())
        .max_sessions(3)
        .build();
    (node, supervisor)
}

fn node_of(cluster: &MemoryCluster, stub: &SessionSupervisorStub) -> SessionSupervisor {
    joined(cluster, stub).1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_concurrent_starts_of_one_project_on_two_nodes_exactly_one_wins() {
    let cluster = MemoryCluster::new();
    let stub = SessionSupervisorStub::new();
    let nodes = [node_of(&cluster, &stub), node_of(&cluster, &stub)];
    let dir = project();
    let starts = (0..200).map(|i| {
        let node = nodes[i % 2].clone();
        let session = session(&dir);
        tokio::spawn(async move { node.start_session(session).await })
    });
    let results: Vec<_> = join_all(starts)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1);
    // Each loser was refused for the project (naming the winner, or a
    // start on its own node that was then in flight).
    for result in &results {
        if let Err(error) = result {
            assert!(
                matches!(
                    error,
                    StartError::Registry(RegistryError::DuplicateProject { .. })
                ),
                "{error:?}"
            );
        }
    }
    let placements = nodes[0].list_cluster().await.unwrap();
    assert_eq!(placements.len(), 1);
    assert_eq!(placements[0].id, winners[0].id());
}

#[tokio::test]
async fn the_limit_holds_across_nodes() {
    let cluster = MemoryCluster::new();
    let stub = SessionSupervisorStub::new();
    let (a, b) = (node_of(&cluster, &stub), node_of(&cluster, &stub));
    let dirs = projects(4);
    a.create_session(dirs[0].path()).await.unwrap();
    b.create_session(dirs[1].path()).await.unwrap();
    a.create_session(dirs[2].path()).await.unwrap();
    assert_eq!(
        b.create_session(dirs[3].path()).await.unwrap_err(),
        StartError::Registry(RegistryError::LimitReached { count: 3, limit: 3 })
    );
    assert_eq!(b.count_children(), 1, "the refused start left nothing here");
}

#[tokio::test]
async fn a_stopped_session_frees_its_project_for_another_node() {
    let cluster = MemoryCluster::new();
    let stub = SessionSupervisorStub::new();
    let (a, b) = (node_of(&cluster, &stub), node_of(&cluster, &stub));
    let dir = project();
    let id = a.create_session(dir.path()).await.unwrap().id();
    let placement = b.locate(id).await.unwrap().unwrap();
    assert_eq!(placement.node, a.node());
    assert_eq!(placement.project, dir.path().canonicalize().unwrap());

    a.stop_session(id).await.unwrap();
    assert_eq!(b.locate(id).await.unwrap(), None);
    let moved = b.create_session(dir.path()).await.unwrap();
    assert_eq!(a.locate(moved.id()).await.unwrap().unwrap().node, b.node());
}

#[tokio::test]
async fn a_failed_start_gives_its_claim_up() {
    let cluster = MemoryCluster::new();
    let stub = SessionSupervisorStub::new();
    let (a, b) = (node_of(&cluster, &stub), node_of(&cluster, &stub));
    let dir = project();
    stub.script_next(Script::Fail(Term::msg("no")));
    assert!(matches!(
        a.create_session(dir.path()).await,
        Err(StartError::Child(_))
    ));
    assert!(a.list_cluster().await.unwrap().is_empty());
    b.create_session(dir.path()).await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn a_dropped_start_gives_its_claim_up() {
    let cluster = MemoryCluster::new();
    let stub = SessionSupervisorStub::new();
    let a = node_of(&cluster, &stub);
    let dir = project();
    stub.script_next(Script::Hang);
    let start = a.create_session(dir.path());
    let mut start = Box::pin(start);
    // Runs until the child hangs: the claim is made by then.
    assert!(common::poll_once(start.as_mut()).is_pending());
    assert_eq!(a.list_cluster().await.unwrap().len(), 1);
    drop(start);
    // The release runs on a task of this (single-threaded) runtime: one
    // yield lets it run.
    tokio::task::yield_now().await;
    assert!(a.list_cluster().await.unwrap().is_empty());
    assert_eq!(a.count_children(), 0);
}

#[tokio::test]
async fn a_crashed_session_gives_its_claim_up() {
    let cluster = MemoryCluster::new();
    let stub = SessionSupervisorStub::new();
    let (a, b) = (node_of(&cluster, &stub), node_of(&cluster, &stub));
    let dir = project();
    let id = a.create_session(dir.path()).await.unwrap().id();
    stub.crash(id, ExitReason::error("boom"));
    a.settle().await;
    assert_eq!(b.locate(id).await.unwrap(), None);
    b.create_session(dir.path()).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_lost_lease_stops_the_nodes_sessions_and_frees_their_projects() {
    let cluster = MemoryCluster::new();
    let stub = SessionSupervisorStub::new();
    let (node_a, a) = joined(&cluster, &stub);
    let b = node_of(&cluster, &stub);
    let mut events = a.subscribe();
    let dirs = projects(2);
    let first = a.create_session(dirs[0].path()).await.unwrap().id();
    let second = a.create_session(dirs[1].path()).await.unwrap().id();
    assert_eq!(next_kind(&mut events, first).await, EventKind::Started);
    assert_eq!(next_kind(&mut events, second).await, EventKind::Started);

    node_a.lose_lease();

    // Another node may open the projects at once ...
    b.create_session(dirs[0].path()).await.unwrap();
    // ... and this node stops the sessions it may no longer run.
    let mut stopped = Vec::new();
    for _ in 0..2 {
        let event = common::next_event(&mut events).await;
        let EventKind::Stopped {
            reason: ExitReason::ShutdownWith(term),
        } = event.kind
        else {
            panic!("expected a stop with a reason, got {event:?}");
        };
        assert_eq!(term.downcast_ref::<LeaseLost>(), Some(&LeaseLost));
        stopped.push(event.session_id);
    }
    stopped.sort();
    let mut expected = vec![first, second];
    expected.sort();
    assert_eq!(stopped, expected);
    assert_eq!(a.count_children(), 0);
    // Under its new lease the node starts sessions again.
    a.create_session(dirs[1].path()).await.unwrap();
}

#[tokio::test]
async fn a_start_whose_lease_is_lost_while_it_starts_is_refused() {
    let cluster = MemoryCluster::new();
    let stub = SessionSupervisorStub::new();
    let (node_a, a) = joined(&cluster, &stub);
    let dir = project();
    stub.script_next(Script::Slow {
        before: 2,
        after: 2,
    });
    let mut start = Box::pin(a.create_session(dir.path()));
    assert!(common::poll_once(start.as_mut()).is_pending());
    node_a.lose_lease();
    assert_eq!(
        start.await.unwrap_err(),
        StartError::Backend(BackendError::LeaseLost)
    );
    assert_eq!(a.count_children(), 0);
    assert!(a.list_cluster().await.unwrap().is_empty());
}

/// A backend that cannot be reached.
struct Unreachable {
    lease: watch::Sender<Lease>,
    releases: AtomicUsize,
}

#[async_trait]
impl RegistryBackend for Unreachable {
    fn node(&self) -> NodeId {
        NodeId::from_uuid(uuid::Uuid::nil())
    }
    fn lease(&self) -> watch::Receiver<Lease> {
        self.lease.subscribe()
    }
    async fn claim(&self, _: &Session, _: usize) -> Result<Claim, BackendError> {
        Err(BackendError::Unavailable {
            message: "connection refused".into(),
        })
    }
    async fn release(&self, _: SessionId, _: Fence) -> Result<(), BackendError> {
        self.releases.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    async fn locate(&self, _: SessionId) -> Result<Option<Placement>, BackendError> {
        Ok(None)
    }
    async fn list(&self) -> Result<Vec<Placement>, BackendError> {
        Ok(Vec::new())
    }
}

#[tokio::test]
async fn an_unreachable_backend_is_a_typed_error_and_starts_nothing() {
    let backend = Arc::new(Unreachable {
        lease: watch::channel(Lease(1)).0,
        releases: AtomicUsize::new(0),
    });
    let stub = SessionSupervisorStub::new();
    let supervisor = SessionSupervisor::builder()
        .backend_arc(backend.clone())
        .session_child(stub.clone())
        .build();
    let dir = project();
    assert!(matches!(
        supervisor.create_session(dir.path()).await,
        Err(StartError::Backend(BackendError::Unavailable { .. }))
    ));
    assert_eq!(supervisor.count_children(), 0);
    assert_eq!(stub.call_count(), 0, "no tree was started");
    assert_eq!(backend.releases.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn dropping_a_node_gives_its_claims_up() {
    let cluster = MemoryCluster::new();
    let stub = SessionSupervisorStub::new();
    let (a, b) = (node_of(&cluster, &stub), node_of(&cluster, &stub));
    let dir = project();
    a.create_session(dir.path()).await.unwrap();
    drop(a);
    tokio::task::yield_now().await;
    b.create_session(dir.path()).await.unwrap();
}

/// Found by review: `SessionHandle::wait` reported the end itself and the
/// claim stayed in the cluster.
#[tokio::test(flavor = "current_thread")]
async fn a_stop_racing_a_waiter_still_gives_the_claim_up() {
    let cluster = MemoryCluster::new();
    let stub = SessionSupervisorStub::new();
    let (a, b) = (node_of(&cluster, &stub), node_of(&cluster, &stub));
    let dir = project();
    let handle = a.create_session(dir.path()).await.unwrap();
    let id = handle.id();
    let waiter = tokio::spawn(async move { handle.wait().await });
    tokio::task::yield_now().await;
    a.stop_session(id).await.unwrap();
    waiter.await.unwrap();
    a.settle().await;
    // A release handed to a task runs at the next yield.
    tokio::task::yield_now().await;
    assert_eq!(
        b.locate(id).await.unwrap(),
        None,
        "the claim was left behind"
    );
    b.create_session(dir.path()).await.unwrap();
}

/// A file store whose `get` reports when it has read, then waits to be let
/// go: a resume held between reading the snapshot and claiming.
struct HeldGet {
    files: jido_supervisor::store::FileStore,
    read: Arc<tokio::sync::Notify>,
    go: Arc<tokio::sync::Notify>,
}

#[async_trait]
impl jido_supervisor::store::SnapshotStore for HeldGet {
    async fn put(
        &self,
        id: SessionId,
        bytes: Vec<u8>,
    ) -> Result<(), jido_supervisor::store::StoreError> {
        self.files.put(id, bytes).await
    }
    async fn get(
        &self,
        id: SessionId,
        max: u64,
    ) -> Result<Option<Vec<u8>>, jido_supervisor::store::StoreError> {
        let got = self.files.get(id, max).await;
        self.read.notify_one();
        self.go.notified().await;
        got
    }
    async fn list(&self) -> Result<Vec<SessionId>, jido_supervisor::store::StoreError> {
        self.files.list().await
    }
    async fn delete(&self, id: SessionId) -> Result<(), jido_supervisor::store::StoreError> {
        self.files.delete(id).await
    }
}

/// Found by review: a resume read the snapshot before claiming, so a stop
/// elsewhere that saved meanwhile was overwritten by the older snapshot's
/// session (and its newer snapshot deleted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_open_on_another_node_is_not_resumed() {
    use jido_supervisor::store::FileStore;
    use jido_supervisor::{Message, Persistence, ResumeError, Role};
    let cluster = MemoryCluster::new();
    let (dir, snapshots) = (project(), project());
    let a = SessionSupervisor::builder()
        .backend(cluster.join())
        .persistence(Persistence::in_dir(snapshots.path()).unwrap())
        .save_on_stop(true)
        .build();
    let (read, go) = (
        Arc::new(tokio::sync::Notify::new()),
        Arc::new(tokio::sync::Notify::new()),
    );
    let b = SessionSupervisor::builder()
        .backend(cluster.join())
        .persistence(Persistence::new(HeldGet {
            files: FileStore::new(snapshots.path()).unwrap(),
            read: read.clone(),
            go: go.clone(),
        }))
        .build();
    let id = a.create_session(dir.path()).await.unwrap().id();
    let state = a.state(id).unwrap();
    state
        .append_message(Message::new(Role::User, "one"))
        .await
        .unwrap();
    a.save(id).await.unwrap();
    state
        .append_message(Message::new(Role::User, "two"))
        .await
        .unwrap();

    let resumer = b.clone();
    let mut resume = tokio::spawn(async move { resumer.resume(id).await });
    tokio::select! {
        result = &mut resume => {
            // Refused at once: the session is open on a.
            assert!(matches!(result.unwrap(), Err(ResumeError::AlreadyOpen { .. })));
        }
        () = read.notified() => {
            // b read the one-message snapshot; a stops (saving two) meanwhile.
            a.stop_session(id).await.unwrap();
            go.notify_one();
            if let Ok(handle) = resume.await.unwrap() {
                let page = b.state(handle.id()).unwrap().messages(0, None).await.unwrap();
                assert_eq!(page.items.len(), 2, "the message saved on stop was lost");
            }
        }
    }
}
