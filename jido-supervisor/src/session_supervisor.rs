//! [`SessionSupervisor`]: starts, stops and finds sessions' process trees
//! (the analogue of jido_code's `SessionSupervisor`, a `DynamicSupervisor`).

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use jido_registry::{DEFAULT_LIMIT, RegistryBackend, RegistryView};
use jido_session::{Session, SessionConfig, SessionId, ValidationErrors};
use tokio::sync::broadcast;
use tracing::Instrument;

use crate::cluster::Cluster;
use crate::core::{Core, PersistConfig, SessionLocate};
use crate::{
    ChildRef, Events, ExitReason, ManagerRef, Pid, ProcessKey, SessionChild, SessionContext,
    SessionEvent, SessionHandle, SessionSup, ShutdownReport, StartError, StateRef, StopError,
    Supervisor, Term, UpdateError, Worker,
};
use jido_store::Persistence;

/// How long a session's tree may take to start unless told otherwise.
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(5);

/// Starts, stops and finds the process trees of sessions.
///
/// [`start_session`](Self::start_session) registers the session first
/// (limit, then id, then project — atomically), then starts its tree with
/// the configured [`SessionChild`] (by default the real [`SessionSup`], with
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

/// Configures a [`SessionSupervisor`].
///
/// ```
/// use std::time::Duration;
/// use jido_supervisor::{SessionSup, SessionSupervisor};
///
/// let supervisor = SessionSupervisor::builder()
///     .max_sessions(100)
///     .child(SessionSup::new())
///     .start_timeout(Duration::from_secs(1))
///     .build();
/// assert_eq!(supervisor.max_children(), 100);
/// ```
#[must_use]
pub struct SessionSupervisorBuilder {
    max_sessions: usize,
    child: Option<Arc<dyn SessionChild>>,
    events: Option<Events>,
    start_timeout: Duration,
    persistence: Option<Persistence>,
    save_on_stop: bool,
    backend: Option<Arc<dyn RegistryBackend>>,
}

impl SessionSupervisorBuilder {
    /// Decide admission (the limit, unique ids, unique projects) for a whole
    /// cluster through `backend` — for instance `jido-cluster`'s PostgreSQL
    /// node — instead of in this supervisor's memory alone (the default).
    ///
    /// Each start then claims the session in the backend before its tree
    /// starts (refusals read as the in-memory registry's:
    /// [`StartError::Registry`]; a backend failure is
    /// [`StartError::Backend`]), and each end releases the claim. When the
    /// node loses its lease, every session claimed under it is stopped
    /// (reason `{shutdown, `[`LeaseLost`](crate::LeaseLost)`}`).
    /// [`max_sessions`](Self::max_sessions) is then the cluster's limit:
    /// give every node the same.
    ///
    /// ```
    /// use jido_supervisor::{MemoryCluster, RegistryError, SessionSupervisor, StartError};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let dir = tempfile::tempdir().unwrap();
    /// let cluster = MemoryCluster::new();
    /// let a = SessionSupervisor::builder().backend(cluster.join()).build();
    /// let b = SessionSupervisor::builder().backend(cluster.join()).build();
    ///
    /// let session = a.create_session(dir.path()).await.unwrap();
    /// assert!(matches!(
    ///     b.create_session(dir.path()).await,
    ///     Err(StartError::Registry(RegistryError::DuplicateProject { .. }))
    /// ));
    /// assert_eq!(b.locate(session.id()).await.unwrap().unwrap().node, a.node());
    /// # }
    /// ```
    pub fn backend(self, backend: impl RegistryBackend) -> Self {
        self.backend_arc(Arc::new(backend))
    }

    /// Like [`backend`](Self::backend), for a backend already shared.
    pub fn backend_arc(mut self, backend: Arc<dyn RegistryBackend>) -> Self {
        self.backend = Some(backend);
        self
    }

    /// Where sessions are saved ([`save`](SessionSupervisor::save),
    /// [`resume`](SessionSupervisor::resume), ...): for instance
    /// `Persistence::in_dir(dir)?`, one file per session in `dir`.
    pub fn persistence(mut self, persistence: Persistence) -> Self {
        self.persistence = Some(persistence);
        self
    }

