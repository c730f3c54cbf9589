//! Concurrent property test: random batches of operations run at once on a
//! multi-thread runtime (2 to 4 workers). Whatever the interleaving, once a
//! batch is joined the invariants hold, and after `shutdown` nothing is left
//! registered and no task is left alive.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use jido_supervisor::process::Shutdown;
use jido_supervisor::{ExitReason, RegistryError};
use jido_supervisor::{Session, SessionId};
use jido_supervisor::{SessionSupervisor, StartError, StopError};
use jido_testkit::Script;
use jido_testkit::SessionSupervisorStub;
use jido_testkit::strategies::{
    CANCELLED_START, CrashKind, Op, ProjectPool, ops, quiet_scripted_panics, sequence,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};

/// The supervisor's session limit.
const LIMIT: usize = 3;
/// Projects in the pool.
const PROJECTS: usize = 5;
/// Projects with a symlink alias.
const SYMLINKED: usize = 2;
/// The most operations run at once.
const MAX_BATCH: usize = 10;
/// The most batches per case.
const MAX_BATCHES: usize = 3;
/// How long a start may take (real time: only hanging starts, or starts
/// slowed down by a loaded machine, reach it).
const START_TIMEOUT: Duration = Duration::from_millis(10);
/// How long a process that ignores stop requests gets before it is killed.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_millis(10);
/// How long the tasks of ended processes may take to be dropped by the
/// workers before the test calls it a leak.
const LEAK_DEADLINE: Duration = Duration::from_secs(10);

/// Concurrent batches keep the registries consistent and leak nothing.
#[test]
fn concurrent_batches_keep_the_invariants() {
    let pool = ProjectPool::new(PROJECTS, SYMLINKED).expect("project pool");
    let mut runner = TestRunner::new(Config {
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..Config::default()
    });
    let strategy = (
        2_usize..=4,
        sequence(ops(PROJECTS, 1..=MAX_BATCH), 1..=MAX_BATCHES),
    );
    let result = runner.run(&strategy, |(workers, batches)| {
        run_case(&pool, workers, &batches)
    });
    if let Err(error) = result {
        panic!("{error}\n{runner}");
    }
}

/// Runs `batches` on a fresh multi-thread runtime with `workers` workers.
/// The pool is shared by the cases: sessions only name its directories.
fn run_case(pool: &ProjectPool, workers: usize, batches: &[Vec<Op>]) -> Result<(), TestCaseError> {
    quiet_scripted_panics();
    let runtime = jido_testkit::multi_thread_runtime(workers).expect("runtime");
    runtime.block_on(async {
        let metrics = tokio::runtime::Handle::current().metrics();
        let stub = SessionSupervisorStub::with_shutdown(Shutdown::Timeout(SHUTDOWN_TIMEOUT));
        let supervisor = SessionSupervisor::builder()
            .session_child(stub.clone())
            .max_sessions(LIMIT)
            .start_timeout(START_TIMEOUT)
            .build();
        // The supervisor's own process is running now, and stays.
        let baseline = metrics.num_alive_tasks();
        let mut known = Vec::new();
        for (number, batch) in batches.iter().enumerate() {
            run_batch(pool, &stub, &supervisor, &mut known, batch).await?;
            // Every tree that ended has told the supervisor; let it finish
            // reading (as Erlang tests call the supervisor to sync).
            supervisor.settle().await;
            check_invariants(&supervisor, &stub, &known)
                .map_err(|e| TestCaseError::fail(format!("after batch {number}: {e}")))?;
        }

        supervisor.shutdown().await;
        prop_assert_eq!(supervisor.registry().count(), 0);
        prop_assert_eq!(supervisor.count_children(), 0);
        prop_assert_eq!(stub.running_count(), 0);
        prop_assert!(supervisor.list_sessions().is_empty());

        // The processes have ended; their tasks are dropped by whichever
        // worker ran them last, which may be a moment after their end was
        // observed: yield until then (bounded, to fail rather than hang).
        let started = Instant::now();
        while metrics.num_alive_tasks() != baseline {
            prop_assert!(
                started.elapsed() < LEAK_DEADLINE,
                "{} tasks leaked",
                metrics.num_alive_tasks().saturating_sub(baseline)
            );
            tokio::task::yield_now().await;
        }
        Ok(())
    })
}

