//! Issue 22, failover: the sessions of a node that died (dropped here:
//! trees killed, nothing stopped, nothing saved; its claims gone) are
//! adopted by the survivors with every acknowledged change; a session
//! stopped gracefully is no orphan; two survivors adopting at once never
//! give one session two owners.

use std::collections::HashSet;

use jido_registry::{MemoryCluster, MemoryNode};
use jido_supervisor::{EventKind, Message, Persistence, Role, SessionId, SessionSupervisor};

fn node(cluster: &MemoryCluster, persistence: &Persistence) -> SessionSupervisor {
    node_with(cluster.join(), persistence)
}

fn node_with(backend: MemoryNode, persistence: &Persistence) -> SessionSupervisor {
    SessionSupervisor::builder()
        .backend(backend)
        .persistence(persistence.clone())
        .save_on_stop(true)
        .max_sessions(100)
        .build()
}

/// A node with `n` sessions, each holding `messages` messages.
async fn converse(
    node: &SessionSupervisor,
    n: usize,
    messages: usize,
) -> (Vec<tempfile::TempDir>, Vec<SessionId>) {
    let mut projects = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..n {
        let project = tempfile::tempdir().unwrap();
        let id = node.create_session(project.path()).await.unwrap().id();
        let state = node.state(id).unwrap();
        for m in 0..messages {
            state
                .append_message(Message::new(Role::User, format!("{id} {m}")))
                .await
                .unwrap();
        }
        projects.push(project);
        ids.push(id);
    }
    (projects, ids)
}

#[tokio::test]
async fn a_dead_nodes_sessions_are_adopted_whole_and_a_stopped_one_is_not() {
    let store = tempfile::tempdir().unwrap();
    let persistence = Persistence::in_dir(store.path()).unwrap();
    let cluster = MemoryCluster::new();
    let a_backend = cluster.join();
    let (a, b) = (
        node_with(a_backend.clone(), &persistence),
        node(&cluster, &persistence),
    );
    let (_projects, ids) = converse(&a, 5, 7).await;
    a.stop_session(ids[0]).await.unwrap(); // saved, its journal cut
    // The node dies: nothing stopped, nothing saved, and its lease runs out.
    drop(a);
    a_backend.lose_lease();

    let mut events = b.subscribe();
    let adopted = b.adopt_orphans(100).await.unwrap();
    let got: HashSet<SessionId> = adopted
        .iter()
        .filter(|adoption| adoption.outcome.is_ok())
        .map(|adoption| adoption.id)
        .collect();
    assert_eq!(
        got,
        ids[1..].iter().copied().collect(),
        "the stopped one is no orphan"
    );
    for id in &ids[1..] {
        let page = b.state(*id).unwrap().messages(0, None).await.unwrap();
        let texts: Vec<_> = page.items.iter().map(|m| m.content.clone()).collect();
        assert_eq!(
            texts,
            (0..7).map(|m| format!("{id} {m}")).collect::<Vec<_>>()
        );
        assert_eq!(b.locate(*id).await.unwrap().unwrap().node, b.node());
    }
    let mut announced = HashSet::new();
    while let Ok(event) = events.try_recv() {
        if let EventKind::Adopted { from } = event.kind {
            assert_ne!(from, Some(b.node()));
            announced.insert(event.session_id);
        }
    }
    assert_eq!(announced, got);
    // Adopted once: nothing is left to adopt.
    assert!(b.adopt_orphans(100).await.unwrap().is_empty());
    // At most as many as asked.
    assert!(
        b.resume(ids[0]).await.is_ok(),
        "the stopped one resumes as ever"
    );
}

#[test]
fn two_survivors_adopting_at_once_never_give_a_session_two_owners() {
    let runtime = jido_testkit::multi_thread_runtime(2).unwrap();
    runtime.block_on(async {
        for round in 0..20 {
            let store = tempfile::tempdir().unwrap();
            let persistence = Persistence::in_dir(store.path()).unwrap();
            let cluster = MemoryCluster::new();
            let dead_backend = cluster.join();
            let dead = node_with(dead_backend.clone(), &persistence);
            let (_projects, ids) = converse(&dead, 6, 2).await;
            drop(dead);
            dead_backend.lose_lease();
            let (b, c) = (node(&cluster, &persistence), node(&cluster, &persistence));
            let (on_b, on_c) = tokio::join!(
                tokio::spawn({
                    let b = b.clone();
                    async move { b.adopt_orphans(100).await.unwrap() }
                }),
                tokio::spawn({
                    let c = c.clone();
                    async move { c.adopt_orphans(4).await.unwrap() }
                })
            );
            let won = |adoptions: &[jido_supervisor::Adoption]| -> HashSet<SessionId> {
                adoptions
                    .iter()
                    .filter(|adoption| adoption.outcome.is_ok())
                    .map(|adoption| adoption.id)
                    .collect()
            };
            let (on_b, on_c) = (won(&on_b.unwrap()), won(&on_c.unwrap()));
            assert!(on_c.len() <= 4, "round {round}: at most as many as asked");
            assert!(on_b.is_disjoint(&on_c), "round {round}: two owners");
            let all: HashSet<SessionId> = on_b.union(&on_c).copied().collect();
            assert_eq!(
                all,
                ids.iter().copied().collect(),
                "round {round}: one left behind"
            );
            for id in &ids {
                let open = usize::from(b.registry().contains(*id))
                    + usize::from(c.registry().contains(*id));
                assert_eq!(open, 1, "round {round}");
            }
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_survivor_adopting_periodically_brings_a_dead_nodes_sessions_back() {
    let store = tempfile::tempdir().unwrap();
    let persistence = Persistence::in_dir(store.path()).unwrap();
    let cluster = MemoryCluster::new();
    let dead_backend = cluster.join();
    let dead = node_with(dead_backend.clone(), &persistence);
    let survivor = SessionSupervisor::builder()
        .backend(cluster.join())
        .persistence(persistence.clone())
        .max_sessions(100)
        .adopt_orphans_every(std::time::Duration::from_millis(20), 100)
        .build();
    let mut events = survivor.subscribe();
    let (_projects, ids) = converse(&dead, 4, 3).await;
    drop(dead);
    dead_backend.lose_lease();

    let mut adopted = HashSet::new();
    let all: HashSet<SessionId> = ids.iter().copied().collect();
    let waited = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        while adopted != all {
            let event = events.recv().await.unwrap();
            if matches!(event.kind, EventKind::Adopted { .. }) {
                adopted.insert(event.session_id);
            }
        }
    })
    .await;
    assert!(waited.is_ok(), "adopted {adopted:?} of {all:?}");
    for id in &ids {
        assert_eq!(
            survivor.state(*id).unwrap().message_count().await.unwrap(),
            3
        );
    }
}
