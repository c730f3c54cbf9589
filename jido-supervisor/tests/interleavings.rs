//! Issue 8, items 1–6 and 10, under many interleavings: proptest makes
//! batches of operations that run at once, each in its own task, on a
//! multi-thread runtime (2 to 4 workers); the batch races starts (of new
//! sessions, and of sessions restored from records through symlink aliases)
//! with stops, stops whose callers give up, kills, restart reports and a
//! shutdown. Afterwards everything is shut down and checked:
//!
//! - per session, the event stream is a valid lifecycle: `Started` first,
//!   only restarts in between, exactly one end, last (item 5); a start that
//!   failed left no event at all;
//! - read in order, the stream never has two open sessions on one project
//!   (however spelled, restored or not: items 1, 2) nor more than the limit;
//! - nothing is left registered or running after shutdown, whatever stops
//!   were abandoned or raced the shutdown (items 3, 4, 6, 10).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use jido_supervisor::process::Shutdown;
use jido_supervisor::session::SessionRecord;
use jido_supervisor::{
    EventKind, ExitReason, Session, SessionConfig, SessionEvent, SessionId, SessionSupervisor,
    StartError,
};
use jido_testkit::strategies::ProjectPool;
use jido_testkit::{Script, SessionSupervisorStub};
use proptest::prelude::*;
use tokio::sync::broadcast::error::TryRecvError;

const LIMIT: usize = 3;
const PROJECTS: usize = 4;
/// How long a tree that ignores stop requests is given before its kill.
const STOP_TIMEOUT: Duration = Duration::from_millis(20);

#[derive(Debug, Clone)]
enum Op {
    /// Starts a new session on a project, spelled directly or through its
    /// alias.
    Start {
        project: usize,
        alias: bool,
        script: Script,
    },
    /// Starts a session restored from a record naming the project through
    /// its alias.
    Restore {
        project: usize,
    },
    Stop {
        pick: usize,
    },
    /// A stop whose caller gives up at once.
    StopAbandoned {
        pick: usize,
    },
    Kill {
        pick: usize,
    },
    /// The stub reports a restart of a child, as a tree would.
    Report {
        pick: usize,
    },
    Shutdown,
}

fn script() -> impl Strategy<Value = Script> {
    prop_oneof![
        4 => Just(Script::Succeed),
        2 => Just(Script::exit_normally()),
        1 => Just(Script::CrashAfterStart(ExitReason::error("early"))),
        2 => Just(Script::IgnoreStop),
        2 => (0_u32..3, 0_u32..3).prop_map(|(before, after)| Script::Slow { before, after }),
        1 => Just(Script::Fail("refused".into())),
        1 => Just(Script::Ignore),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let pick = 0_usize..16;
    prop_oneof![
        6 => (0..PROJECTS, any::<bool>(), script())
            .prop_map(|(project, alias, script)| Op::Start { project, alias, script }),
        2 => (0..PROJECTS).prop_map(|project| Op::Restore { project }),
        2 => pick.clone().prop_map(|pick| Op::Stop { pick }),
        2 => pick.clone().prop_map(|pick| Op::StopAbandoned { pick }),
        2 => pick.clone().prop_map(|pick| Op::Kill { pick }),
        2 => pick.prop_map(|pick| Op::Report { pick }),
        1 => Just(Op::Shutdown),
    ]
}

fn pool() -> &'static ProjectPool {
    static POOL: std::sync::OnceLock<ProjectPool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| ProjectPool::new(PROJECTS, PROJECTS).expect("project pool"))
}

/// A session on `project`, restored from a record that spells it through
/// its symlink alias.
fn restored(project: usize) -> Session {
    let record: SessionRecord = serde_json::from_value(serde_json::json!({
        "id": SessionId::new(),
        "name": "restored",
        "project_path": pool().spelling(project, true),
        "config": SessionConfig::default(),
        "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z",
    }))
    .expect("record");
    Session::from_record(record).expect("a restored session")
}

proptest! {
    #![proptest_config(jido_testkit::strategies::cases_from_env(64))]

    #[test]
    fn no_interleaving_breaks_an_invariant(
        batches in prop::collection::vec(prop::collection::vec(op(), 1..12), 1..4),
        workers in 2_usize..=4,
    ) {
        run(&batches, workers)?;
    }
}

