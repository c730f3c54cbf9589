//! Model-based property tests: random operation sequences run against the
//! real `SessionSupervisor` (with the stub child) and against the reference
//! model; after every step the outcomes must match and the invariants hold.
//!
//! Each case runs on its own current-thread runtime with paused time, so
//! timeouts (a hanging start, a stop of a process that ignores stop
//! requests) elapse instantly and every step is deterministic.

use std::collections::{BTreeSet, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use jido_supervisor::RegistryError;
use jido_supervisor::{Session, SessionId};
use jido_supervisor::{SessionHandle, SessionSupervisor, StartError, StopError};
use jido_testkit::Script;
use jido_testkit::SessionSupervisorStub;
use jido_testkit::model::{Model, ModelId, Outcome};
use jido_testkit::strategies::{
    CANCELLED_START, CrashKind, Op, ProjectPool, ops, quiet_scripted_panics,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestError, TestRunner};

/// The supervisor's session limit.
const LIMIT: usize = 3;
/// Projects in the pool: a few more than the limit, so both the limit and
/// duplicate projects are hit often.
const PROJECTS: usize = 5;
/// Projects with a symlink alias.
const SYMLINKED: usize = 2;
/// The longest operation sequence.
const MAX_OPS: usize = 40;
/// The start timeout (virtual time).
const START_TIMEOUT: Duration = Duration::from_millis(100);

/// The supervisor answers every operation as the model does, and the
/// invariants hold after every step.
#[test]
fn supervisor_matches_the_model() {
    let pool = ProjectPool::new(PROJECTS, SYMLINKED).expect("project pool");
    let mut runner = TestRunner::new(Config {
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..Config::default()
    });
    let result = runner.run(&ops(PROJECTS, 0..=MAX_OPS), |ops| {
        run_case(&pool, &ops, LIMIT, LIMIT)
    });
    if let Err(error) = result {
        panic!("{error}\n{runner}");
    }
}

/// The property can fail: against a model whose limit is one too high,
/// proptest finds a counterexample and shrinks it to the shortest one, the
/// `LIMIT + 1` starts that hit the real limit.
#[test]
fn an_off_by_one_model_is_caught_and_shrunk() {
    let defaults = Config::default();
    let mut runner = TestRunner::new(Config {
        // At least enough cases to meet a sequence that fills the limit,
        // whatever PROPTEST_CASES says.
        cases: defaults.cases.max(256),
        failure_persistence: None,
        ..defaults
    });
    let pool = ProjectPool::new(PROJECTS, SYMLINKED).expect("project pool");
    let result = runner.run(&ops(PROJECTS, 0..=MAX_OPS), |ops| {
        run_case(&pool, &ops, LIMIT, LIMIT + 1)
    });
    let (reason, minimal) = match result {
        Err(TestError::Fail(reason, minimal)) => (reason, minimal),
        other => panic!("the wrong model was not caught: {other:?}"),
    };
    eprintln!(
        "shrunk to {} ops: {minimal:#?}\nbecause: {reason}",
        minimal.len()
    );
    assert_eq!(minimal.len(), LIMIT + 1, "not minimal: {minimal:#?}");
    // Nothing but the starts that fill the limit, and the one it refuses.
    assert!(
        minimal
            .iter()
            .all(|op| matches!(op, Op::Start { .. } | Op::StartCancelled { .. })),
        "{minimal:#?}"
    );
    assert!(reason.message().contains("LimitReached"), "{reason}");
}

/// Runs `ops` against a supervisor holding `real_limit` sessions and a model
/// holding `model_limit`, on a fresh paused current-thread runtime. The pool
/// is shared by the cases: sessions only name its directories.
fn run_case(
    pool: &ProjectPool,
    ops: &[Op],
    real_limit: usize,
    model_limit: usize,
) -> Result<(), TestCaseError> {
    quiet_scripted_panics();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut harness = Harness::new(pool, real_limit, model_limit);
        for (step, op) in ops.iter().enumerate() {
            harness.step(step, op).await?;
        }
        harness.finish().await
    })
}

