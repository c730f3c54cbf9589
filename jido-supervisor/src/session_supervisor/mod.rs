//! [`SessionSupervisor`]: starts, stops and finds sessions' process trees
//! (the analogue of jido_code's `SessionSupervisor`, a `DynamicSupervisor`).
//!
//! Its lifecycle calls are here; its [`builder`](SessionSupervisorBuilder),
//! the queries and changes of open sessions, where sessions run in a
//! cluster, and persistence (`crate::persist`) each have a file of their
//! own.

mod builder;
mod placement;
mod sessions;

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use jido_process::{ExitReason, Pid, Term};
use jido_registry::RegistryView;
use jido_session::{Session, SessionId};
use tokio::sync::broadcast;
use tracing::Instrument;

use crate::core::Core;
use crate::error::{StartError, StopError};
use crate::events::SessionEvent;
use crate::session_handle::SessionHandle;
use crate::shutdown_report::ShutdownReport;

pub use builder::SessionSupervisorBuilder;

/// How many records a session's journal holds before it is checkpointed,
/// unless told otherwise.
pub const DEFAULT_CHECKPOINT_EVERY: u64 = 10_000;

/// How many bytes a session's journal holds before it is checkpointed,
/// unless told otherwise (32 MiB: a few hundred milliseconds of replay at
/// most).
pub const DEFAULT_CHECKPOINT_BYTES: u64 = 32 * 1024 * 1024;

/// How long a session's tree may take to start unless told otherwise.
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(5);

/// Starts, stops and finds the process trees of sessions.
///
/// [`start_session`](Self::start_session) registers the session first
/// (limit, then id, then project — atomically), then starts its tree with
/// the configured [`SessionChild`](crate::tree::SessionChild) (by default the real [`SessionSup`](crate::tree::SessionSup), with
/// a Manager and a State); if the child fails, returns `ignore`, panics, or
/// does not start in time, the registration is rolled back and the child's
/// reason returned. Trees are *temporary* children: never restarted by this
/// supervisor.
///
/// The supervisor owns its registry: one registered session ⇔ one tree
/// starting or running, whatever callers do. [`registry`](Self::registry)
/// is a read-only view; renames and config changes go through
/// [`rename_session`](Self::rename_session) and
/// [`update_session_config`](Self::update_session_config).
///
/// Beyond the original:
/// - **no stale entries**: a tree that ends by itself (crash, restart
///   intensity reached, normal exit) leaves the registry at once, with a
///   [`SessionEvent`] saying why; so does every tree when the last clone of
///   the supervisor is dropped (the trees are killed);
/// - **every stop completes**: once a stop has begun, the tree is
///   terminated by its shutdown policy (the kill after the timeout
///   included) even if the caller stops waiting;
/// - **cancel-safe**: dropping a `start_session` future at any await point
///   leaves no registration and no running task;
/// - **atomic**: of concurrent starts of one project exactly one wins, the
///   session limit is never exceeded, and nothing starts after `shutdown`
///   began.
///
/// Cloning is cheap: clones share one supervisor.
///
/// Needs a tokio runtime with its time driver (`enable_time`, on by default
/// with `#[tokio::main]`): outside a runtime `start_session` fails with
/// [`StartError::NoRuntime`]; without timers, tokio panics with "timers are
/// disabled".
///
/// ```
/// use jido_supervisor::{Session, SessionSupervisor, StopError};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let dir = tempfile::tempdir().unwrap();
/// let supervisor = SessionSupervisor::new();
///
/// let session = supervisor.create_session(dir.path()).await.unwrap();
/// let id = session.id();
/// assert!(supervisor.session_running(id));
/// assert_eq!(supervisor.registry().count(), 1);
///
/// supervisor.stop_session(id).await.unwrap();
/// assert!(!supervisor.session_running(id));
/// assert_eq!(supervisor.registry().count(), 0);
/// assert_eq!(supervisor.stop_session(id).await, Err(StopError::NotFound { id }));
/// # }
/// ```
#[derive(Clone)]
pub struct SessionSupervisor {
    pub(crate) core: Arc<Core>,
}

impl Default for SessionSupervisor {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for SessionSupervisor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionSupervisor")
            .field("children", &self.count_children())
            .field("max_children", &self.max_children())
            .finish()
    }
}

