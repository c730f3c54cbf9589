//! `PgNode` against a real PostgreSQL server started by the test: the
//! claim semantics the in-memory registry has, decided by the database;
//! fencing of stale writers; typed errors (not hangs) when the database is
//! gone.

use std::time::Duration;

use jido_cluster::{ClusterConfig, ClusterError, PgNode};
use jido_registry::{BackendError, Fence, RegistryBackend, RegistryError};
use jido_session::Session;
use jido_store::{SnapshotStore, StoreError};
use jido_testkit::TempPostgres;

fn config(server: &TempPostgres) -> ClusterConfig {
    ClusterConfig::new(server.url())
        .lease(Duration::from_secs(30))
        .call_timeout(Duration::from_secs(5))
        .pool_size(4)
}

fn project() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_are_decided_by_the_database_as_the_registry_decides_them() {
    let Some(server) = TempPostgres::start_or_skip("claims_are_decided_by_the_database") else {
        return;
    };
    // Two nodes migrating one fresh database at once both succeed.
    let (a, b) = tokio::join!(
        PgNode::connect(config(&server)),
        PgNode::connect(config(&server))
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let dirs: Vec<_> = (0..3).map(|_| project()).collect();

    let first = Session::new(dirs[0].path()).unwrap();
    let claim = a.claim(&first, 2).await.unwrap();

    // The same project, however spelled, from another node.
    let again = Session::new(dirs[0].path().join(".")).unwrap();
    assert_eq!(
        b.claim(&again, 2).await.unwrap_err(),
        BackendError::Refused(RegistryError::DuplicateProject {
            path: first.project_path().clone(),
            owner: first.id(),
        })
    );
    // The same id.
    let same_id = Session::builder(dirs[1].path())
        .id(first.id())
        .build()
        .unwrap();
    assert_eq!(
        b.claim(&same_id, 2).await.unwrap_err(),
        BackendError::Refused(RegistryError::DuplicateId { id: first.id() })
    );
    // The limit, cluster-wide.
    let second = Session::new(dirs[1].path()).unwrap();
    let second_claim = b.claim(&second, 2).await.unwrap();
    assert!(second_claim.fence > claim.fence, "fences grow");
    assert_eq!(
        a.claim(&Session::new(dirs[2].path()).unwrap(), 2)
            .await
            .unwrap_err(),
        BackendError::Refused(RegistryError::LimitReached { count: 2, limit: 2 })
    );

    // Which node runs what (once b has heard of a's claim).
    b.sync_placements().await.unwrap();
    let placement = b.locate(first.id()).await.unwrap().unwrap();
    assert_eq!(placement.node, a.node());
    assert_eq!(placement.fence, claim.fence);
    assert_eq!(placement.project, first.project_path().as_path());
    assert_eq!(a.list().await.unwrap().len(), 2);

    // A release with a stale fence leaves the claim alone; the right one
    // frees the project.
    a.release(first.id(), Fence(claim.fence.0 + 1_000))
        .await
        .unwrap();
    assert!(a.locate(first.id()).await.unwrap().is_some());
    a.release(first.id(), claim.fence).await.unwrap();
    a.release(first.id(), claim.fence).await.unwrap();
    assert_eq!(a.locate(first.id()).await.unwrap(), None);
    b.claim(&again, 2).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_left_is_fenced_off_and_its_projects_are_free() {
    let Some(server) = TempPostgres::start_or_skip("a_node_that_left_is_fenced_off") else {
        return;
    };
    let a = PgNode::connect(config(&server)).await.unwrap();
    let b = PgNode::connect(config(&server)).await.unwrap();
    let (store_a, store_b) = (a.snapshot_store(), b.snapshot_store());
    let dir = project();
    let session = Session::new(dir.path()).unwrap();
    let id = session.id();

    a.claim(&session, 10).await.unwrap();
    store_a.put(id, b"from a".to_vec()).await.unwrap();
    // Only the owner writes.
    assert_eq!(
        store_b.put(id, b"from b".to_vec()).await.unwrap_err(),
        StoreError::Fenced {
            operation: "put",
            id
        }
    );

    let lease = *a.lease().borrow();
    a.leave().await.unwrap();
    assert!(*a.lease().borrow() > lease, "the lease moved on");
    assert_eq!(
        a.claim(&Session::new(project().path()).unwrap(), 10)
            .await
            .unwrap_err(),
        BackendError::LeaseLost
    );
    // Its claim is void: the session and its project can be claimed.
    b.sync_placements().await.unwrap();
    assert_eq!(b.locate(id).await.unwrap(), None);
    b.claim(&session, 10).await.unwrap();
    store_b.put(id, b"from b".to_vec()).await.unwrap();

    // The stale owner's late writes are refused and change nothing.
    assert_eq!(
        store_a.put(id, b"late".to_vec()).await.unwrap_err(),
        StoreError::Fenced {
            operation: "put",
            id
        }
    );
    assert_eq!(
        store_a.delete(id).await.unwrap_err(),
        StoreError::Fenced {
            operation: "delete",
            id
        }
    );
    assert_eq!(
        store_b.get(id, 1024).await.unwrap().as_deref(),
        Some(&b"from b"[..])
    );
    assert_eq!(
        store_b.get(id, 2).await.unwrap_err(),
        StoreError::TooLarge { size: 6, limit: 2 }
    );
    assert_eq!(store_b.list().await.unwrap(), vec![id]);
    store_b.delete(id).await.unwrap();
    assert_eq!(store_b.get(id, 1024).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_is_a_typed_error_not_a_hang() {
    // Nothing listens on a port just freed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = ClusterConfig::new(format!("host=127.0.0.1 port={port} user=jido dbname=x"))
        .call_timeout(Duration::from_secs(2));
    assert!(matches!(
        PgNode::connect(config).await,
        Err(ClusterError::Unreachable { .. })
    ));
    assert!(matches!(
        PgNode::connect(ClusterConfig::new("host=127.0.0.1 port=notaport")).await,
        Err(ClusterError::Config { .. })
    ));

    // A database that goes away after the node connected.
    let Some(server) = TempPostgres::start_or_skip("an_unreachable_database") else {
        return;
    };
    let node = PgNode::connect(config_with_timeout(&server, Duration::from_secs(2)))
        .await
        .unwrap();
    server.stop().unwrap();
    let dir = project();
    let error = node
        .claim(&Session::new(dir.path()).unwrap(), 10)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            BackendError::Unavailable { .. } | BackendError::Timeout { .. }
        ),
        "{error:?}"
    );
    assert!(node.list().await.is_err());
}

fn config_with_timeout(server: &TempPostgres, timeout: Duration) -> ClusterConfig {
    config(server).call_timeout(timeout)
}

/// How many backends wait for a lock.
async fn waiting_for_locks(client: &tokio_postgres::Client) -> i64 {
    client
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_dropped_while_the_database_runs_it_leaves_no_claim_behind() {
    let Some(server) = TempPostgres::start_or_skip("a_claim_dropped_while_the_database_runs_it")
    else {
        return;
    };
    let config = || {
        ClusterConfig::new(server.url())
            .lease(Duration::from_millis(1500))
            .call_timeout(Duration::from_millis(400))
    };
    let a = PgNode::connect(config()).await.unwrap();
    let b = PgNode::connect(config()).await.unwrap();
    let dir = project();
    let session = Session::new(dir.path()).unwrap();

    // Hold the claims' lock (the admission row), so that a's claim waits
    // inside the database.
    let (holder, connection) = tokio_postgres::connect(&server.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    holder
        .batch_execute("BEGIN; SELECT 1 FROM jido_admission FOR UPDATE")
        .await
        .unwrap();
    assert_eq!(waiting_for_locks(&holder).await, 0);
    {
        let claim = a.claim(&session, 10);
        tokio::pin!(claim);
        // Poll until the claim waits for the lock in the database, then drop it.
        loop {
            tokio::select! {
                result = &mut claim => panic!("the claim finished while the lock was held: {result:?}"),
                () = tokio::task::yield_now() => {}
            }
            if waiting_for_locks(&holder).await == 1 {
                break;
            }
        }
    }
    // The dropped claim now goes through in the database.
    holder.batch_execute("COMMIT").await.unwrap();
    // The node gives up what it claimed for nobody: the project is free
    // again within a few of its lease ticks.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let other = Session::new(dir.path()).unwrap();
    loop {
        match b.claim(&other, 10).await {
            Ok(_) => break,
            Err(BackendError::Refused(RegistryError::DuplicateProject { owner, .. })) => {
                assert_eq!(owner, session.id());
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the dropped claim was never given up"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => panic!("{error:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_that_failed_is_retried_once_the_database_is_back() {
    let Some(server) = TempPostgres::start_or_skip("a_release_that_failed_is_retried") else {
        return;
    };
    let config = ClusterConfig::new(server.url())
        .lease(Duration::from_secs(6))
        .call_timeout(Duration::from_millis(500));
    let a = PgNode::connect(config.clone()).await.unwrap();
    let dir = project();
    let session = Session::new(dir.path()).unwrap();
    let claim = a.claim(&session, 10).await.unwrap();

    // The server runs without synchronous commits: make the claim durable
    // before the (immediate) stop.
    let (admin, connection) = tokio_postgres::connect(&server.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    admin.execute("CHECKPOINT", &[]).await.unwrap();
    server.stop().unwrap();
    assert!(a.release(session.id(), claim.fence).await.is_err());
    server.restart().unwrap();

    // Without the retry the claim would hold the project for as long as
    // the node lives.
    let b = PgNode::connect(config).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while b.locate(session.id()).await.unwrap().is_some() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the failed release was never retried"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(a.has_lease(), "the node kept its lease meanwhile");
    // Found by review: the node itself went on answering from its own
    // record that it ran the session.
    a.sync_placements().await.unwrap();
    assert_eq!(a.locate(session.id()).await.unwrap(), None);
}

/// Found by review: `leave` deleted the node's row, so the node rejoining
/// under the same id got generation 1 again and its old claims came back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_left_and_rejoins_under_its_id_does_not_revive_its_claims() {
    let Some(server) = TempPostgres::start_or_skip("a_node_that_left_and_rejoins") else {
        return;
    };
    let id = jido_registry::NodeId::random();
    let a = PgNode::connect(config(&server).node(id)).await.unwrap();
    let b = PgNode::connect(config(&server)).await.unwrap();
    let dir = project();
    let session = Session::new(dir.path()).unwrap();
    a.claim(&session, 10).await.unwrap();
    a.leave().await.unwrap();
    assert!(!a.has_lease());
    drop(a);
    let again = PgNode::connect(config(&server).node(id)).await.unwrap();
    assert!(again.has_lease());
    b.sync_placements().await.unwrap();
    assert_eq!(b.locate(session.id()).await.unwrap(), None);
}

/// Found by review: giving up abandoned claims ran inline in the lease
/// loop, one call timeout each, so a slow database stopped the renewals and
/// the lease expired while the node still counted it live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_to_give_up_do_not_hold_up_the_lease() {
    let Some(server) = TempPostgres::start_or_skip("claims_to_give_up_do_not_hold_up") else {
        return;
    };
    let lease_length = Duration::from_millis(1500);
    let node = PgNode::connect(
        ClusterConfig::new(server.url())
            .lease(lease_length)
            .call_timeout(Duration::from_millis(400))
            .pool_size(16),
    )
    .await
    .unwrap();
    let dirs: Vec<_> = (0..10).map(|_| project()).collect();
    let mut claims = Vec::new();
    for dir in &dirs {
        let session = Session::new(dir.path()).unwrap();
        claims.push((session.id(), node.claim(&session, 100).await.unwrap().fence));
    }
    // The sessions table is locked: every release times out and is queued
    // to be retried; the nodes table (renewals) is not.
    let (holder, connection) = tokio_postgres::connect(&server.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    holder
        .batch_execute("BEGIN; LOCK TABLE jido_sessions IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let releases = claims.iter().map(|(id, fence)| node.release(*id, *fence));
    for result in futures_util::future::join_all(releases).await {
        assert!(result.is_err());
    }
    let lease = *node.lease().borrow();
    // Two lease lengths pass with the retries failing all along.
    tokio::time::sleep(2 * lease_length).await;
    // The database still counts the lease live: it was renewed meanwhile.
    let live: bool = holder
        .query_one(
            "SELECT bool_and(expires_at > clock_timestamp()) FROM jido_nodes",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(
        live,
        "the renewals stopped while claims were being given up"
    );
    assert!(node.has_lease(), "the lease was lost");
    assert_eq!(*node.lease().borrow(), lease);
    holder.batch_execute("ROLLBACK").await.unwrap();
}

/// Found by review: a claim attempt reaching the database after the node
/// gave it up would have committed with nobody to release it. Giving up
/// leaves a tombstone that the claim function honours.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_attempt_given_up_before_it_arrives_is_refused() {
    let Some(server) = TempPostgres::start_or_skip("a_claim_attempt_given_up_before_it_arrives")
    else {
        return;
    };
    let node = PgNode::connect(config(&server)).await.unwrap();
    let (client, connection) = tokio_postgres::connect(&server.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let dir = project();
    let session = Session::new(dir.path()).unwrap();
    let id = *session.id().as_uuid();
    let attempt = uuid::Uuid::new_v4();
    let given_up: i64 = client
        .query_one("SELECT jido_give_up($1, $2)", &[&id, &attempt])
        .await
        .unwrap()
        .get(0);
    assert_eq!(given_up, 0, "nothing was claimed yet");
    let lease = i64::try_from(node.lease().borrow().0).unwrap();
    let project = dir.path().canonicalize().unwrap();
    let row = client
        .query_one(
            "SELECT * FROM jido_claim($1, $2, $3, $4, $5, $6, $7)",
            &[
                &id,
                &project.as_os_str().as_encoded_bytes(),
                &project.display().to_string(),
                node.node().as_uuid(),
                &lease,
                &10_i64,
                &attempt,
            ],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, &str>(0), "abandoned");
    assert_eq!(node.locate(session.id()).await.unwrap(), None);
}

/// Issue 22, item 5: a claim is released only by the node that made it; a
/// fence read off `locate` by another node releases nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_node_that_made_a_claim_releases_it() {
    let Some(server) = TempPostgres::start_or_skip("only_the_claiming_node_releases") else {
        return;
    };
    let a = PgNode::connect(config(&server)).await.unwrap();
    let b = PgNode::connect(config(&server)).await.unwrap();
    let dir = project();
    let session = Session::new(dir.path()).unwrap();
    let claim = a.claim(&session, 10).await.unwrap();
    b.sync_placements().await.unwrap();
    let shown = b.locate(session.id()).await.unwrap().unwrap();
    assert_eq!(shown.fence, claim.fence);
    b.release(session.id(), shown.fence).await.unwrap();
    assert!(
        b.locate(session.id()).await.unwrap().is_some(),
        "b released a's claim"
    );
    assert!(matches!(
        b.claim(&Session::new(dir.path()).unwrap(), 10).await,
        Err(BackendError::Refused(
            RegistryError::DuplicateProject { .. }
        ))
    ));
    a.release(session.id(), claim.fence).await.unwrap();
    b.sync_placements().await.unwrap();
    assert_eq!(b.locate(session.id()).await.unwrap(), None);
}

/// Issue 22: the node of a lapsed claim (its lease expired), for the
/// report of its adoption.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_owner_of_a_lapsed_claim_is_remembered() {
    let Some(server) = TempPostgres::start_or_skip("last_owner") else {
        return;
    };
    let a = PgNode::connect(config(&server)).await.unwrap();
    let b = PgNode::connect(config(&server)).await.unwrap();
    let dir = project();
    let session = Session::new(dir.path()).unwrap();
    a.claim(&session, 10).await.unwrap();
    assert_eq!(
        b.last_owner(session.id()).await.unwrap(),
        None,
        "still live"
    );
    // Its lease runs out, as the database's clock would have it.
    let (client, connection) = tokio_postgres::connect(&server.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .execute(
            "UPDATE jido_nodes SET expires_at = clock_timestamp() - interval '1 second'
              WHERE node = $1",
            &[a.node().as_uuid()],
        )
        .await
        .unwrap();
    assert_eq!(b.last_owner(session.id()).await.unwrap(), Some(a.node()));
}

/// Issue 22, item 3: lapsed claims no longer go at every claim; they go
/// when they stand in the way — holding the id, holding the project, or at
/// the limit — and the counter stays the table's count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lapsed_claims_give_way_to_the_id_the_project_and_the_limit() {
    let Some(server) = TempPostgres::start_or_skip("lapsed_claims_give_way") else {
        return;
    };
    let (client, connection) = tokio_postgres::connect(&server.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let expire = |node: jido_registry::NodeId| {
        let client = &client;
        async move {
            client
                .execute(
                    "UPDATE jido_nodes SET expires_at = clock_timestamp() - interval '1 second'
                      WHERE node = $1",
                    &[node.as_uuid()],
                )
                .await
                .unwrap();
        }
    };
    let consistent = || async {
        let row = client
            .query_one(
                "SELECT (SELECT claims FROM jido_admission), (SELECT count(*) FROM jido_sessions)",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(
            row.get::<_, i64>(0),
            row.get::<_, i64>(1),
            "the counter drifted"
        );
    };
    let dirs: Vec<_> = (0..5).map(|_| project()).collect();
    let a = PgNode::connect(config(&server)).await.unwrap();
    let b = PgNode::connect(config(&server)).await.unwrap();
    let held_id = Session::new(dirs[0].path()).unwrap();
    let held_project = Session::new(dirs[1].path()).unwrap();
    a.claim(&held_id, 10).await.unwrap();
    a.claim(&held_project, 10).await.unwrap();
    expire(a.node()).await;

    // The id of a lapsed claim, on another project.
    let same_id = Session::builder(dirs[2].path())
        .id(held_id.id())
        .build()
        .unwrap();
    let claim = b.claim(&same_id, 10).await.unwrap();
    // The project of a lapsed claim, under another id.
    b.claim(&Session::new(dirs[1].path()).unwrap(), 10)
        .await
        .unwrap();
    consistent().await;
    b.sync_placements().await.unwrap();
    assert_eq!(
        b.locate(held_id.id()).await.unwrap().unwrap().fence,
        claim.fence
    );
    assert_eq!(b.locate(held_project.id()).await.unwrap(), None);

    // At the limit, lapsed claims are swept before a refusal.
    let c = PgNode::connect(config(&server)).await.unwrap();
    c.claim(&Session::new(dirs[3].path()).unwrap(), 10)
        .await
        .unwrap();
    expire(c.node()).await;
    // Three rows, two live (b's): a limit of 3 admits one more.
    b.claim(&Session::new(dirs[4].path()).unwrap(), 3)
        .await
        .unwrap();
    consistent().await;
    assert_eq!(
        b.claim(&Session::new(project().path()).unwrap(), 3)
            .await
            .unwrap_err(),
        BackendError::Refused(RegistryError::LimitReached { count: 3, limit: 3 })
    );
}

/// Issue 22, item 3: the renewal tick's sweep deletes claims that lapsed a
/// lease ago or whose lease was replaced, and leaves live ones and recently
/// lapsed ones (whose last owner can still be asked).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_takes_claims_lapsed_a_lease_ago_and_replaced_leases_only() {
    let Some(server) = TempPostgres::start_or_skip("the_sweep") else {
        return;
    };
    let (client, connection) = tokio_postgres::connect(&server.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let nodes = [
        PgNode::connect(config(&server)).await.unwrap(),
        PgNode::connect(config(&server)).await.unwrap(),
        PgNode::connect(config(&server)).await.unwrap(),
        PgNode::connect(config(&server)).await.unwrap(),
    ];
    let dirs: Vec<_> = (0..4).map(|_| project()).collect();
    let mut ids = Vec::new();
    for (node, dir) in nodes.iter().zip(&dirs) {
        let session = Session::new(dir.path()).unwrap();
        node.claim(&session, 10).await.unwrap();
        ids.push(session.id());
    }
    // 0: live. 1: lapsed a second ago. 2: lapsed a minute ago (the lease
    // is 30 s). 3: its node's lease replaced by a newer one.
    let set = |sql: &'static str, node: usize| {
        let client = &client;
        let node = *nodes[node].node().as_uuid();
        async move { client.execute(sql, &[&node]).await.unwrap() }
    };
    set(
        "UPDATE jido_nodes SET expires_at = clock_timestamp() - interval '1 second' WHERE node = $1",
        1,
    )
    .await;
    set(
        "UPDATE jido_nodes SET expires_at = clock_timestamp() - interval '1 minute' WHERE node = $1",
        2,
    )
    .await;
    set("UPDATE jido_nodes SET lease = lease + 1 WHERE node = $1", 3).await;
    let swept: i64 = client
        .query_one("SELECT jido_sweep(interval '30 seconds')", &[])
        .await
        .unwrap()
        .get(0);
    // (A node's own tick may have swept some first.)
    assert!(swept <= 2, "{swept}");
    let left: Vec<uuid::Uuid> = client
        .query("SELECT id FROM jido_sessions ORDER BY claimed_at", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(left, vec![*ids[0].as_uuid(), *ids[1].as_uuid()]);
    let row = client
        .query_one(
            "SELECT (SELECT claims FROM jido_admission), (SELECT count(*) FROM jido_sessions)",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), row.get::<_, i64>(1));
}