/// The real supervisor, the model, and the map between their ids.
struct Harness<'a> {
    pool: &'a ProjectPool,
    stub: SessionSupervisorStub,
    supervisor: SessionSupervisor,
    model: Model,
    /// The real id of each session the model knows, by [`ModelId`].
    ids: Vec<SessionId>,
    /// Alive tasks before anything ran.
    baseline_tasks: usize,
}

impl<'a> Harness<'a> {
    fn new(pool: &'a ProjectPool, real_limit: usize, model_limit: usize) -> Self {
        let stub = SessionSupervisorStub::new();
        let supervisor = SessionSupervisor::builder()
            .session_child(stub.clone())
            .max_sessions(real_limit)
            .start_timeout(START_TIMEOUT)
            .build();
        Harness {
            pool,
            stub,
            supervisor,
            model: Model::new(model_limit),
            ids: Vec::new(),
            baseline_tasks: tokio::runtime::Handle::current()
                .metrics()
                .num_alive_tasks(),
        }
    }

    /// Runs `op` on both, compares, checks the invariants.
    async fn step(&mut self, step: usize, op: &Op) -> Result<(), TestCaseError> {
        let expected = self.model.apply(op);
        let actual = self.run(op).await?;
        prop_assert_eq!(
            &actual,
            &expected,
            "step {}: {:?} answered {:?}, the model says {:?}",
            step,
            op,
            actual,
            expected
        );
        self.check_invariants()
            .map_err(|e| TestCaseError::fail(format!("after step {step} ({op:?}): {e}")))
    }

    /// The real id a pick names (as the model resolves it), or an id never
    /// registered.
    fn picked(&self, pick: usize) -> (SessionId, Option<ModelId>) {
        match self.model.resolve(pick) {
            Some(mid) => (self.ids[mid.0], Some(mid)),
            None => (SessionId::new(), None),
        }
    }

    fn model_id(&self, id: SessionId) -> Result<ModelId, TestCaseError> {
        self.ids
            .iter()
            .position(|known| *known == id)
            .map(ModelId)
            .ok_or_else(|| TestCaseError::fail(format!("unknown session {id}")))
    }

    /// Runs `op` on the real supervisor; its answer as an [`Outcome`].
    async fn run(&mut self, op: &Op) -> Result<Outcome, TestCaseError> {
        match op {
            Op::Start {
                project,
                alias,
                script,
            } => {
                let session = Session::new(self.pool.spelling(*project, *alias)).expect("session");
                let id = session.id();
                self.stub.script_session(id, script.clone());
                let result = self.supervisor.start_session(session).await;
                let outcome = self.start_outcome(id, *project, result, script).await?;
                self.check_start_trace(id, *project, &outcome)?;
                Ok(outcome)
            }
            Op::StartCancelled { project, polls } => {
                let session = Session::new(self.pool.path(*project)).expect("session");
                let id = session.id();
                self.stub.script_session(id, CANCELLED_START);
                let mut start = Box::pin(self.supervisor.start_session(session));
                let mut finished = None;
                for _ in 0..*polls {
                    if let Poll::Ready(result) = poll_once(start.as_mut()).await {
                        finished = Some(result);
                        break;
                    }
                    tokio::task::yield_now().await;
                }
                drop(start);
                let outcome = match finished {
                    None => Outcome::Cancelled,
                    Some(result) => {
                        self.start_outcome(id, *project, result, &CANCELLED_START)
                            .await?
                    }
                };
                self.check_start_trace(id, *project, &outcome)?;
                Ok(outcome)
            }
            Op::Stop { pick } => {
                let (id, _) = self.picked(*pick);
                let project = self.registered_project(id);
                match self.supervisor.stop_session(id).await {
                    Ok(reason) => {
                        self.check_gone(id, project)?;
                        Ok(Outcome::Stopped {
                            id: self.model_id(id)?,
                            reason,
                        })
                    }
                    Err(StopError::NotFound { id: missing }) => {
                        prop_assert_eq!(missing, id);
                        Ok(Outcome::NotFound)
                    }
                    Err(other) => Err(TestCaseError::fail(format!("stop: {other:?}"))),
                }
            }
            Op::Crash { pick, reason } => {
                let (id, _) = self.picked(*pick);
                let project = self.registered_project(id);
                let pid = match reason {
                    CrashKind::Exit(reason) => self.stub.crash(id, reason.clone()),
                    CrashKind::Panic(message) => self.stub.panic(id, message.clone()),
                    CrashKind::Kill => self.stub.pid(id).inspect(|pid| pid.kill()),
                };
                match pid {
                    None => Ok(Outcome::NotRunning),
                    Some(pid) => {
                        let reason = pid.wait().await;
                        // The supervisor reads tree exits from its mailbox:
                        // sync with it, as an Erlang test would.
                        self.supervisor.settle().await;
                        self.check_gone(id, project)?;
                        Ok(Outcome::Crashed {
                            id: self.model_id(id)?,
                            reason,
                        })
                    }
                }
            }
            Op::Lookup { pick } => {
                let (id, _) = self.picked(*pick);
                let found = self.supervisor.find_session(id).is_some();
                prop_assert_eq!(self.supervisor.session_running(id), found);
                prop_assert_eq!(self.supervisor.registry().contains(id), found);
                prop_assert_eq!(self.supervisor.registry().lookup(id).is_some(), found);
                prop_assert_eq!(self.stub.pid(id).is_some(), found);
                Ok(Outcome::Found(found))
            }
            Op::List => {
                let sessions = self.supervisor.registry().list_all();
                prop_assert!(
                    sessions
                        .windows(2)
                        .all(|w| w[0].created_at() <= w[1].created_at()),
                    "list_all is not oldest first"
                );
                let mut listed = sessions
                    .iter()
                    .map(|session| self.model_id(session.id()))
                    .collect::<Result<Vec<_>, _>>()?;
                listed.sort();
                Ok(Outcome::Listed(listed))
            }
        }
    }