    /// Whether every stop ([`stop_session`](SessionSupervisor::stop_session),
    /// [`shutdown`](SessionSupervisor::shutdown)) saves the session after
    /// its tree ended and before it leaves the registry (default no; needs
    /// [`persistence`](Self::persistence)). Best effort: a failed save is
    /// reported ([`EventKind::SaveFailed`](crate::EventKind::SaveFailed) and
    /// the log) and the stop goes on. Not on crashes, nor when the
    /// supervisor is dropped.
    pub fn save_on_stop(mut self, save: bool) -> Self {
        self.save_on_stop = save;
        self
    }

    /// The most sessions open at once (default 10).
    pub fn max_sessions(mut self, limit: usize) -> Self {
        self.max_sessions = limit;
        self
    }

    /// What starts each session's tree (default: [`SessionSup::new()`]).
    pub fn child(self, child: impl SessionChild) -> Self {
        self.child_arc(Arc::new(child))
    }

    /// Like [`child`](Self::child), for a child already shared.
    pub fn child_arc(mut self, child: Arc<dyn SessionChild>) -> Self {
        self.child = Some(child);
        self
    }

    /// Where lifecycle events go (default: a new channel).
    pub fn events(mut self, events: Events) -> Self {
        self.events = Some(events);
        self
    }

    /// How long a tree may take to start (default 5 s).
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// The supervisor. Inside a tokio runtime its own process (which
    /// receives its trees' exits) starts now; outside one, with the first
    /// session: no runtime is needed to build one.
    pub fn build(self) -> SessionSupervisor {
        let core = Core::new(
            self.max_sessions,
            self.child.unwrap_or_else(|| Arc::new(SessionSup::new())),
            self.events.unwrap_or_default(),
            self.start_timeout,
            self.persistence.map(|persistence| PersistConfig {
                persistence,
                save_on_stop: self.save_on_stop,
            }),
            self.backend.map(Cluster::new),
        );
        if tokio::runtime::Handle::try_current().is_ok() {
            core.start_process();
        }
        SessionSupervisor { core }
    }
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
    /// A supervisor with the defaults: the real [`SessionSup`] (Manager and
    /// State), at most 10 sessions, a 5 s start timeout.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder, to choose the child, the limit, the timeout.
    pub fn builder() -> SessionSupervisorBuilder {
        SessionSupervisorBuilder {
            max_sessions: DEFAULT_LIMIT,
            child: None,
            events: None,
            start_timeout: DEFAULT_START_TIMEOUT,
            persistence: None,
            save_on_stop: false,
            backend: None,
        }
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
        self.core.start(session, None).instrument(span).await
    }

    /// Opens a session on the project directory `path` (a new id, the
    /// directory's name) and starts it: `Session::new` + `start_session` in
    /// one call (jido_code's `create_session`).
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
    /// A tree whose policy is [`Shutdown::Infinity`](crate::Shutdown::Infinity)
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

    /// The most sessions that may run at once.
    pub fn max_children(&self) -> usize {
        self.core.max_sessions()
    }

    /// How many trees run (started, not yet ended).
    pub fn count_children(&self) -> usize {
        self.core.count_running()
    }

    /// The running session `id`.
    pub fn find_session_pid(&self, id: SessionId) -> Option<SessionHandle> {
        self.core.running(id)
    }

    /// Every running session, in no particular order.
    pub fn list_session_pids(&self) -> Vec<(SessionId, SessionHandle)> {
        self.core.list_running()
    }

    /// `true` if the session's tree runs.
    pub fn session_running(&self, id: SessionId) -> bool {
        self.core.is_running(id)
    }

    /// Renames session `id` (bumping its `updated_at`); its tree sees the new
    /// name at once ([`SessionContext::session`]).
    ///
    /// # Errors
    ///
    /// [`UpdateError::NotFound`], or [`UpdateError::Invalid`] for a blank or
    /// too long name (the session is unchanged).
    pub fn rename_session(
        &self,
        id: SessionId,
        name: impl Into<String>,
    ) -> Result<Arc<Session>, UpdateError> {
        let name = name.into();
        self.core.update(id, |session| {
            session.rename(name).map_err(ValidationErrors::from)
        })
    }

