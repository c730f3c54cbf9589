//! [`SessionChild`]: the pluggable start of one session's process tree, and
//! the [`ChildHandle`] (the "pid") it returns.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use jido_registry::{ExitReason, Pid};
use jido_session::Session;

use crate::{Events, Processes, Shutdown};

/// Starts one session's process tree: the analogue of the
/// `:supervisor_module` option of jido_code's `SessionSupervisor`.
///
/// [`SessionSupervisor`](crate::SessionSupervisor) calls `start` once per
/// [`start_session`](crate::SessionSupervisor::start_session), after the
/// session is registered. Library users plug in the real per-session
/// supervisor ([`SessionSup`](crate::SessionSup), the default); test authors
/// plug in the stub or a mock from `jido-testkit`.
///
/// `start` returns [`StartOutcome::Started`] with a handle to the running
/// tree, [`StartOutcome::Ignore`], or an error. A panic inside `start` is
/// turned into an error for the caller. `start` should be cancel-safe: if its
/// future is dropped, nothing it spawned may keep running.
///
/// ```
/// use async_trait::async_trait;
/// use jido_registry::{spawn_with_pid, ExitReason};
/// use jido_supervisor::{ChildContext, ChildError, ChildHandle, SessionChild, Shutdown, StartOutcome};
///
/// /// One task per session that runs until asked to stop.
/// struct Sleeper;
///
/// #[async_trait]
/// impl SessionChild for Sleeper {
///     async fn start(&self, _ctx: ChildContext) -> Result<StartOutcome, ChildError> {
///         let pid = spawn_with_pid(|me| async move {
///             me.stop_requested().await;
///             ExitReason::Shutdown
///         });
///         Ok(StartOutcome::Started(ChildHandle::new(pid, Shutdown::default())))
///     }
/// }
/// ```
#[async_trait]
pub trait SessionChild: Send + Sync + 'static {
    /// Starts the process tree of `ctx.session()`.
    async fn start(&self, ctx: ChildContext) -> Result<StartOutcome, ChildError>;
}

/// What a [`SessionChild`] was given to start a session's tree with.
#[derive(Clone, Debug)]
pub struct ChildContext {
    session: Arc<Session>,
    processes: Processes,
    events: Events,
}

impl ChildContext {
    /// A context for starting `session`'s tree.
    pub fn new(session: Arc<Session>, processes: Processes, events: Events) -> Self {
        ChildContext {
            session,
            processes,
            events,
        }
    }

    /// The registered session.
    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }

    /// The process registry to register the tree's processes in.
    pub fn processes(&self) -> &Processes {
        &self.processes
    }

    /// Where to report lifecycle events (restarts, say).
    pub fn events(&self) -> &Events {
        &self.events
    }
}

/// What [`SessionChild::start`] achieved.
#[derive(Debug, Clone)]
pub enum StartOutcome {
    /// The tree runs; here is its handle.
    Started(ChildHandle),
    /// Nothing was started, on purpose (Erlang's `:ignore`). The supervisor
    /// treats it as a failed start and rolls the registration back.
    Ignore,
}

/// The error a [`SessionChild`] failed to start with, passed to the caller of
/// `start_session` unchanged. Cheap to clone; the original error is kept and
/// can be downcast.
///
/// ```
/// use jido_supervisor::ChildError;
///
/// let error = ChildError::msg("no API key");
/// assert_eq!(error.to_string(), "no API key");
///
/// let io = ChildError::new(std::io::Error::other("disk full"));
/// assert!(io.downcast_ref::<std::io::Error>().is_some());
/// ```
#[derive(Clone)]
pub struct ChildError {
    source: Arc<dyn StdError + Send + Sync + 'static>,
}

impl ChildError {
    /// Wraps `error`.
    pub fn new(error: impl StdError + Send + Sync + 'static) -> Self {
        ChildError {
            source: Arc::new(error),
        }
    }

    /// An error that is just a message.
    pub fn msg(message: impl Into<String>) -> Self {
        ChildError::new(Message(message.into()))
    }

    /// The original error, if it is a `T`.
    pub fn downcast_ref<T: StdError + 'static>(&self) -> Option<&T> {
        self.source.downcast_ref::<T>()
    }
}

impl From<&str> for ChildError {
    /// [`ChildError::msg`].
    fn from(message: &str) -> Self {
        ChildError::msg(message)
    }
}

impl From<String> for ChildError {
    /// [`ChildError::msg`].
    fn from(message: String) -> Self {
        ChildError::msg(message)
    }
}

impl fmt::Debug for ChildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.source, f)
    }
}

impl fmt::Display for ChildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.source, f)
    }
}

impl StdError for ChildError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.source()
    }
}

impl PartialEq for ChildError {
    /// Two child errors are equal when they are the same error, or say the
    /// same thing.
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.source, &other.source) || self.to_string() == other.to_string()
    }
}

#[derive(Debug)]
struct Message(String);

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for Message {}

/// A running session tree: the "pid" that
/// [`start_session`](crate::SessionSupervisor::start_session) returns.
///
/// It names the tree's top process ([`pid`](ChildHandle::pid)), asks it to
/// stop ([`request_stop`](ChildHandle::request_stop)), waits for its end and
/// tells why ([`wait`](ChildHandle::wait)), and terminates it by its
/// [`Shutdown`] policy ([`terminate`](ChildHandle::terminate)). Clones name
/// the same tree.
#[derive(Clone, Debug)]
pub struct ChildHandle {
    pid: Pid,
    shutdown: Shutdown,
}

impl ChildHandle {
    /// A handle to the process `pid`, terminated by `shutdown`. The process
    /// is expected to end when asked to (it watches
    /// [`Pid::stop_requested`]); with [`Shutdown::Timeout`] it is killed if it
    /// does not.
    pub fn new(pid: Pid, shutdown: Shutdown) -> Self {
        ChildHandle { pid, shutdown }
    }

    /// The tree's top process.
    pub fn pid(&self) -> &Pid {
        &self.pid
    }

    /// A number unique to the tree's top process.
    pub fn id(&self) -> u64 {
        self.pid.id()
    }

    /// How the tree is terminated.
    pub fn shutdown_policy(&self) -> Shutdown {
        self.shutdown
    }

    /// `true` until the tree's top process has ended (or was killed).
    pub fn is_alive(&self) -> bool {
        self.pid.is_alive()
    }

    /// Asks the tree to stop; returns at once.
    pub fn request_stop(&self) {
        self.pid.request_stop();
    }

    /// Kills the tree's top process at once.
    pub fn kill(&self) {
        self.pid.kill();
    }

    /// Waits for the tree to end, and says why it ended.
    pub async fn wait(&self) -> ExitReason {
        self.pid.wait().await
    }

    /// Terminates the tree by its [`Shutdown`] policy and waits for its end:
    /// kill at once ([`Shutdown::BrutalKill`]), or ask it to stop and kill it
    /// after the timeout ([`Shutdown::Timeout`]), or ask and wait
    /// ([`Shutdown::Infinity`]).
    pub async fn terminate(&self) -> ExitReason {
        match self.shutdown {
            Shutdown::BrutalKill => self.pid.kill(),
            Shutdown::Timeout(timeout) => {
                self.request_stop();
                if let Ok(reason) = tokio::time::timeout(timeout, self.pid.wait()).await {
                    return reason;
                }
                self.pid.kill();
            }
            Shutdown::Infinity => self.request_stop(),
        }
        self.pid.wait().await
    }
}

impl PartialEq for ChildHandle {
    fn eq(&self, other: &Self) -> bool {
        self.pid == other.pid
    }
}

impl Eq for ChildHandle {}
