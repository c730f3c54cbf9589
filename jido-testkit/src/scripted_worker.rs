//! [`ScriptedChildren`] and [`ScriptedWorker`]: user-defined children whose
//! starts follow a script and whose lives are written to a journal.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use jido_supervisor::process::{
    ChildSpec, Context, Observer, StartOutcome, SupervisorEvent, Worker,
};
use jido_supervisor::{ExitReason, Term};
use parking_lot::Mutex;
use tokio::sync::mpsc;

/// What a [`ScriptedWorker`] is asked.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum WorkerCommand {
    /// Answers its incarnation number.
    Ping,
    /// Answers, then ends with the reason (OTP's `{stop, Reason, ...}`).
    Stop(ExitReason),
    /// Panics with the message.
    Panic(String),
    /// Sleeps, then answers (for call timeouts; use paused time).
    Sleep(Duration),
}

/// What the next start of a scripted child does.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum WorkerStart {
    /// Starts.
    Start,
    /// Fails with this reason.
    Fail(Term),
    /// Returns [`StartOutcome::Ignore`].
    Ignore,
    /// Panics with this message.
    Panic(String),
}

/// A worker for tests of user-defined children: it answers its incarnation
/// number (1 for the first start of its name, 2 after a restart, …), does
/// what its [`WorkerCommand`]s say, and writes `stop <name> <reason>` to
/// the journal when it terminates gracefully.
pub struct ScriptedWorker {
    name: &'static str,
    incarnation: usize,
    journal: Journal,
    /// Ignores stop requests: only a kill ends it.
    stubborn: bool,
}

impl fmt::Debug for ScriptedWorker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScriptedWorker")
            .field("name", &self.name)
            .field("incarnation", &self.incarnation)
            .finish()
    }
}

impl Worker for ScriptedWorker {
    type Request = WorkerCommand;
    type Reply = usize;

    async fn handle(&mut self, command: WorkerCommand, ctx: &mut Context) -> usize {
        match command {
            WorkerCommand::Ping => {}
            WorkerCommand::Stop(reason) => ctx.stop(reason),
            WorkerCommand::Panic(message) => panic!("{message}"),
            WorkerCommand::Sleep(duration) => tokio::time::sleep(duration).await,
        }
        self.incarnation
    }

    async fn terminate(&mut self, reason: &ExitReason) {
        if self.stubborn {
            std::future::pending::<()>().await;
        }
        self.journal.write(format!("stop {} {reason}", self.name));
    }
}

/// An ordered, shared journal of what scripted children did: `start <name>`,
/// `fail <name>`, `ignore <name>`, `stop <name> <reason>`.
#[derive(Clone, Default)]
pub struct Journal(Arc<Mutex<Vec<String>>>);

impl Journal {
    fn write(&self, line: String) {
        self.0.lock().push(line);
    }

    /// Everything written so far, and empties the journal.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock())
    }
}

impl fmt::Debug for Journal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.lock().iter()).finish()
    }
}

/// Makes [`ChildSpec`]s of [`ScriptedWorker`]s and scripts their starts:
/// what a test of user-defined children (an agent, a tool runner) needs.
/// Cheap to clone; clones share the journal and the scripts.
///
/// ```
/// use jido_supervisor::process::ChildSpec;
/// use jido_supervisor::tree::{SessionContext, SessionSup};
/// use jido_supervisor::{SessionSupervisor, Term};
/// use jido_testkit::{ScriptedChildren, ScriptedWorker, WorkerCommand, WorkerStart};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let children = ScriptedChildren::new();
/// let tree = SessionSup::new().child(children.spec::<SessionContext>("agent"));
/// let supervisor = SessionSupervisor::builder().session_child(tree).build();
/// let dir = tempfile::tempdir().unwrap();
/// let id = supervisor.create_session(dir.path()).await.unwrap().id();
///
/// let agent = supervisor.child_ref::<ScriptedWorker>(id, "agent");
/// assert_eq!(agent.call(WorkerCommand::Ping).await.unwrap(), 1);
///
/// // Crash it; its restart fails once, then succeeds: the call waits.
/// children.plan("agent", [WorkerStart::Fail(Term::msg("port busy"))]);
/// agent.pid().unwrap().kill();
/// assert_eq!(agent.call(WorkerCommand::Ping).await.unwrap(), 2);
/// assert_eq!(children.journal().take(), ["start agent", "fail agent", "start agent"]);
/// # }
/// ```
#[derive(Clone, Default)]
pub struct ScriptedChildren {
    journal: Journal,
    plans: Arc<Mutex<HashMap<&'static str, VecDeque<WorkerStart>>>>,
    /// Starts attempted, per name.
    starts: Arc<Mutex<HashMap<&'static str, usize>>>,
    /// Starts that succeeded, per name: the next incarnation's number.
    incarnations: Arc<Mutex<HashMap<&'static str, usize>>>,
}

