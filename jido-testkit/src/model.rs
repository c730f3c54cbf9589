//! [`Model`]: a pure reference model of a `SessionSupervisor` with its
//! `SessionRegistry`, for model-based tests.
//!
//! The model knows the limit, which sessions run and on which project, and
//! what each stub script does. [`Model::apply`] takes an [`Op`] and says what
//! the real supervisor must answer ([`Outcome`]), updating its own state as
//! the supervisor should. A test runs the same operations on both and
//! compares, step by step.
//!
//! Sessions are named by [`ModelId`]: the number of the successful start that
//! opened them (0 for the first, 1 for the second, …); a test keeps the real
//! `SessionId`s in a `Vec` in that order.
//!
//! ```
//! use jido_supervisor::ExitReason;
//! use jido_testkit::model::{Model, ModelId, Outcome};
//! use jido_testkit::Script;
//! use jido_testkit::strategies::Op;
//!
//! let mut model = Model::new(1);
//! let start = |project| Op::Start { project, alias: false, script: Script::Succeed };
//! assert_eq!(model.apply(&start(0)), Outcome::Started(ModelId(0)));
//! // The limit is checked before the project.
//! assert_eq!(model.apply(&start(0)), Outcome::LimitReached { count: 1, limit: 1 });
//! assert_eq!(
//!     model.apply(&Op::Stop { pick: 0 }),
//!     Outcome::Stopped { id: ModelId(0), reason: ExitReason::Shutdown }
//! );
//! assert_eq!(model.apply(&Op::Stop { pick: 0 }), Outcome::NotFound);
//! ```

use std::collections::BTreeMap;

use jido_supervisor::ExitReason;

use crate::Script;
use crate::strategies::Op;

/// A session of the model: the number of the successful start that opened
/// it, counting from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModelId(pub usize);

/// What the supervisor must answer to one [`Op`].
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The start succeeded; the session runs.
    Started(ModelId),
    /// The start succeeded, then the session's process ended by itself with
    /// `reason`; once that end is awaited the session is gone.
    StartedThenExited {
        /// The session.
        id: ModelId,
        /// Why its process ended.
        reason: ExitReason,
    },
    /// `RegistryError::LimitReached`.
    LimitReached {
        /// How many sessions ran.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// `RegistryError::DuplicateProject`, naming the session that has it.
    DuplicateProject {
        /// The session that has the project open.
        owner: ModelId,
    },
    /// `StartError::Child` with this message.
    Child(String),
    /// `StartError::Ignored`.
    Ignored,
    /// `StartError::Panicked` with this message.
    Panicked(String),
    /// `StartError::Timeout`.
    Timeout,
    /// The start was dropped before it finished: nothing registered.
    Cancelled,
    /// The stop succeeded; the process ended with `reason`.
    Stopped {
        /// The session.
        id: ModelId,
        /// Why its process ended.
        reason: ExitReason,
    },
    /// `StopError::NotFound`.
    NotFound,
    /// The session's process ended with `reason`; the session is gone.
    Crashed {
        /// The session.
        id: ModelId,
        /// Why its process ended.
        reason: ExitReason,
    },
    /// A crash of a session that does not run: nothing happens.
    NotRunning,
    /// A lookup: whether the session runs.
    Found(bool),
    /// Every running session, in start order.
    Listed(Vec<ModelId>),
}

impl Outcome {
    /// `true` for the outcomes of a start that registered nothing.
    pub fn is_failed_start(&self) -> bool {
        matches!(
            self,
            Outcome::LimitReached { .. }
                | Outcome::DuplicateProject { .. }
                | Outcome::Child(_)
                | Outcome::Ignored
                | Outcome::Panicked(_)
                | Outcome::Timeout
                | Outcome::Cancelled
        )
    }
}

#[derive(Debug, Clone)]
struct Running {
    project: usize,
    /// Why its process ends when it is stopped.
    stop_reason: ExitReason,
}

/// The reference model of a session supervisor with a session limit and a
/// scripted stub child.
///
/// Start checks, in order: the limit (`LimitReached` with the count and the
/// limit), then the project (`DuplicateProject`, naming its owner). Ids are
/// always fresh, so a duplicate id never happens. Only then is the child
/// called ([`stub_calls`](Self::stub_calls) counts it), and its script
/// decides.
#[derive(Debug, Clone)]
pub struct Model {
    limit: usize,
    started: usize,
    running: BTreeMap<ModelId, Running>,
    stub_calls: usize,
}

