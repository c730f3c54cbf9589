//! `PgJournal` against a real PostgreSQL server started by the test: the
//! journal on the cluster's database, read back as on a file; appends
//! fenced by the claim; a session whose node died resumed on another node
//! with every change it acknowledged.

use std::time::Duration;

use jido_cluster::{ClusterConfig, PgNode};
use jido_registry::RegistryBackend;
use jido_session::Session;
use jido_store::StoreError;
use jido_store::journal::{self, Durability, JournalStore};
use jido_supervisor::{Message, Role, SessionSupervisor};
use jido_testkit::TempPostgres;

fn config(server: &TempPostgres) -> ClusterConfig {
    ClusterConfig::new(server.url())
        .lease(Duration::from_secs(30))
        .call_timeout(Duration::from_secs(5))
        .pool_size(4)
}

fn frame(seq: u64, payload: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::new();
    journal::encode(seq, payload, &mut bytes).unwrap();
    bytes
}

/// Ends every lease but `keep`'s now, as the database's clock would once a
/// node stopped renewing: its claims are void.
async fn expire_leases_but(server: &TempPostgres, keep: Option<&PgNode>) {
    let (client, connection) = tokio_postgres::connect(&server.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let keep = keep.map(|node| *node.node().as_uuid());
    client
        .execute(
            "UPDATE jido_nodes SET expires_at = clock_timestamp() - interval '1 second'
              WHERE $1::uuid IS NULL OR node <> $1::uuid",
            &[&keep],
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appends_are_read_back_in_order_and_fenced_by_the_claim() {
    let Some(server) = TempPostgres::start_or_skip("pg_journal_appends") else {
        return;
    };
    let a = PgNode::connect(config(&server)).await.unwrap();
    let b = PgNode::connect(config(&server)).await.unwrap();
    let (journal_a, journal_b) = (a.journal(), b.journal());
    let project = tempfile::tempdir().unwrap();
    let session = Session::new(project.path()).unwrap();
    let id = session.id();

    // Unclaimed: nobody appends.
    let refused = StoreError::Fenced {
        operation: "append to the journal",
        id,
    };
    assert_eq!(
        journal_a
            .append(id, frame(1, b"one"), 1, Durability::Os)
            .await
            .unwrap_err(),
        refused
    );

    a.claim(&session, 10).await.unwrap();
    journal_a
        .append(id, frame(1, b"one"), 1, Durability::Os)
        .await
        .unwrap();
    let mut two = frame(2, b"two");
    two.extend(frame(3, b"three"));
    journal_a
        .append(id, two, 3, Durability::Sync)
        .await
        .unwrap();
    // Written on stop only: nothing now.
    journal_a
        .append(id, frame(4, b"later"), 4, Durability::OnStop)
        .await
        .unwrap();
    // Only the owner appends.
    assert_eq!(
        journal_b
            .append(id, frame(4, b"b"), 4, Durability::Os)
            .await
            .unwrap_err(),
        refused
    );

    let read = journal_b.recover(id).await.unwrap();
    let payloads: Vec<&[u8]> = read.records.iter().map(|r| &r.payload[..]).collect();
    assert_eq!(payloads, [&b"one"[..], b"two", b"three"]);
    assert_eq!(read.torn, None);
    assert_eq!(journal_b.read(id).await.unwrap(), read);
    assert_eq!(journal_b.list().await.unwrap(), vec![id]);
    assert!(journal_b.last_written(id).await.unwrap().is_some());
    assert_eq!(
        journal_b
            .last_written(Session::new(project.path()).unwrap().id())
            .await
            .unwrap(),
        None
    );

    // Held elsewhere, it cannot be deleted; its owner can.
    assert_eq!(
        journal_b.delete(id).await.unwrap_err(),
        StoreError::Fenced {
            operation: "delete the journal",
            id
        }
    );
    journal_a.delete(id).await.unwrap();
    assert!(journal_b.read(id).await.unwrap().records.is_empty());
    assert!(journal_b.list().await.unwrap().is_empty());
    journal_a.delete(id).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_whose_node_died_resumes_on_another_with_every_acknowledged_change() {
    let Some(server) = TempPostgres::start_or_skip("pg_journal_resume") else {
        return;
    };
    let supervisor = |node: &PgNode| {
        SessionSupervisor::builder()
            .backend(node.clone())
            .persistence(node.persistence())
            .build()
    };
    let a = PgNode::connect(config(&server)).await.unwrap();
    let b = PgNode::connect(config(&server)).await.unwrap();
    let (on_a, on_b) = (supervisor(&a), supervisor(&b));
    let project = tempfile::tempdir().unwrap();

    let id = on_a.create_session(project.path()).await.unwrap().id();
    let state = on_a.state(id).unwrap();
    for n in 0..5 {
        state
            .append_message(Message::new(Role::User, format!("message {n}")))
            .await
            .unwrap();
    }
    on_a.rename_session(id, "renamed on a").await.unwrap();

    // Node a dies: nothing stopped, nothing saved; its lease runs out.
    expire_leases_but(&server, Some(&b)).await;
    let listed = on_b.list_resumable().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].interrupted);
    assert_eq!(listed[0].messages, 5);
    on_b.resume(id).await.unwrap();
    let resumed = on_b.state(id).unwrap();
    let page = resumed.messages(0, None).await.unwrap();
    let contents: Vec<_> = page.items.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(
        contents,
        [
            "message 0",
            "message 1",
            "message 2",
            "message 3",
            "message 4"
        ]
    );
    assert_eq!(
        on_b.registry().lookup(id).unwrap().name(),
        "renamed on a",
        "the rename was journaled too"
    );

    // The stale owner, which still believes it holds the session, cannot
    // append after the new one resumed it: refused by the database, and
    // the journal holds none of it.
    assert!(
        state
            .append_message(Message::new(Role::User, "late on a"))
            .await
            .is_err()
    );
    resumed
        .append_message(Message::new(Role::User, "on b"))
        .await
        .unwrap();
    let read = b.journal().read(id).await.unwrap();
    let late = read
        .records
        .iter()
        .any(|record| String::from_utf8_lossy(&record.payload).contains("late on a"));
    assert!(!late, "a fenced append reached the journal");
    assert_eq!(resumed.message_count().await.unwrap(), 6);
}