impl fmt::Debug for ScriptedChildren {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScriptedChildren")
            .field("journal", &self.journal)
            .finish()
    }
}

impl ScriptedChildren {
    /// No scripts, an empty journal.
    pub fn new() -> Self {
        Self::default()
    }

    /// The journal every child made here writes to.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// How many starts of `name` were attempted.
    pub fn starts(&self, name: &str) -> usize {
        self.starts.lock().get(name).copied().unwrap_or(0)
    }

    /// Queues what the next starts of `name` do (then they start).
    pub fn plan(&self, name: &'static str, plans: impl IntoIterator<Item = WorkerStart>) {
        self.plans.lock().entry(name).or_default().extend(plans);
    }

    /// A child named `name` (permanent, 5 s shutdown: change them on the
    /// spec).
    pub fn spec<C: Send + Sync + 'static>(&self, name: &'static str) -> ChildSpec<C> {
        self.make(name, false)
    }

    /// Like [`spec`](Self::spec), for a worker that ignores stop requests
    /// (only a kill ends it: for shutdown timeouts).
    pub fn stubborn_spec<C: Send + Sync + 'static>(&self, name: &'static str) -> ChildSpec<C> {
        self.make(name, true)
    }

    fn make<C: Send + Sync + 'static>(&self, name: &'static str, stubborn: bool) -> ChildSpec<C> {
        let children = self.clone();
        ChildSpec::try_worker(name, move |_: &C| children.start(name, stubborn))
    }

    fn start(
        &self,
        name: &'static str,
        stubborn: bool,
    ) -> Result<StartOutcome<ScriptedWorker>, Term> {
        *self.starts.lock().entry(name).or_default() += 1;
        let plan = self
            .plans
            .lock()
            .get_mut(name)
            .and_then(VecDeque::pop_front)
            .unwrap_or(WorkerStart::Start);
        match plan {
            WorkerStart::Start => {}
            WorkerStart::Fail(reason) => {
                self.journal.write(format!("fail {name}"));
                return Err(reason);
            }
            WorkerStart::Ignore => {
                self.journal.write(format!("ignore {name}"));
                return Ok(StartOutcome::Ignore);
            }
            WorkerStart::Panic(message) => panic!("{message}"),
        }
        let incarnation = {
            let mut incarnations = self.incarnations.lock();
            let n = incarnations.entry(name).or_default();
            *n += 1;
            *n
        };
        self.journal.write(format!("start {name}"));
        Ok(StartOutcome::Started(ScriptedWorker {
            name,
            incarnation,
            journal: self.journal.clone(),
            stubborn,
        }))
    }
}

/// An [`Observer`] that forwards a supervisor's events to a channel, so a
/// test can await them.
///
/// ```
/// use jido_testkit::SupervisorEvents;
///
/// let (observer, mut events) = SupervisorEvents::channel();
/// # drop((observer, events.try_recv()));
/// ```
#[derive(Debug, Clone)]
pub struct SupervisorEvents(mpsc::UnboundedSender<SupervisorEvent>);

impl SupervisorEvents {
    /// An observer, and the receiver of what it observes.
    pub fn channel() -> (Arc<dyn Observer>, mpsc::UnboundedReceiver<SupervisorEvent>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        (Arc::new(SupervisorEvents(sender)), receiver)
    }
}

impl Observer for SupervisorEvents {
    fn observe(&self, event: SupervisorEvent) {
        let _ = self.0.send(event);
    }
}
