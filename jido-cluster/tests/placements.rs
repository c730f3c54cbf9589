//! `locate` answered from each node's copy of the claims (issue 22, item 3):
//! how it is proved never stale.
//!
//! - A property over many interleavings: three nodes claim, release and
//!   leave at random, concurrently; after each step every node waits for
//!   its copy to reach the database's version (`sync_placements`, no
//!   sleep) and then its `locate` of every session must equal the
//!   database's own answer (`locate_fresh`).
//! - A missed change (a version skipped without its announcement) sends
//!   the copy to load again, rather than answering without it.
//! - A lost listening connection: `locate` asks the database until the copy
//!   is loaded again.

use std::time::Duration;

use jido_cluster::{ClusterConfig, PgNode};
use jido_registry::{BackendError, Fence, RegistryBackend, RegistryError};
use jido_session::{Session, SessionId};
use jido_testkit::TempPostgres;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn config(server: &TempPostgres) -> ClusterConfig {
    ClusterConfig::new(server.url())
        .lease(Duration::from_secs(30))
        .call_timeout(Duration::from_secs(5))
        .pool_size(4)
}

/// One node's step.
#[derive(Debug, Clone)]
enum Step {
    /// Claim session `id` (of a few) on project `project` (of a few).
    Claim { id: usize, project: usize },
    /// Release what this node claimed of session `id`, if anything.
    Release { id: usize },
    /// Leave the cluster and join again as a new node.
    Rejoin,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        5 => (0..6usize, 0..4usize).prop_map(|(id, project)| Step::Claim { id, project }),
        4 => (0..6usize).prop_map(|id| Step::Release { id }),
        1 => Just(Step::Rejoin),
    ]
}

/// Up to one step per node, run at once.
fn round() -> impl Strategy<Value = Vec<Option<Step>>> {
    proptest::collection::vec(proptest::option::of(step()), 3)
}

struct World {
    nodes: Vec<PgNode>,
    /// Per node, the claims it made: (session index, fence).
    claims: Vec<Vec<(usize, Fence)>>,
    ids: Vec<SessionId>,
    projects: Vec<tempfile::TempDir>,
}

impl World {
    async fn run(&mut self, node: usize, step: &Step, server: &TempPostgres) {
        match *step {
            Step::Claim { id, project } => {
                let session = Session::builder(self.projects[project].path())
                    .id(self.ids[id])
                    .build()
                    .unwrap();
                match self.nodes[node].claim(&session, 5).await {
                    Ok(claim) => self.claims[node].push((id, claim.fence)),
                    Err(BackendError::Refused(
                        RegistryError::DuplicateId { .. }
                        | RegistryError::DuplicateProject { .. }
                        | RegistryError::LimitReached { .. },
                    )) => {}
                    Err(error) => panic!("claim: {error:?}"),
                }
            }
            Step::Release { id } => {
                if let Some(at) = self.claims[node].iter().position(|(i, _)| *i == id) {
                    let (_, fence) = self.claims[node].remove(at);
                    self.nodes[node].release(self.ids[id], fence).await.unwrap();
                }
            }
            Step::Rejoin => {
                self.nodes[node].leave().await.unwrap();
                self.nodes[node] = PgNode::connect(config(server)).await.unwrap();
                self.claims[node].clear();
            }
        }
    }

    /// Every node's copy against the database.
    async fn agree(&self) -> Result<(), TestCaseError> {
        for node in &self.nodes {
            node.sync_placements().await.unwrap();
            for id in &self.ids {
                let cached = node.locate(*id).await.unwrap();
                let truth = node.locate_fresh(*id).await.unwrap();
                prop_assert_eq!(cached, truth, "node {} on session {}", node.node(), id);
            }
        }
        Ok(())
    }
}