    /// Replaces the LLM settings of session `id`; its tree sees them at once.
    ///
    /// # Errors
    ///
    /// [`UpdateError::NotFound`], or [`UpdateError::Invalid`] with every
    /// problem of `config` (the session is unchanged).
    pub fn update_session_config(
        &self,
        id: SessionId,
        config: SessionConfig,
    ) -> Result<Arc<Session>, UpdateError> {
        self.core
            .update(id, |session| session.update_config(config))
    }

    /// The supervisor of session `id`'s tree, for OTP's child management at
    /// run time (`start_child`, `terminate_child`, `restart_child`,
    /// `delete_child`, `which_children`, `count_children`). `None` if the
    /// session does not run, or its tree is not a supervisor (a stub).
    ///
    /// ```
    /// use jido_supervisor::{ChildSpec, SessionContext, SessionSupervisor, SupervisorError};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let dir = tempfile::tempdir().unwrap();
    /// let supervisor = SessionSupervisor::new();
    /// let id = supervisor.create_session(dir.path()).await.unwrap().id();
    /// let tree = supervisor.tree(id).unwrap();
    ///
    /// let agent = || ChildSpec::task("agent", |_: &SessionContext, me| async move {
    ///     me.stop_requested().await;
    ///     me.stop_reason()
    /// });
    /// let pid = tree.start_child(agent()).await.unwrap().unwrap();
    /// // jido_code's start_agent → :already_started
    /// assert!(matches!(
    ///     tree.start_child(agent()).await,
    ///     Err(SupervisorError::AlreadyStarted { pid: running, .. }) if running == pid
    /// ));
    /// assert_eq!(tree.count_children().specs, 3); // manager, state, agent
    /// # }
    /// ```
    pub fn tree(&self, id: SessionId) -> Option<Supervisor<SessionContext>> {
        self.core
            .running(id)
            .and_then(|handle| handle.supervisor().cloned())
    }

    /// A reference to child `name` of session `id`'s tree, a worker of type
    /// `W`. It resolves the session and the child at every call, so it
    /// reaches whichever incarnation runs then; calls wait through a restart
    /// (within their timeout, 5 s unless set otherwise).
    ///
    /// ```
    /// use jido_supervisor::{ChildSpec, Context, SessionContext, SessionSup, SessionSupervisor, Worker};
    ///
    /// struct Echo;
    ///
    /// impl Worker for Echo {
    ///     type Request = String;
    ///     type Reply = String;
    ///     async fn handle(&mut self, text: String, _ctx: &mut Context) -> String {
    ///         text
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let tree = SessionSup::new().child(ChildSpec::worker("echo", |_: &SessionContext| Echo));
    /// let supervisor = SessionSupervisor::builder().child(tree).build();
    /// let dir = tempfile::tempdir().unwrap();
    /// let id = supervisor.create_session(dir.path()).await.unwrap().id();
    ///
    /// let echo = supervisor.child::<Echo>(id, "echo");
    /// assert_eq!(echo.call("hi".to_string()).await.unwrap(), "hi");
    /// echo.pid().unwrap().kill(); // restarted; the reference follows
    /// assert_eq!(echo.call("again".to_string()).await.unwrap(), "again");
    /// # }
    /// ```
    pub fn child<W: Worker>(&self, id: SessionId, name: &str) -> ChildRef<W> {
        ChildRef::via(
            SessionLocate {
                core: Arc::downgrade(&self.core),
                id,
            },
            name,
        )
    }

    /// The running process of child `key.child` of session `key.session_id`.
    pub fn whereis(&self, key: &ProcessKey) -> Option<Pid> {
        self.tree(key.session_id)?.whereis(&key.child)
    }

    /// The session's Manager, reached by name (it follows restarts), if the
    /// session runs a tree with one (the default tree does).
    pub fn manager(&self, id: SessionId) -> Option<ManagerRef> {
        self.tree(id)?.whereis(crate::manager::NAME)?;
        Some(ManagerRef::new(id, self.child(id, crate::manager::NAME)))
    }

    /// The session's State, reached by name (it follows restarts), if the
    /// session runs a tree with one (the default tree does).
    pub fn state(&self, id: SessionId) -> Option<StateRef> {
        self.tree(id)?.whereis(crate::state::NAME)?;
        Some(StateRef::new(
            id,
            self.child(id, crate::state::NAME),
            Arc::downgrade(&self.core),
        ))
    }
}