/// Prepares the sessions of `batch`'s starts (adding their ids to `known`),
/// then runs every operation in its own task at once and joins them all.
async fn run_batch(
    pool: &ProjectPool,
    stub: &SessionSupervisorStub,
    supervisor: &SessionSupervisor,
    known: &mut Vec<SessionId>,
    batch: &[Op],
) -> Result<(), TestCaseError> {
    let mut prepared = Vec::with_capacity(batch.len());
    for op in batch {
        let session = match op {
            Op::Start {
                project,
                alias,
                script,
            } => Some(new_session(pool.spelling(*project, *alias), stub, script)),
            Op::StartCancelled { project, .. } => {
                Some(new_session(pool.path(*project), stub, &CANCELLED_START))
            }
            _ => None,
        };
        if let Some(session) = &session {
            known.push(session.id());
        }
        prepared.push(session);
    }
    let picked = |pick: usize| {
        if known.is_empty() {
            SessionId::new()
        } else {
            known[pick % known.len()]
        }
    };

    let mut tasks = Vec::with_capacity(batch.len());
    for (op, session) in batch.iter().cloned().zip(prepared) {
        let stub = stub.clone();
        let supervisor = supervisor.clone();
        let target = match &op {
            Op::Stop { pick } | Op::Crash { pick, .. } | Op::Lookup { pick } => picked(*pick),
            _ => SessionId::new(),
        };
        tasks.push(tokio::spawn(async move {
            run_op(&stub, &supervisor, &op, session, target)
                .await
                .map_err(|e| format!("{op:?}: {e}"))
        }));
    }
    for task in tasks {
        task.await
            .map_err(|e| TestCaseError::fail(format!("operation task failed: {e}")))?
            .map_err(TestCaseError::fail)?;
    }
    Ok(())
}

fn new_session(
    path: impl AsRef<std::path::Path>,
    stub: &SessionSupervisorStub,
    script: &Script,
) -> Session {
    let session = Session::new(path).expect("session");
    stub.script_session(session.id(), script.clone());
    session
}

/// Runs one operation; checks what can be checked whatever runs beside it.
async fn run_op(
    stub: &SessionSupervisorStub,
    supervisor: &SessionSupervisor,
    op: &Op,
    session: Option<Session>,
    target: SessionId,
) -> Result<(), String> {
    match (op, session) {
        (Op::Start { script, .. }, Some(session)) => {
            let id = session.id();
            match supervisor.start_session(session).await {
                Ok(handle) => {
                    if !(script.keeps_running() || matches!(script, Script::CrashAfterStart(_))) {
                        return Err(format!("started although scripted {script:?}"));
                    }
                    if let Script::CrashAfterStart(reason) = script {
                        // Scripted to end at once; only a concurrent kill
                        // may come first.
                        let ended = handle.wait().await;
                        if &ended != reason && ended != ExitReason::Killed {
                            return Err(format!("ended with {ended:?}"));
                        }
                    }
                    Ok(())
                }
                Err(error) => {
                    if supervisor.registry().contains(id) || stub.pid(id).is_some() {
                        return Err(format!("{error:?} left a trace"));
                    }
                    check_start_error(&error, script)
                }
            }
        }
        (Op::StartCancelled { polls, .. }, Some(session)) => {
            let id = session.id();
            let mut start = Box::pin(supervisor.start_session(session));
            let mut finished = None;
            for _ in 0..*polls {
                if let Poll::Ready(result) = poll_once(start.as_mut()).await {
                    finished = Some(result);
                    break;
                }
                tokio::task::yield_now().await;
            }
            drop(start);
            if supervisor.registry().contains(id) || stub.pid(id).is_some() {
                return Err(format!("cancelled start ({finished:?}) left a trace"));
            }
            match finished {
                None | Some(Err(StartError::Registry(_) | StartError::Timeout { .. })) => Ok(()),
                Some(other) => Err(format!("a cancelled start finished: {other:?}")),
            }
        }
        (Op::Stop { .. }, _) => match supervisor.stop_session(target).await {
            Ok(_) | Err(StopError::NotFound { .. }) => Ok(()),
            Err(other) => Err(format!("stop: {other:?}")),
        },
        (Op::Crash { reason, .. }, _) => {
            let pid = match reason {
                CrashKind::Exit(reason) => stub.crash(target, reason.clone()),
                CrashKind::Panic(message) => stub.panic(target, message.clone()),
                CrashKind::Kill => stub.pid(target).inspect(|pid| pid.kill()),
            };
            if let Some(pid) = pid {
                // Awaited so that the batch ends with its cleanup done. The
                // session may still be registered here: its start may be in
                // flight (the stub spawns before the start returns), and the
                // supervisor cleans up when it commits.
                pid.wait().await;
            }
            Ok(())
        }
        (Op::Lookup { .. }, _) => {
            // Racing lookups must neither block nor see a half-made entry.
            let session = supervisor.registry().lookup(target);
            if session.as_ref().is_some_and(|s| s.id() != target) {
                return Err(format!("lookup of {target} gave {session:?}"));
            }
            let _ = supervisor.find_session(target);
            Ok(())
        }
        (Op::List, _) => {
            let sessions = supervisor.registry().list_all();
            check_unique(&sessions)?;
            if sessions.len() > LIMIT {
                return Err(format!("{} sessions listed, limit {LIMIT}", sessions.len()));
            }
            Ok(())
        }
        (op, None) => Err(format!("no session prepared for {op:?}")),
    }
}

