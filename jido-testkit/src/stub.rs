//! [`SessionSupervisorStub`]: a scriptable [`SessionChild`] for tests.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Weak};

use async_trait::async_trait;
use jido_supervisor::process::{Pid, Shutdown, StartOutcome, spawn_with_pid};
use jido_supervisor::tree::{ChildContext, ChildEvents, SessionChild, TreeHandle};
use jido_supervisor::{ExitReason, SessionId, Term};
use parking_lot::Mutex;
use tokio::sync::mpsc;

/// How many calls the stub remembers unless told otherwise; older ones are
/// forgotten (their count is kept).
pub const DEFAULT_CALL_LOG: usize = 1024;

/// What the stub does on one start.
#[derive(Debug, Clone, PartialEq)]
pub enum Script {
    /// Starts a process that runs until asked to stop.
    Succeed,
    /// Fails with this reason.
    Fail(Term),
    /// Returns [`StartOutcome::Ignore`].
    Ignore,
    /// Panics inside `start` with this message.
    Panic(String),
    /// Never returns from `start` (for start timeouts and cancellation).
    Hang,
    /// Starts, then the process ends at once with this reason (an abnormal
    /// reason is a crash; `Normal` a normal exit).
    CrashAfterStart(ExitReason),
    /// Starts a process that ignores stop requests: only a kill ends it (for
    /// shutdown timeouts).
    IgnoreStop,
    /// Yields `before` times, spawns the process, yields `after` times, then
    /// returns it: every yield is an await point at which a test may drop
    /// the start. A dropped start kills what it spawned.
    Slow {
        /// Yields before spawning.
        before: u32,
        /// Yields after spawning, before returning.
        after: u32,
    },
}

impl Script {
    /// `ExitReason::Normal` after start: the process ends normally at once.
    pub fn exit_normally() -> Script {
        Script::CrashAfterStart(ExitReason::Normal)
    }

    /// `true` for the scripts that leave a session running after its start
    /// (`Succeed`, `IgnoreStop`, `Slow`).
    pub fn keeps_running(&self) -> bool {
        matches!(
            self,
            Script::Succeed | Script::IgnoreStop | Script::Slow { .. }
        )
    }
}

/// One call of [`SessionChild::start`] on the stub, as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct StubCall {
    /// 1 for the first start the stub saw, 2 for the second, ….
    pub number: usize,
    /// The session being started.
    pub session_id: SessionId,
    /// What the stub did.
    pub script: Script,
}

/// A command to a running stub process.
#[derive(Debug)]
enum Command {
    Exit(ExitReason),
    Panic(String),
}

struct Running {
    pid: Pid,
    commands: mpsc::UnboundedSender<Command>,
    events: ChildEvents,
}

struct Scripts {
    default: Option<Script>,
    per_session: HashMap<SessionId, VecDeque<Script>>,
    per_call: VecDeque<Script>,
    nth: HashMap<usize, Script>,
    /// The most recent calls, at most `log_limit`.
    calls: VecDeque<StubCall>,
    log_limit: usize,
    /// Every call ever made.
    count: usize,
}

/// A [`SessionChild`] for test authors: the analogue of the stub supervisor
/// module jido_code's tests pass as `:supervisor_module`.
///
/// Like the real tree it runs one process per session that holds the
/// session; unlike it, it does what it is scripted to: succeed, fail,
/// ignore, panic, hang, crash after start, exit normally, ignore stop
/// requests, fail the Nth start. It records calls ([`calls`](Self::calls),
/// the last [`DEFAULT_CALL_LOG`] unless set otherwise) and can crash or end
/// a running session on demand ([`crash`](Self::crash)). Its memory stays
/// bounded however many sessions come and go: ended sessions are forgotten
/// and the call log is a ring.
///
/// Which script a start follows: the next one queued for its session
/// ([`script_session`](Self::script_session)), else the one set for its call
/// number ([`script_nth`](Self::script_nth)), else the next one queued for any
/// call ([`script_next`](Self::script_next)), else the default
/// ([`Script::Succeed`] unless [`script_default`](Self::script_default) says
/// otherwise).
///
/// ```
/// use jido_supervisor::{Session, SessionSupervisor, StartError, Term};
/// use jido_testkit::{Script, SessionSupervisorStub};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let stub = SessionSupervisorStub::new();
/// let supervisor = SessionSupervisor::builder().session_child(stub.clone()).build();
///
/// stub.script_next(Script::Fail(Term::msg("no API key")));
/// let dir = tempfile::tempdir().unwrap();
/// let result = supervisor.start_session(Session::new(dir.path()).unwrap()).await;
/// assert_eq!(result.unwrap_err(), StartError::Child(Term::msg("no API key")));
/// assert_eq!(supervisor.registry().count(), 0); // rolled back
/// assert_eq!(stub.calls().len(), 1);
/// # }
/// ```
#[derive(Clone)]
pub struct SessionSupervisorStub {
    inner: Arc<Inner>,
}