impl SessionSupervisor {
    /// A supervisor with the defaults: the real [`SessionSup`](crate::tree::SessionSup) (Manager and
    /// State), at most 10 sessions, a 5 s start timeout.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// Registers `session`, then starts its tree; returns the running
    /// session.
    ///
    /// # Errors
    ///
    /// Registry refusals come back unchanged ([`StartError::Registry`]:
    /// limit, then duplicate id, then duplicate project). If the child fails
    /// ([`StartError::Child`], its reason unchanged), ignores the start
    /// ([`StartError::Ignored`]), panics ([`StartError::Panicked`]) or times
    /// out ([`StartError::Timeout`]), the registration is rolled back first.
    /// After [`shutdown`](Self::shutdown) began: [`StartError::ShuttingDown`]
    /// (a tree that finished starting meanwhile is terminated). Outside a
    /// runtime: [`StartError::NoRuntime`]. Dropping the returned future at
    /// any point rolls back too.
    ///
    /// ```
    /// use jido_supervisor::{RegistryError, Session, SessionSupervisor, StartError};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let dir = tempfile::tempdir().unwrap();
    /// let supervisor = SessionSupervisor::new();
    /// let first = supervisor.start_session(Session::new(dir.path()).unwrap()).await.unwrap();
    /// assert!(first.is_alive());
    ///
    /// // One project, one session.
    /// let error = supervisor.start_session(Session::new(dir.path()).unwrap()).await.unwrap_err();
    /// assert!(matches!(
    ///     error,
    ///     StartError::Registry(RegistryError::DuplicateProject { owner, .. }) if owner == first.id()
    /// ));
    /// # }
    /// ```
    pub async fn start_session(&self, session: Session) -> Result<SessionHandle, StartError> {
        let span = tracing::info_span!("start_session", id = %session.id());
        self.core.start(session).instrument(span).await
    }

