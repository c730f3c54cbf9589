//! Two nodes sharing one admission (`MemoryCluster`), under many
//! interleavings: proptest makes batches of operations that run at once on
//! a multi-thread runtime — starts on either node (some failing, some slow,
//! some dropped half-way), stops, abandoned stops, kills, lost leases.
//! After each batch, once the nodes are quiet, the cluster's claims are
//! exactly the sessions the nodes hold (none leaked, none missing), no
//! project is claimed twice, and the limit holds; after both shut down, no
//! claim is left.

use std::collections::HashSet;
use std::time::Duration;

use jido_supervisor::cluster::{MemoryCluster, MemoryNode, NodeId, RegistryBackend};
use jido_supervisor::process::Shutdown;
use jido_supervisor::{Session, SessionId, SessionSupervisor};
use jido_testkit::strategies::ProjectPool;
use jido_testkit::{Script, SessionSupervisorStub};
use proptest::prelude::*;

const LIMIT: usize = 3;
const PROJECTS: usize = 4;

#[derive(Debug, Clone)]
enum Op {
    Start {
        node: usize,
        project: usize,
        script: Script,
    },
    /// A start whose caller gives up almost at once.
    DroppedStart {
        node: usize,
        project: usize,
    },
    Stop {
        pick: usize,
    },
    StopAbandoned {
        pick: usize,
    },
    Kill {
        pick: usize,
    },
    LoseLease {
        node: usize,
    },
}

fn script() -> impl Strategy<Value = Script> {
    prop_oneof![
        4 => Just(Script::Succeed),
        1 => Just(Script::exit_normally()),
        1 => Just(Script::IgnoreStop),
        2 => (0_u32..3, 0_u32..3).prop_map(|(before, after)| Script::Slow { before, after }),
        1 => Just(Script::Fail("refused".into())),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..2_usize, 0..PROJECTS, script())
            .prop_map(|(node, project, script)| Op::Start { node, project, script }),
        2 => (0..2_usize, 0..PROJECTS).prop_map(|(node, project)| Op::DroppedStart { node, project }),
        2 => (0..16_usize).prop_map(|pick| Op::Stop { pick }),
        1 => (0..16_usize).prop_map(|pick| Op::StopAbandoned { pick }),
        2 => (0..16_usize).prop_map(|pick| Op::Kill { pick }),
        1 => (0..2_usize).prop_map(|node| Op::LoseLease { node }),
    ]
}

fn pool() -> &'static ProjectPool {
    static POOL: std::sync::OnceLock<ProjectPool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| ProjectPool::new(PROJECTS, PROJECTS).expect("project pool"))
}

proptest! {
    #![proptest_config(jido_testkit::strategies::cases_from_env(64))]

    #[test]
    fn the_clusters_claims_are_the_sessions_the_nodes_hold(
        batches in prop::collection::vec(prop::collection::vec(op(), 1..10), 1..4),
        workers in 2_usize..=4,
    ) {
        run(&batches, workers)?;
    }
}

struct Node {
    backend: MemoryNode,
    supervisor: SessionSupervisor,
}

/// Waits until the claims are the sessions the nodes hold (stops,
/// releases and lease-loss stops run in the background); fails if they
/// never are.
async fn quiet(nodes: &[Node]) -> Result<(), TestCaseError> {
    let agree = async {
        loop {
            for node in nodes {
                node.supervisor.settle().await;
            }
            let placements = nodes[0].backend.list().await.expect("in memory");
            let claims: HashSet<(NodeId, SessionId)> =
                placements.iter().map(|p| (p.node, p.id)).collect();
            let held: HashSet<(NodeId, SessionId)> = nodes
                .iter()
                .flat_map(|node| {
                    let id = node.supervisor.node();
                    node.supervisor
                        .registry()
                        .list_ids()
                        .into_iter()
                        .map(move |session| (id, session))
                })
                .collect();
            if claims == held {
                return placements;
            }
            tokio::task::yield_now().await;
        }
    };
    let placements = tokio::time::timeout(Duration::from_secs(20), agree)
        .await
        .map_err(|_| TestCaseError::fail("the claims never matched the sessions held"))?;
    let projects: HashSet<_> = placements.iter().map(|p| p.project.clone()).collect();
    prop_assert_eq!(projects.len(), placements.len(), "a project claimed twice");
    prop_assert!(placements.len() <= LIMIT);
    Ok(())
}