#[test]
fn every_nodes_locate_agrees_with_the_database_after_each_step() {
    let Some(server) = TempPostgres::start_or_skip("placements_property") else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let cases = std::env::var("JIDO_PLACEMENT_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(24);
    let mut runner = TestRunner::new(Config {
        cases,
        ..Config::default()
    });
    runner
        .run(&proptest::collection::vec(round(), 1..16), |rounds| {
            runtime.block_on(async {
                let mut nodes = Vec::new();
                for _ in 0..3 {
                    nodes.push(PgNode::connect(config(&server)).await.unwrap());
                }
                let mut world = World {
                    nodes,
                    claims: vec![Vec::new(); 3],
                    ids: (0..6).map(|_| SessionId::new()).collect(),
                    projects: (0..4).map(|_| tempfile::tempdir().unwrap()).collect(),
                };
                for round in &rounds {
                    // The nodes' steps at once: each on its own clone of
                    // the world's node, the bookkeeping after.
                    let mut steps = Vec::new();
                    for (node, step) in round.iter().enumerate() {
                        if let Some(step) = step {
                            steps.push((node, step.clone()));
                        }
                    }
                    let concurrent: Vec<_> = steps
                        .iter()
                        .filter(|(_, step)| matches!(step, Step::Claim { .. }))
                        .map(|(node, step)| {
                            let Step::Claim { id, project } = *step else {
                                unreachable!()
                            };
                            let session = Session::builder(world.projects[project].path())
                                .id(world.ids[id])
                                .build()
                                .unwrap();
                            let node_handle = world.nodes[*node].clone();
                            async move { (*node, id, node_handle.claim(&session, 5).await) }
                        })
                        .collect();
                    for (node, id, result) in futures_util::future::join_all(concurrent).await {
                        match result {
                            Ok(claim) => world.claims[node].push((id, claim.fence)),
                            Err(BackendError::Refused(_)) => {}
                            Err(error) => panic!("claim: {error:?}"),
                        }
                    }
                    for (node, step) in &steps {
                        if !matches!(step, Step::Claim { .. }) {
                            world.run(*node, step, &server).await;
                        }
                    }
                    world.agree().await?;
                }
                for node in &world.nodes {
                    node.leave().await.unwrap();
                }
                Ok(())
            })
        })
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missed_change_makes_the_copy_load_again_rather_than_answer_without_it() {
    let Some(server) = TempPostgres::start_or_skip("placements_gap") else {
        return;
    };
    let a = PgNode::connect(config(&server)).await.unwrap();
    let b = PgNode::connect(config(&server)).await.unwrap();
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let first = Session::new(dirs[0].path()).unwrap();
    a.claim(&first, 10).await.unwrap();
    b.sync_placements().await.unwrap();
    assert!(b.locate(first.id()).await.unwrap().is_some());

    // Change 'v + 1' is made without its announcement: the claim deleted
    // and the version moved on by hand.
    let (admin, connection) = tokio_postgres::connect(&server.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    admin
        .batch_execute(&format!(
            "BEGIN;
             SELECT 1 FROM jido_admission FOR UPDATE;
             DELETE FROM jido_sessions WHERE id = '{}';
             UPDATE jido_admission SET claims = claims - 1, version = version + 1;
             COMMIT;",
            first.id().as_uuid()
        ))
        .await
        .unwrap();
    // Change 'v + 2', announced: b sees the gap.
    let second = Session::new(dirs[1].path()).unwrap();
    a.claim(&second, 10).await.unwrap();
    b.sync_placements().await.unwrap();
    assert_eq!(
        b.locate(first.id()).await.unwrap(),
        None,
        "b answered from a copy that missed a change"
    );
    assert_eq!(b.locate(second.id()).await.unwrap().unwrap().node, a.node());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_its_listening_connection_gone_a_node_asks_the_database() {
    let Some(server) = TempPostgres::start_or_skip("placements_listener_gone") else {
        return;
    };
    let a = PgNode::connect(config(&server)).await.unwrap();
    let b = PgNode::connect(config(&server)).await.unwrap();
    let (admin, connection) = tokio_postgres::connect(&server.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    for (round, dir) in dirs.iter().enumerate() {
        // Both listening (at first, and again after the cut, within their
        // pauses of at most a second).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let listening: i64 = admin
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'jido listener'",
                    &[],
                )
                .await
                .unwrap()
                .get(0);
            if listening == 2 {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "not listening again"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        b.sync_placements().await.unwrap();
        // Every listening connection is cut; a claims meanwhile.
        let cut: i64 = admin
            .query_one(
                "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                  WHERE application_name = 'jido listener') t",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(cut, 2, "round {round}: both nodes listen");
        let session = Session::new(dir.path()).unwrap();
        a.claim(&session, 10).await.unwrap();
        // The copy cannot hear through the cut connection: it stops
        // answering once the cut is seen, and `sync_placements` waits for
        // it to listen again and load a read at least as new as a's claim.
        b.sync_placements().await.unwrap();
        assert_eq!(
            b.locate(session.id()).await.unwrap().unwrap().node,
            a.node(),
            "round {round}"
        );
    }
}