    /// The project session `id` has open in the real registry, if any.
    fn registered_project(&self, id: SessionId) -> Option<usize> {
        let session = self.supervisor.registry().lookup(id)?;
        self.pool.project_of(session.project_path())
    }

    /// A start's real result as an [`Outcome`]; a session whose script ends
    /// it at once is awaited.
    async fn start_outcome(
        &mut self,
        id: SessionId,
        project: usize,
        result: Result<SessionHandle, StartError>,
        script: &Script,
    ) -> Result<Outcome, TestCaseError> {
        let error = match result {
            Ok(handle) => {
                self.ids.push(id);
                let mid = ModelId(self.ids.len() - 1);
                prop_assert_eq!(self.supervisor.find_session(id), Some(handle.clone()));
                if let Script::CrashAfterStart(_) = script {
                    let reason = handle.wait().await;
                    self.check_gone(id, Some(project))?;
                    return Ok(Outcome::StartedThenExited { id: mid, reason });
                }
                return Ok(Outcome::Started(mid));
            }
            Err(error) => error,
        };
        Ok(match error {
            StartError::Registry(RegistryError::LimitReached { count, limit }) => {
                Outcome::LimitReached { count, limit }
            }
            StartError::Registry(RegistryError::DuplicateProject { path, owner }) => {
                prop_assert_eq!(&path, &self.pool.project_path(project));
                Outcome::DuplicateProject {
                    owner: self.model_id(owner)?,
                }
            }
            StartError::Child(error) => Outcome::Child(error.to_string()),
            StartError::Ignored => Outcome::Ignored,
            StartError::Panicked { message } => Outcome::Panicked(message),
            StartError::Timeout { after } => {
                prop_assert_eq!(after, START_TIMEOUT);
                Outcome::Timeout
            }
            other => return Err(TestCaseError::fail(format!("start: {other:?}"))),
        })
    }

    /// A start that did not leave a session running left no trace of it.
    fn check_start_trace(
        &self,
        id: SessionId,
        project: usize,
        outcome: &Outcome,
    ) -> Result<(), TestCaseError> {
        match outcome {
            Outcome::Started(_) => {
                prop_assert!(self.supervisor.session_running(id));
                let owner = self
                    .supervisor
                    .registry()
                    .lookup_by_project(&self.pool.project_path(project));
                prop_assert_eq!(owner.map(|s| s.id()), Some(id));
                Ok(())
            }
            Outcome::StartedThenExited { .. } => Ok(()), // checked when awaited
            failed => {
                prop_assert!(failed.is_failed_start(), "{:?}", failed);
                self.check_no_trace(id)?;
                let owner = self
                    .supervisor
                    .registry()
                    .lookup_by_project(&self.pool.project_path(project));
                match failed {
                    // The project stays with its owner.
                    Outcome::DuplicateProject { owner: expected } => {
                        prop_assert_eq!(owner.map(|s| s.id()), Some(self.ids[expected.0]));
                    }
                    // Someone else may hold it; not this session.
                    _ => prop_assert!(owner.is_none_or(|s| s.id() != id)),
                }
                Ok(())
            }
        }
    }