struct Inner {
    scripts: Mutex<Scripts>,
    running: Mutex<HashMap<SessionId, Running>>,
    shutdown: Shutdown,
}

impl Default for SessionSupervisorStub {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for SessionSupervisorStub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionSupervisorStub")
            .field("calls", &self.call_count())
            .field("running", &self.running_count())
            .finish()
    }
}

impl SessionSupervisorStub {
    /// A stub whose processes are terminated with the default policy (asked
    /// to stop, killed after 5 s).
    pub fn new() -> Self {
        Self::with_shutdown(Shutdown::default())
    }

    /// A stub whose processes are terminated with `shutdown`.
    pub fn with_shutdown(shutdown: Shutdown) -> Self {
        SessionSupervisorStub {
            inner: Arc::new(Inner {
                scripts: Mutex::new(Scripts {
                    default: None,
                    per_session: HashMap::new(),
                    per_call: VecDeque::new(),
                    nth: HashMap::new(),
                    calls: VecDeque::new(),
                    log_limit: DEFAULT_CALL_LOG,
                    count: 0,
                }),
                running: Mutex::new(HashMap::new()),
                shutdown,
            }),
        }
    }

    /// Keeps the last `limit` calls in [`calls`](Self::calls) (0: none).
    pub fn call_log(self, limit: usize) -> Self {
        {
            let mut scripts = self.inner.scripts.lock();
            scripts.log_limit = limit;
            while scripts.calls.len() > limit {
                scripts.calls.pop_front();
            }
        }
        self
    }

    /// What every start does unless scripted otherwise.
    pub fn script_default(&self, script: Script) {
        self.inner.scripts.lock().default = Some(script);
    }

    /// Queues `script` for the next start of `session_id`.
    pub fn script_session(&self, session_id: SessionId, script: Script) {
        let mut scripts = self.inner.scripts.lock();
        scripts
            .per_session
            .entry(session_id)
            .or_default()
            .push_back(script);
    }

    /// Queues `script` for the next start of any session.
    pub fn script_next(&self, script: Script) {
        self.inner.scripts.lock().per_call.push_back(script);
    }

    /// Sets what the `n`th start (counting from 1) does.
    pub fn script_nth(&self, n: usize, script: Script) {
        self.inner.scripts.lock().nth.insert(n, script);
    }

    /// Makes the `n`th start (counting from 1) fail with `error`.
    pub fn fail_nth(&self, n: usize, error: Term) {
        self.script_nth(n, Script::Fail(error));
    }

    /// The most recent starts (at most the call log's size), oldest first.
    pub fn calls(&self) -> Vec<StubCall> {
        self.inner.scripts.lock().calls.iter().cloned().collect()
    }

    /// How many starts the stub has seen in all.
    pub fn call_count(&self) -> usize {
        self.inner.scripts.lock().count
    }

    /// How many of the stub's processes are alive.
    pub fn running_count(&self) -> usize {
        let running = self.inner.running.lock();
        running
            .values()
            .filter(|process| process.pid.is_alive())
            .count()
    }

    /// How many sessions the stub keeps anything for (live processes, and
    /// ended ones whose task has not been dropped yet): what its memory
    /// grows with. Zero once every process has ended.
    pub fn tracked_sessions(&self) -> usize {
        self.inner.running.lock().len()
    }

    /// The process the stub started for `session_id`, if it is still alive.
    pub fn pid(&self, session_id: SessionId) -> Option<Pid> {
        let running = self.inner.running.lock();
        running
            .get(&session_id)
            .map(|process| process.pid.clone())
            .filter(Pid::is_alive)
    }

    /// Makes the running process of `session_id` end with `reason`, and
    /// returns its pid (to `wait` on). `None` if it does not run.
    pub fn crash(&self, session_id: SessionId, reason: ExitReason) -> Option<Pid> {
        self.command(session_id, Command::Exit(reason))
    }

    /// Makes the running process of `session_id` panic with `message`.
    pub fn panic(&self, session_id: SessionId, message: impl Into<String>) -> Option<Pid> {
        self.command(session_id, Command::Panic(message.into()))
    }

    /// Reports, as the tree of `session_id` would, that its child `child`
    /// was restarted after `reason` (a `Restarted` event, if the session
    /// runs). `false` if the stub runs no process for it.
    pub fn report_restart(&self, session_id: SessionId, child: &str, reason: ExitReason) -> bool {
        let events = self
            .inner
            .running
            .lock()
            .get(&session_id)
            .map(|process| process.events.clone());
        match events {
            Some(events) => {
                events.restarted(child, reason);
                true
            }
            None => false,
        }
    }

