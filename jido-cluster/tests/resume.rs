//! A session saved on one node resumes on another: the snapshot store is
//! the cluster's database.

use std::time::Duration;

use jido_cluster::{ClusterConfig, PgNode};
use jido_supervisor::{Message, Role, SessionSupervisor};
use jido_testkit::TempPostgres;

async fn node(server: &TempPostgres) -> (PgNode, SessionSupervisor) {
    let node = PgNode::connect(ClusterConfig::new(server.url()).lease(Duration::from_secs(30)))
        .await
        .unwrap();
    let supervisor = SessionSupervisor::builder()
        .backend(node.clone())
        .persistence(node.persistence())
        .save_on_stop(true)
        .build();
    (node, supervisor)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_saved_on_one_node_resumes_on_another() {
    let Some(server) = TempPostgres::start_or_skip("a_session_saved_on_one_node_resumes") else {
        return;
    };
    let (node_a, a) = node(&server).await;
    let (node_b, b) = node(&server).await;
    let dir = tempfile::tempdir().unwrap();

    let id = a.create_session(dir.path()).await.unwrap().id();
    let state = a.state(id).unwrap();
    state
        .append_message(Message::new(Role::User, "hello from a"))
        .await
        .unwrap();
    a.stop_session(id).await.unwrap();
    node_b.sync_placements().await.unwrap();
    assert_eq!(b.locate(id).await.unwrap(), None);

    let listed = b.list_resumable().await.unwrap();
    assert_eq!(listed.len(), 1);
    b.resume(id).await.unwrap();
    node_a.sync_placements().await.unwrap();
    assert_eq!(a.locate(id).await.unwrap().unwrap().node, b.node());
    let page = b.state(id).unwrap().messages(0, None).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].content, "hello from a");
    // Resumed: the snapshot stays (the checkpoint the running session goes
    // on from), resumable no more while it runs; the project is taken on a.
    assert_eq!(b.list_persisted().await.unwrap().snapshots.len(), 1);
    assert!(b.list_resumable().await.unwrap().is_empty());
    assert!(a.create_session(dir.path()).await.is_err());
}