    /// Session `id` is in neither registry, nor running in the stub.
    fn check_no_trace(&self, id: SessionId) -> Result<(), TestCaseError> {
        let supervisor = &self.supervisor;
        prop_assert!(!supervisor.registry().contains(id), "{} registered", id);
        prop_assert!(!supervisor.session_running(id), "{} running", id);
        prop_assert!(supervisor.find_session(id).is_none());
        prop_assert!(self.stub.pid(id).is_none(), "stub process of {} alive", id);
        Ok(())
    }

    /// A session that ended is gone from both registries, and so is its
    /// project.
    fn check_gone(&self, id: SessionId, project: Option<usize>) -> Result<(), TestCaseError> {
        self.check_no_trace(id)?;
        if let Some(project) = project {
            let owner = self
                .supervisor
                .registry()
                .lookup_by_project(&self.pool.project_path(project));
            prop_assert!(owner.is_none(), "project {} still open", project);
        }
        Ok(())
    }

    /// The invariants that hold between any two steps.
    fn check_invariants(&self) -> Result<(), TestCaseError> {
        let supervisor = &self.supervisor;
        let registered = supervisor.registry().count();
        let processes = self.stub.running_count();
        prop_assert_eq!(
            registered,
            supervisor.count_children(),
            "registry vs children"
        );
        prop_assert_eq!(registered, processes, "registry vs stub processes");
        prop_assert_eq!(registered, supervisor.list_sessions().len());
        prop_assert_eq!(registered, self.model.count(), "registry vs model");
        prop_assert!(registered <= supervisor.max_children());

        let sessions = supervisor.registry().list_all();
        let ids: HashSet<SessionId> = sessions.iter().map(|s| s.id()).collect();
        let paths: HashSet<_> = sessions.iter().map(|s| s.project_path().clone()).collect();
        prop_assert_eq!(ids.len(), sessions.len(), "duplicate ids");
        prop_assert_eq!(paths.len(), sessions.len(), "duplicate projects");

        let mut running = BTreeSet::new();
        for session in &sessions {
            let mid = self.model_id(session.id())?;
            prop_assert_eq!(
                self.pool.project_of(session.project_path()),
                self.model.project_of(mid),
                "project of {:?}",
                mid
            );
            prop_assert!(supervisor.session_running(session.id()));
            running.insert(mid);
        }
        prop_assert_eq!(
            running.into_iter().collect::<Vec<_>>(),
            self.model.running()
        );
        prop_assert_eq!(
            self.stub.call_count(),
            self.model.stub_calls(),
            "stub calls"
        );
        Ok(())
    }

    /// Shuts down; nothing is left registered and no task is left alive.
    async fn finish(self) -> Result<(), TestCaseError> {
        self.supervisor.shutdown().await;
        prop_assert_eq!(self.supervisor.registry().count(), 0);
        prop_assert_eq!(self.supervisor.count_children(), 0);
        prop_assert_eq!(self.stub.running_count(), 0);
        // Killed processes are dropped when the runtime next schedules them;
        // on a current-thread runtime a few yields are enough.
        let metrics = tokio::runtime::Handle::current().metrics();
        for _ in 0..100 {
            if metrics.num_alive_tasks() == self.baseline_tasks {
                return Ok(());
            }
            tokio::task::yield_now().await;
        }
        Err(TestCaseError::fail(format!(
            "{} tasks left alive after shutdown",
            metrics.num_alive_tasks() - self.baseline_tasks
        )))
    }
}

/// Polls `future` once.
async fn poll_once<F: Future>(mut future: Pin<&mut F>) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await
}