/// A failed start failed for a reason its script (or a concurrent start,
/// or a loaded machine) explains.
fn check_start_error(error: &StartError, script: &Script) -> Result<(), String> {
    let explained = match (error, script) {
        (
            StartError::Registry(
                RegistryError::LimitReached { .. } | RegistryError::DuplicateProject { .. },
            ),
            _,
        ) => true,
        (StartError::Child(error), Script::Fail(scripted)) => error == scripted,
        (StartError::Ignored, Script::Ignore) => true,
        (StartError::Panicked { message: got }, Script::Panic(message)) => got == message,
        // A hanging start always times out; a slow one may on a loaded
        // machine.
        (StartError::Timeout { after }, Script::Hang | Script::Slow { .. }) => {
            *after == START_TIMEOUT
        }
        _ => false,
    };
    if explained {
        Ok(())
    } else {
        Err(format!("start scripted {script:?} failed with {error:?}"))
    }
}

fn check_unique(sessions: &[std::sync::Arc<Session>]) -> Result<(), String> {
    let ids: HashSet<SessionId> = sessions.iter().map(|s| s.id()).collect();
    let paths: HashSet<_> = sessions.iter().map(|s| s.project_path().clone()).collect();
    if ids.len() != sessions.len() {
        return Err("duplicate ids in list_all".into());
    }
    if paths.len() != sessions.len() {
        return Err("duplicate projects in list_all".into());
    }
    Ok(())
}

/// With no operation in flight: registry == children == live stub
/// processes, within the limit, unique ids and projects, all known and
/// running.
fn check_invariants(
    supervisor: &SessionSupervisor,
    stub: &SessionSupervisorStub,
    known: &[SessionId],
) -> Result<(), String> {
    let registered = supervisor.registry().count();
    let children = supervisor.count_children();
    let processes = stub.running_count();
    let pids = supervisor.list_sessions().len();
    if [children, processes, pids] != [registered; 3] {
        return Err(format!(
            "registry {registered}, children {children}, stub processes {processes}, pids {pids}"
        ));
    }
    if registered > supervisor.max_children() {
        return Err(format!("{registered} sessions, limit {LIMIT}"));
    }
    let sessions = supervisor.registry().list_all();
    check_unique(&sessions)?;
    for session in &sessions {
        if !known.contains(&session.id()) {
            return Err(format!("unknown session {}", session.id()));
        }
        if !supervisor.session_running(session.id()) {
            return Err(format!(
                "session {} registered but not running",
                session.id()
            ));
        }
    }
    Ok(())
}

/// Polls `future` once.
async fn poll_once<F: Future>(mut future: Pin<&mut F>) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await
}