    fn command(&self, session_id: SessionId, command: Command) -> Option<Pid> {
        let running = self.inner.running.lock();
        let process = running.get(&session_id)?;
        process.commands.send(command).ok()?;
        Some(process.pid.clone())
    }

    fn next_script(&self, session_id: SessionId) -> Script {
        let mut scripts = self.inner.scripts.lock();
        scripts.count += 1;
        let number = scripts.count;
        let queued = match scripts.per_session.get_mut(&session_id) {
            Some(queue) => {
                let script = queue.pop_front();
                if queue.is_empty() {
                    scripts.per_session.remove(&session_id);
                }
                script
            }
            None => None,
        };
        let script = queued
            .or_else(|| scripts.nth.remove(&number))
            .or_else(|| scripts.per_call.pop_front())
            .or_else(|| scripts.default.clone())
            .unwrap_or(Script::Succeed);
        if scripts.log_limit > 0 {
            if scripts.calls.len() == scripts.log_limit {
                scripts.calls.pop_front();
            }
            scripts.calls.push_back(StubCall {
                number,
                session_id,
                script: script.clone(),
            });
        }
        script
    }

    /// Spawns the stub process for `ctx`'s session.
    fn spawn(
        &self,
        ctx: &ChildContext,
        ignore_stop: bool,
        end_with: Option<ExitReason>,
    ) -> TreeHandle {
        let session = Arc::clone(ctx.session());
        let id = session.id();
        let (commands, mut inbox) = mpsc::unbounded_channel();
        let pid = spawn_with_pid(|me| {
            // Recorded before the task exists, so that a process that ends
            // at once still finds its entry to remove.
            self.inner.running.lock().insert(
                id,
                Running {
                    pid: me.clone(),
                    commands,
                    events: ctx.events().clone(),
                },
            );
            let forget = Forget {
                stub: Arc::downgrade(&self.inner),
                id,
                pid: me.clone(),
            };
            async move {
                // The process holds its session, like the real one, and
                // forgets itself when it ends, however it ends.
                let _held = (session, forget);
                if let Some(reason) = end_with {
                    return reason;
                }
                loop {
                    tokio::select! {
                        () = me.stop_requested(), if !ignore_stop => return me.stop_reason(),
                        command = inbox.recv() => match command {
                            Some(Command::Exit(reason)) => return reason,
                            Some(Command::Panic(message)) => panic!("{message}"),
                            None => std::future::pending::<()>().await,
                        },
                    }
                }
            }
        });
        TreeHandle::new(pid, self.inner.shutdown)
    }
}

/// Owned by a stub process: removes its entry when the process ends,
/// however it ends, if the entry is still its own (a later start of the
/// same id has its own).
struct Forget {
    stub: Weak<Inner>,
    id: SessionId,
    pid: Pid,
}

impl Drop for Forget {
    fn drop(&mut self) {
        if let Some(stub) = self.stub.upgrade() {
            let mut running = stub.running.lock();
            if running
                .get(&self.id)
                .is_some_and(|process| process.pid == self.pid)
            {
                running.remove(&self.id);
            }
        }
    }
}

/// Kills the process it holds unless disarmed: makes a dropped start leave
/// nothing running.
struct KillOnDrop(Option<Pid>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(pid) = self.0.take() {
            pid.kill();
        }
    }
}

#[async_trait]
impl SessionChild for SessionSupervisorStub {
    async fn start(&self, ctx: ChildContext) -> Result<StartOutcome<TreeHandle>, Term> {
        let script = self.next_script(ctx.session().id());
        let tree = match script {
            Script::Succeed => self.spawn(&ctx, false, None),
            Script::Fail(error) => return Err(error),
            Script::Ignore => return Ok(StartOutcome::Ignore),
            Script::Panic(message) => panic!("{message}"),
            Script::Hang => std::future::pending().await,
            Script::CrashAfterStart(reason) => self.spawn(&ctx, false, Some(reason)),
            Script::IgnoreStop => self.spawn(&ctx, true, None),
            Script::Slow { before, after } => {
                for _ in 0..before {
                    tokio::task::yield_now().await;
                }
                let tree = self.spawn(&ctx, false, None);
                let mut guard = KillOnDrop(Some(tree.pid().clone()));
                for _ in 0..after {
                    tokio::task::yield_now().await;
                }
                guard.0 = None;
                tree
            }
        };
        Ok(StartOutcome::Started(tree))
    }
}