fn run(batches: &[Vec<Op>], workers: usize) -> Result<(), TestCaseError> {
    let runtime = jido_testkit::multi_thread_runtime(workers).expect("runtime");
    runtime.block_on(async {
        let cluster = MemoryCluster::new();
        let stub =
            SessionSupervisorStub::with_shutdown(Shutdown::Timeout(Duration::from_millis(20)));
        let nodes: Vec<Node> = (0..2)
            .map(|_| {
                let backend = cluster.join();
                let supervisor = SessionSupervisor::builder()
                    .backend(backend.clone())
                    .session_child(stub.clone())
                    .max_sessions(LIMIT)
                    .build();
                Node {
                    backend,
                    supervisor,
                }
            })
            .collect();
        let mut known: Vec<(usize, SessionId)> = Vec::new();
        for batch in batches {
            let mut tasks = Vec::new();
            for op in batch {
                let target = match op {
                    Op::Stop { pick } | Op::StopAbandoned { pick } | Op::Kill { pick }
                        if !known.is_empty() =>
                    {
                        Some(known[pick % known.len()])
                    }
                    _ => None,
                };
                let session = match op {
                    Op::Start {
                        node,
                        project,
                        script,
                    } => {
                        let session =
                            Session::new(pool().spelling(*project, false)).expect("session");
                        stub.script_session(session.id(), script.clone());
                        known.push((*node, session.id()));
                        Some((*node, session))
                    }
                    Op::DroppedStart { node, project } => {
                        let session =
                            Session::new(pool().spelling(*project, false)).expect("session");
                        stub.script_session(
                            session.id(),
                            Script::Slow {
                                before: 1,
                                after: 1,
                            },
                        );
                        Some((*node, session))
                    }
                    _ => None,
                };
                let supervisors: Vec<SessionSupervisor> =
                    nodes.iter().map(|n| n.supervisor.clone()).collect();
                let backends: Vec<MemoryNode> = nodes.iter().map(|n| n.backend.clone()).collect();
                let stub = stub.clone();
                let op = op.clone();
                tasks.push(tokio::spawn(async move {
                    match (op, session, target) {
                        (Op::Start { .. }, Some((node, session)), _) => {
                            let _ = supervisors[node].start_session(session).await;
                        }
                        (Op::DroppedStart { .. }, Some((node, session)), _) => {
                            let _ = tokio::time::timeout(
                                Duration::from_micros(1),
                                supervisors[node].start_session(session),
                            )
                            .await;
                        }
                        (Op::Stop { .. }, _, Some((node, id))) => {
                            let _ = supervisors[node].stop_session(id).await;
                        }
                        (Op::StopAbandoned { .. }, _, Some((node, id))) => {
                            let _ = tokio::time::timeout(
                                Duration::from_micros(1),
                                supervisors[node].stop_session(id),
                            )
                            .await;
                        }
                        (Op::Kill { .. }, _, Some((_, id))) => {
                            stub.crash(id, jido_supervisor::ExitReason::Killed);
                        }
                        (Op::LoseLease { node }, _, _) => backends[node].lose_lease(),
                        _ => {}
                    }
                }));
            }
            for task in tasks {
                task.await.expect("no operation panics");
            }
            quiet(&nodes).await?;
        }
        for node in &nodes {
            node.supervisor.shutdown().await;
        }
        quiet(&nodes).await?;
        prop_assert!(nodes[0].backend.list().await.expect("in memory").is_empty());
        Ok(())
    })
}