impl Model {
    /// An empty model of a supervisor holding at most `limit` sessions.
    pub fn new(limit: usize) -> Self {
        Model {
            limit,
            started: 0,
            running: BTreeMap::new(),
            stub_calls: 0,
        }
    }

    /// The session limit.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// How many sessions run.
    pub fn count(&self) -> usize {
        self.running.len()
    }

    /// How many starts have succeeded so far (the next [`ModelId`]).
    pub fn started(&self) -> usize {
        self.started
    }

    /// The running sessions, in start order.
    pub fn running(&self) -> Vec<ModelId> {
        self.running.keys().copied().collect()
    }

    /// `true` if session `id` runs.
    pub fn is_running(&self, id: ModelId) -> bool {
        self.running.contains_key(&id)
    }

    /// The project of running session `id`.
    pub fn project_of(&self, id: ModelId) -> Option<usize> {
        self.running.get(&id).map(|running| running.project)
    }

    /// How often the child's `start` has been called.
    pub fn stub_calls(&self) -> usize {
        self.stub_calls
    }

    /// The session a `pick` names: one started so far, in start order,
    /// modulo their number; `None` if none was started.
    pub fn resolve(&self, pick: usize) -> Option<ModelId> {
        (self.started > 0).then(|| ModelId(pick % self.started))
    }

    /// Applies `op`; returns what the supervisor must answer.
    pub fn apply(&mut self, op: &Op) -> Outcome {
        match op {
            Op::Start {
                project, script, ..
            } => self.start(*project, Some(script)),
            Op::StartCancelled { project, polls } => {
                if *polls == 0 {
                    // Never polled: the start did not even begin.
                    Outcome::Cancelled
                } else {
                    self.start(*project, None)
                }
            }
            Op::Stop { pick } => match self.resolve(*pick) {
                Some(id) => match self.running.remove(&id) {
                    Some(running) => Outcome::Stopped {
                        id,
                        reason: running.stop_reason,
                    },
                    None => Outcome::NotFound,
                },
                None => Outcome::NotFound,
            },
            Op::Crash { pick, reason } => match self.resolve(*pick) {
                Some(id) if self.running.remove(&id).is_some() => Outcome::Crashed {
                    id,
                    reason: reason.exit_reason(),
                },
                _ => Outcome::NotRunning,
            },
            Op::Lookup { pick } => {
                Outcome::Found(self.resolve(*pick).is_some_and(|id| self.is_running(id)))
            }
            Op::List => Outcome::Listed(self.running()),
        }
    }

    /// A start on `project` following `script`; `None` for a start that is
    /// dropped in flight once it has begun.
    fn start(&mut self, project: usize, script: Option<&Script>) -> Outcome {
        let count = self.running.len();
        if count >= self.limit {
            return Outcome::LimitReached {
                count,
                limit: self.limit,
            };
        }
        if let Some((owner, _)) = self
            .running
            .iter()
            .find(|(_, running)| running.project == project)
        {
            return Outcome::DuplicateProject { owner: *owner };
        }
        self.stub_calls += 1;
        let Some(script) = script else {
            return Outcome::Cancelled;
        };
        let stop_reason = match script {
            Script::Fail(error) => return Outcome::Child(error.to_string()),
            Script::Ignore => return Outcome::Ignored,
            Script::Panic(message) => return Outcome::Panicked(message.clone()),
            Script::Hang => return Outcome::Timeout,
            Script::CrashAfterStart(reason) => {
                let id = self.next_id();
                return Outcome::StartedThenExited {
                    id,
                    reason: reason.clone(),
                };
            }
            Script::Succeed | Script::Slow { .. } => ExitReason::Shutdown,
            // Ignores the stop request: killed after the shutdown timeout.
            Script::IgnoreStop => ExitReason::Killed,
        };
        let id = self.next_id();
        self.running.insert(
            id,
            Running {
                project,
                stop_reason,
            },
        );
        Outcome::Started(id)
    }

    fn next_id(&mut self) -> ModelId {
        let id = ModelId(self.started);
        self.started += 1;
        id
    }
}