fn run(batches: &[Vec<Op>], workers: usize) -> Result<(), TestCaseError> {
    let runtime = jido_testkit::multi_thread_runtime(workers).expect("runtime");
    runtime.block_on(async {
        let stub = SessionSupervisorStub::with_shutdown(Shutdown::Timeout(STOP_TIMEOUT));
        let supervisor = SessionSupervisor::builder()
            .session_child(stub.clone())
            .max_sessions(LIMIT)
            .build();
        let mut events = supervisor.subscribe();
        let mut known: Vec<SessionId> = Vec::new();
        let mut started: HashSet<SessionId> = HashSet::new();
        let mut failed: HashSet<SessionId> = HashSet::new();
        let mut projects: HashMap<SessionId, usize> = HashMap::new();

        for batch in batches {
            let mut tasks = Vec::new();
            for op in batch {
                let supervisor = supervisor.clone();
                let stub = stub.clone();
                let target = if known.is_empty() {
                    SessionId::new()
                } else {
                    match op {
                        Op::Stop { pick }
                        | Op::StopAbandoned { pick }
                        | Op::Kill { pick }
                        | Op::Report { pick } => known[pick % known.len()],
                        _ => SessionId::new(),
                    }
                };
                let session = match op {
                    Op::Start {
                        project,
                        alias,
                        script,
                    } => {
                        let session =
                            Session::new(pool().spelling(*project, *alias)).expect("session");
                        stub.script_session(session.id(), script.clone());
                        projects.insert(session.id(), *project);
                        Some(session)
                    }
                    Op::Restore { project } => {
                        let session = restored(*project);
                        projects.insert(session.id(), *project);
                        Some(session)
                    }
                    _ => None,
                };
                if let Some(session) = &session {
                    known.push(session.id());
                }
                let op = op.clone();
                tasks.push(tokio::spawn(async move {
                    match (op, session) {
                        (Op::Start { .. } | Op::Restore { .. }, Some(session)) => {
                            let id = session.id();
                            Some((id, supervisor.start_session(session).await))
                        }
                        (Op::Stop { .. }, _) => {
                            let _ = supervisor.stop_session(target).await;
                            None
                        }
                        (Op::StopAbandoned { .. }, _) => {
                            let _ = tokio::time::timeout(
                                Duration::from_micros(1),
                                supervisor.stop_session(target),
                            )
                            .await;
                            None
                        }
                        (Op::Kill { .. }, _) => {
                            if let Some(pid) = stub.pid(target) {
                                pid.kill();
                            }
                            None
                        }
                        (Op::Report { .. }, _) => {
                            stub.report_restart(target, "agent", ExitReason::Killed);
                            None
                        }
                        (Op::Shutdown, _) => {
                            supervisor.shutdown().await;
                            // Item 10: when shutdown returns, no start that
                            // raced it has a tree registered or alive.
                            let left = (supervisor.registry().count(), stub.running_count());
                            assert_eq!(
                                left,
                                (0, 0),
                                "left behind by a shutdown (registered, alive)"
                            );
                            None
                        }
                        (op, None) => panic!("no session prepared for {op:?}"),
                    }
                }));
            }
            for task in tasks {
                if let Some((id, result)) = task.await.expect("operation task") {
                    match result {
                        Ok(_) => {
                            started.insert(id);
                        }
                        Err(error) => {
                            prop_assert!(
                                !matches!(
                                    error,
                                    StartError::Panicked { .. } | StartError::NoRuntime
                                ),
                                "unexpected {:?}",
                                error
                            );
                            failed.insert(id);
                        }
                    }
                }
            }
        }

        // Items 3, 4, 6, 10: after a shutdown nothing is registered or alive,
        // whatever raced it or was abandoned.
        supervisor.shutdown().await;
        supervisor.settle().await;
        prop_assert_eq!(supervisor.registry().count(), 0);
        prop_assert_eq!(supervisor.count_children(), 0);
        prop_assert_eq!(stub.running_count(), 0, "a tree outlived the shutdown");

        let mut stream: Vec<SessionEvent> = Vec::new();
        loop {
            match events.try_recv() {
                Ok(event) => stream.push(event),
                Err(TryRecvError::Empty) => break,
                Err(other) => return Err(TestCaseError::fail(format!("events: {other:?}"))),
            }
        }
        check_stream(&stream, &started, &failed, &projects)
    })
}

/// Item 5 and items 1–2, read off the event stream in order.
fn check_stream(
    stream: &[SessionEvent],
    started: &HashSet<SessionId>,
    failed: &HashSet<SessionId>,
    projects: &HashMap<SessionId, usize>,
) -> Result<(), TestCaseError> {
    #[derive(PartialEq)]
    enum Phase {
        Open,
        Ended,
    }
    let mut phase: HashMap<SessionId, Phase> = HashMap::new();
    let mut open_projects: HashMap<usize, SessionId> = HashMap::new();
    for event in stream {
        let id = event.session_id;
        let project = projects[&id];
        match (&event.kind, phase.get(&id)) {
            (EventKind::Started, None) => {
                prop_assert!(
                    !open_projects.contains_key(&project),
                    "two open sessions on project {}",
                    project
                );
                open_projects.insert(project, id);
                prop_assert!(open_projects.len() <= LIMIT, "more than {} open", LIMIT);
                phase.insert(id, Phase::Open);
            }
            (EventKind::Restarted { .. } | EventKind::RestartFailed { .. }, Some(Phase::Open)) => {}
            (EventKind::Stopped { .. } | EventKind::Crashed { .. }, Some(Phase::Open)) => {
                open_projects.remove(&project);
                phase.insert(id, Phase::Ended);
            }
            (kind, state) => {
                return Err(TestCaseError::fail(format!(
                    "{kind:?} for {id} {}",
                    match state {
                        None => "before its Started",
                        Some(Phase::Open) => "while open",
                        Some(Phase::Ended) => "after its end",
                    }
                )));
            }
        }
    }
    for id in started {
        prop_assert!(phase.get(id) == Some(&Phase::Ended), "{} did not end", id);
    }
    for id in failed {
        prop_assert!(!phase.contains_key(id), "failed start {} has events", id);
    }
    Ok(())
}