    /// Opens a session on the project directory `path` (a new id, the
    /// directory's name) and starts it: `Session::new` + `start_session` in
    /// one call (jido_code's `create_session`).
    ///
    /// ```
    /// use jido_supervisor::{RegistryError, SessionSupervisor, StartError};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let project = tempfile::tempdir().unwrap();
    /// let supervisor = SessionSupervisor::new();
    /// let session = supervisor.create_session(project.path()).await.unwrap();
    /// assert_eq!(supervisor.registry().lookup(session.id()).unwrap().project_path().as_path(),
    ///            project.path().canonicalize().unwrap());
    /// // One session per project.
    /// assert!(matches!(
    ///     supervisor.create_session(project.path()).await,
    ///     Err(StartError::Registry(RegistryError::DuplicateProject { .. }))
    /// ));
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`StartError::InvalidSession`] if `path` is no usable project
    /// directory; then as [`start_session`](Self::start_session).
    pub async fn create_session(
        &self,
        path: impl AsRef<Path>,
    ) -> Result<SessionHandle, StartError> {
        let session = Session::new(path).map_err(StartError::InvalidSession)?;
        self.start_session(session).await
    }

    /// Terminates the session's tree by its shutdown policy, waits for its
    /// end, and returns why it ended; by then the session has left the
    /// registry.
    ///
    /// Once begun, the termination completes even if this future is
    /// dropped (a timed-out caller, say): the tree is asked to stop and, if
    /// its policy has a timeout, killed when it runs out. Stopping a session
    /// whose start is in flight waits for that start, then stops the tree
    /// (or reports `NotFound` if the start failed), as a `DynamicSupervisor`
    /// would. Concurrent stops of one session all wait for the same end.
    ///
    /// # Errors
    ///
    /// [`StopError::NotFound`] for an id that is not open.
    ///
    /// ```
    /// use jido_supervisor::{ExitReason, SessionSupervisor};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let dir = tempfile::tempdir().unwrap();
    /// let supervisor = SessionSupervisor::new();
    /// let id = supervisor.create_session(dir.path()).await.unwrap().id();
    ///
    /// assert_eq!(supervisor.stop_session(id).await, Ok(ExitReason::Shutdown));
    /// assert!(supervisor.registry().lookup(id).is_none());
    /// # }
    /// ```
    pub async fn stop_session(&self, id: SessionId) -> Result<ExitReason, StopError> {
        self.core.stop(id, None).await
    }

    /// Like [`stop_session`](Self::stop_session), asking the tree to end
    /// with `{shutdown, term}` ([`ExitReason::ShutdownWith`]).
    ///
    /// ```
    /// use jido_supervisor::{ExitReason, SessionSupervisor, Term};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let project = tempfile::tempdir().unwrap();
    /// let supervisor = SessionSupervisor::new();
    /// let id = supervisor.create_session(project.path()).await.unwrap().id();
    /// let reason = supervisor.stop_session_with(id, "user closed the tab").await.unwrap();
    /// assert_eq!(reason, ExitReason::ShutdownWith(Term::msg("user closed the tab")));
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`stop_session`](Self::stop_session).
    pub async fn stop_session_with(
        &self,
        id: SessionId,
        term: impl Into<Term>,
    ) -> Result<ExitReason, StopError> {
        self.core.stop(id, Some(term.into())).await
    }

    /// Stops every session concurrently, each by its shutdown policy, and
    /// returns when none is left. Starts from the moment this is called
    /// fail with [`StartError::ShuttingDown`]; a start already in flight is
    /// waited for, then stopped.
    ///
    /// A tree whose policy is [`Shutdown::Infinity`](crate::process::Shutdown::Infinity)
    /// (as OTP: a supervisor is waited for) is waited for as long as it
    /// takes; one that never stops keeps this from returning. Use
    /// [`shutdown_within`](Self::shutdown_within) for a bounded shutdown.
    ///
    /// ```
    /// use jido_supervisor::{SessionSupervisor, StartError};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    /// let supervisor = SessionSupervisor::new();
    /// supervisor.create_session(a.path()).await.unwrap();
    ///
    /// supervisor.shutdown().await;
    /// assert_eq!(supervisor.registry().count(), 0);
    /// assert_eq!(supervisor.create_session(b.path()).await.unwrap_err(), StartError::ShuttingDown);
    /// # }
    /// ```
    pub async fn shutdown(&self) {
        self.core.shutdown().await;
    }

    /// [`shutdown`](Self::shutdown), bounded: what has not ended after
    /// `limit` is killed. Returns which sessions stopped and which were
    /// killed.
    ///
    /// ```
    /// use std::time::Duration;
    /// use jido_supervisor::SessionSupervisor;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let project = tempfile::tempdir().unwrap();
    /// let supervisor = SessionSupervisor::new();
    /// let id = supervisor.create_session(project.path()).await.unwrap().id();
    /// let report = supervisor.shutdown_within(Duration::from_secs(10)).await;
    /// assert_eq!(report.stopped, [id]); // the default tree stops in time
    /// assert!(report.killed.is_empty());
    /// # }
    /// ```
    pub async fn shutdown_within(&self, limit: Duration) -> ShutdownReport {
        self.core.shutdown_within(limit).await
    }

    /// A read-only view of the sessions: lookups by id, project, path and
    /// name, the list and the count. Only the supervisor changes them.
    ///
    /// ```compile_fail
    /// let supervisor = jido_supervisor::SessionSupervisor::new();
    /// supervisor.registry().clear(); // no such thing: the supervisor owns its registry
    /// ```
    pub fn registry(&self) -> RegistryView<'_> {
        self.core.registry()
    }

    /// A receiver of every lifecycle event from now on.
    ///
    /// ```
    /// use jido_supervisor::{EventKind, SessionSupervisor};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let project = tempfile::tempdir().unwrap();
    /// let supervisor = SessionSupervisor::new();
    /// let mut events = supervisor.subscribe();
    /// let id = supervisor.create_session(project.path()).await.unwrap().id();
    /// supervisor.stop_session(id).await.unwrap();
    /// let first = events.recv().await.unwrap();
    /// assert_eq!((first.session_id, first.kind), (id, EventKind::Started));
    /// assert!(matches!(events.recv().await.unwrap().kind, EventKind::Stopped { .. }));
    /// # }
    /// ```
    pub fn subscribe(&self) -> broadcast::Receiver<SessionEvent> {
        self.core.events().subscribe()
    }

    /// The supervisor's own process (it receives its trees' exits): started
    /// when the supervisor was built inside a runtime, else with its first
    /// session.
    pub fn pid(&self) -> Option<Pid> {
        self.core.pid().cloned()
    }

    /// Returns once the supervisor has handled every tree exit it was told
    /// of before this call (Erlang tests call the supervisor for the same
    /// reason). A session whose tree has ended — its [`Pid::wait`] returned —
    /// has left the registry when this returns. [`SessionHandle::wait`] and
    /// [`stop_session`](Self::stop_session) need no such call.
    ///
    /// ```
    /// use jido_supervisor::{ExitReason, SessionSupervisor};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let dir = tempfile::tempdir().unwrap();
    /// let supervisor = SessionSupervisor::new();
    /// let session = supervisor.create_session(dir.path()).await.unwrap();
    ///
    /// session.pid().exit(ExitReason::error("bug"));
    /// session.pid().wait().await;
    /// supervisor.settle().await;
    /// assert_eq!(supervisor.registry().count(), 0);
    /// # }
    /// ```
    pub async fn settle(&self) {
        self.core.settle().await;
    }
}
