//! [`SessionSupervisor`]: starts, stops and finds sessions' process trees
//! (the analogue of jido_code's `SessionSupervisor`, a `DynamicSupervisor`).

use std::collections::HashMap;
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::join_all;
use jido_registry::{ExitReason, SessionRegistry, Ticket};
use jido_session::{Session, SessionId};
use parking_lot::RwLock;
use tokio::sync::{Notify, broadcast};
use tracing::Instrument;

use crate::{
    ChildContext, ChildHandle, EventKind, Events, ManagerRef, Processes, SessionChild,
    SessionEvent, SessionSup, StartError, StartOutcome, StateRef, StopError,
};

/// How long a child may take to start unless told otherwise.
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(5);

/// Starts, stops and finds the process trees of sessions.
///
/// [`start_session`](Self::start_session) registers the session in the
/// [`SessionRegistry`] first, then starts its tree with the configured
/// [`SessionChild`] (by default the real [`SessionSup`]); if the child fails,
/// returns `ignore`, panics, or does not start in time, the registration is
/// rolled back and the child's reason returned. Trees are *temporary*
/// children: never restarted by this supervisor.
///
/// Beyond the original:
/// - **no stale entries**: a tree that ends by itself (crash, restart
///   intensity exceeded, normal exit) leaves the session registry and the
///   process registry at once, with a [`SessionEvent`] saying why;
/// - **cancel-safe**: dropping a `start_session` future at any await point
///   leaves no registration and no running task;
/// - **atomic**: of concurrent starts of one project exactly one wins, and
///   the session limit is never exceeded.
///
/// Cloning is cheap: clones share one supervisor. When the last clone is
/// dropped, the trees still running are killed; call
/// [`shutdown`](Self::shutdown) to stop them gracefully.
///
/// ```
/// use jido_session::Session;
/// use jido_supervisor::{SessionSupervisor, StopError};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let dir = tempfile::tempdir().unwrap();
/// let supervisor = SessionSupervisor::new();
///
/// let session = Session::new(dir.path()).unwrap();
/// let id = session.id();
/// let pid = supervisor.start_session(session).await.unwrap();
/// assert!(supervisor.session_running(id));
/// assert_eq!(supervisor.find_session_pid(id), Some(pid));
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
    inner: Arc<Inner>,
}

struct Inner {
    registry: SessionRegistry,
    processes: Processes,
    child: Arc<dyn SessionChild>,
    events: Events,
    start_timeout: Duration,
    children: RwLock<HashMap<SessionId, Slot, foldhash::fast::RandomState>>,
    /// Notified whenever a slot leaves the `Starting` state or goes away.
    slot_changed: Notify,
    shutting_down: AtomicBool,
}

enum Slot {
    /// Registered; the child is being started.
    Starting,
    /// The tree runs.
    Running {
        handle: ChildHandle,
        ticket: Ticket,
        /// `stop_session` or `shutdown` asked for its end.
        stopping: bool,
    },
}

impl Slot {
    /// The handle of a tree that runs and is alive.
    fn live_handle(&self) -> Option<&ChildHandle> {
        match self {
            Slot::Running { handle, .. } if handle.is_alive() => Some(handle),
            _ => None,
        }
    }
}

/// Configures a [`SessionSupervisor`].
///
/// ```
/// use std::time::Duration;
/// use jido_registry::SessionRegistry;
/// use jido_supervisor::{SessionSup, SessionSupervisor};
///
/// let supervisor = SessionSupervisor::builder()
///     .registry(SessionRegistry::with_limit(100))
///     .child(SessionSup::new())
///     .start_timeout(Duration::from_secs(1))
///     .build();
/// assert_eq!(supervisor.max_children(), 100);
/// ```
#[must_use]
pub struct SessionSupervisorBuilder {
    registry: Option<SessionRegistry>,
    processes: Option<Processes>,
    child: Option<Arc<dyn SessionChild>>,
    events: Option<Events>,
    start_timeout: Duration,
}

impl SessionSupervisorBuilder {
    /// The session registry to use (default: a new one, limit 10).
    pub fn registry(mut self, registry: SessionRegistry) -> Self {
        self.registry = Some(registry);
        self
    }

    /// A new session registry holding at most `limit` sessions.
    pub fn max_sessions(self, limit: usize) -> Self {
        self.registry(SessionRegistry::with_limit(limit))
    }

    /// The process registry to use (default: a new one).
    pub fn processes(mut self, processes: Processes) -> Self {
        self.processes = Some(processes);
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

    /// How long a child may take to start (default 5 s).
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// The supervisor. Spawns nothing: no runtime is needed yet.
    pub fn build(self) -> SessionSupervisor {
        SessionSupervisor {
            inner: Arc::new(Inner {
                registry: self.registry.unwrap_or_default(),
                processes: self.processes.unwrap_or_default(),
                child: self.child.unwrap_or_else(|| Arc::new(SessionSup::new())),
                events: self.events.unwrap_or_default(),
                start_timeout: self.start_timeout,
                children: RwLock::new(HashMap::default()),
                slot_changed: Notify::new(),
                shutting_down: AtomicBool::new(false),
            }),
        }
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
    /// A supervisor with the defaults: the real [`SessionSup`], a registry of
    /// at most 10 sessions, a 5 s start timeout.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder, to choose the child, the registry, the timeout.
    pub fn builder() -> SessionSupervisorBuilder {
        SessionSupervisorBuilder {
            registry: None,
            processes: None,
            child: None,
            events: None,
            start_timeout: DEFAULT_START_TIMEOUT,
        }
    }

    /// The session registry.
    pub fn registry(&self) -> &SessionRegistry {
        &self.inner.registry
    }

    /// The process registry the trees register in.
    pub fn processes(&self) -> &Processes {
        &self.inner.processes
    }

    /// A receiver of every lifecycle event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<SessionEvent> {
        self.inner.events.subscribe()
    }

    /// The most sessions that may run at once (the registry's limit).
    pub fn max_children(&self) -> usize {
        self.inner.registry.limit()
    }

    /// How many trees run (started, not yet ended).
    pub fn count_children(&self) -> usize {
        let children = self.inner.children.read();
        children
            .values()
            .filter(|slot| matches!(slot, Slot::Running { .. }))
            .count()
    }

    /// Registers `session`, then starts its tree; returns the tree's handle.
    ///
    /// Registry errors come back unchanged ([`StartError::Registry`]). If the
    /// child fails ([`StartError::Child`], its error unchanged), ignores the
    /// start ([`StartError::Ignored`]), panics ([`StartError::Panicked`]) or
    /// times out ([`StartError::Timeout`]), the registration is rolled back
    /// first. Dropping the returned future at any point rolls back too.
    pub async fn start_session(&self, session: Session) -> Result<ChildHandle, StartError> {
        let span = tracing::info_span!("start_session", id = %session.id());
        self.start_in_span(session).instrument(span).await
    }

    async fn start_in_span(&self, session: Session) -> Result<ChildHandle, StartError> {
        let inner = &self.inner;
        if inner.shutting_down.load(Ordering::Acquire) {
            return Err(StartError::ShuttingDown);
        }
        let registration = inner.registry.register(session)?;
        let id = registration.id();
        let ticket = registration.ticket();
        {
            let mut children = inner.children.write();
            if children.contains_key(&id) {
                // A tree still runs under this id although someone removed
                // its registration by hand: refuse rather than alias it.
                drop(children);
                inner.registry.unregister_ticket(ticket);
                return Err(jido_registry::RegistryError::DuplicateId { id }.into());
            }
            children.insert(id, Slot::Starting);
        }
        // From here on, any way out but `commit` (an error, or this future
        // being dropped) rolls the registration back.
        let rollback = Rollback {
            inner,
            ticket,
            armed: true,
        };
        let ctx = ChildContext::new(
            Arc::clone(registration.session()),
            inner.processes.clone(),
            inner.events.clone(),
        );
        let start = AssertUnwindSafe(inner.child.start(ctx)).catch_unwind();
        let handle = match tokio::time::timeout(inner.start_timeout, start).await {
            Err(_) => {
                return Err(StartError::Timeout {
                    after: inner.start_timeout,
                });
            }
            Ok(Err(payload)) => {
                let message = match ExitReason::from_panic(&*payload) {
                    ExitReason::Panic(message) => message.to_string(),
                    other => other.to_string(),
                };
                return Err(StartError::Panicked { message });
            }
            Ok(Ok(Err(error))) => return Err(StartError::Child(error)),
            Ok(Ok(Ok(StartOutcome::Ignore))) => return Err(StartError::Ignored),
            Ok(Ok(Ok(StartOutcome::Started(handle)))) => handle,
        };
        rollback.commit(&handle)?;
        tracing::info!(pid = %handle.pid(), "session started");
        Ok(handle)
    }

    /// Terminates the session's tree by its shutdown policy, waits for its
    /// end, and unregisters the session; returns why the tree ended.
    ///
    /// An unknown id is [`StopError::NotFound`]. Stopping a session whose
    /// start is in flight waits for that start to finish, then stops the
    /// tree (or reports `NotFound` if the start failed), as a
    /// `DynamicSupervisor` would. Concurrent stops of one session all wait
    /// for the same end.
    pub async fn stop_session(&self, id: SessionId) -> Result<ExitReason, StopError> {
        let inner = &self.inner;
        let (handle, ticket) = {
            let mut changed = pin!(inner.slot_changed.notified());
            loop {
                changed.as_mut().enable();
                {
                    let mut children = inner.children.write();
                    match children.get_mut(&id) {
                        None => return Err(StopError::NotFound { id }),
                        Some(Slot::Running {
                            handle,
                            ticket,
                            stopping,
                        }) => {
                            *stopping = true;
                            break (handle.clone(), *ticket);
                        }
                        Some(Slot::Starting) => {}
                    }
                }
                changed.as_mut().await;
                changed.set(inner.slot_changed.notified());
            }
        };
        let reason = handle
            .terminate()
            .instrument(tracing::info_span!("stop_session", %id))
            .await;
        // The tree's monitor has already cleaned up (it runs before `wait`
        // returns); this only makes sure of it.
        inner.forget(id, &handle, ticket, &reason);
        Ok(reason)
    }

    /// Stops every session concurrently, each by its shutdown policy, and
    /// returns when none is left. Starts after this call fail with
    /// [`StartError::ShuttingDown`].
    pub async fn shutdown(&self) {
        let inner = &self.inner;
        inner.shutting_down.store(true, Ordering::Release);
        loop {
            let ids: Vec<SessionId> = inner.children.read().keys().copied().collect();
            if ids.is_empty() {
                return;
            }
            // Ids whose start is in flight are waited for by stop_session.
            join_all(ids.into_iter().map(|id| self.stop_session(id))).await;
        }
    }

    /// The handle of the session's running tree.
    pub fn find_session_pid(&self, id: SessionId) -> Option<ChildHandle> {
        let children = self.inner.children.read();
        children.get(&id).and_then(Slot::live_handle).cloned()
    }

    /// Every running tree, with its session's id, in no particular order.
    pub fn list_session_pids(&self) -> Vec<(SessionId, ChildHandle)> {
        let children = self.inner.children.read();
        children
            .iter()
            .filter_map(|(id, slot)| Some((*id, slot.live_handle()?.clone())))
            .collect()
    }

    /// `true` if the session's tree runs.
    pub fn session_running(&self, id: SessionId) -> bool {
        let children = self.inner.children.read();
        children.get(&id).and_then(Slot::live_handle).is_some()
    }

    /// The session's Manager, reached by name (keeps working across its
    /// restarts), if one is registered. Only trees that have a Manager (the
    /// real [`SessionSup`]) do.
    pub fn manager(&self, id: SessionId) -> Option<ManagerRef> {
        let manager = ManagerRef::new(id, self.inner.processes.clone());
        manager.pid().map(|_| manager)
    }

    /// The session's State, reached by name (keeps working across its
    /// restarts), if one is registered.
    pub fn state(&self, id: SessionId) -> Option<StateRef> {
        let state = StateRef::new(id, self.inner.processes.clone());
        state.pid().map(|_| state)
    }
}

impl Inner {
    /// Removes the tree `handle` of session `id` (if it is still the one in
    /// the slot), unregisters that registration, and reports the end.
    /// Idempotent: the tree's monitor and `stop_session` may both call it.
    fn forget(&self, id: SessionId, handle: &ChildHandle, ticket: Ticket, reason: &ExitReason) {
        let removed = {
            let mut children = self.children.write();
            match children.get(&id) {
                Some(Slot::Running {
                    handle: current,
                    stopping,
                    ..
                }) if current == handle => {
                    let stopping = *stopping;
                    children.remove(&id);
                    Some(stopping)
                }
                _ => None,
            }
        };
        self.registry.unregister_ticket(ticket);
        if let Some(stopping) = removed {
            let kind = if stopping || !reason.is_abnormal() {
                EventKind::Stopped {
                    reason: reason.clone(),
                }
            } else {
                EventKind::Crashed {
                    reason: reason.clone(),
                }
            };
            if matches!(kind, EventKind::Crashed { .. }) {
                tracing::warn!(%id, %reason, "session crashed");
            } else {
                tracing::info!(%id, %reason, "session stopped");
            }
            self.events.emit(id, kind);
            self.slot_changed.notify_waiters();
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        for slot in self.children.get_mut().values() {
            if let Slot::Running { handle, .. } = slot {
                handle.kill();
            }
        }
    }
}

/// Rolls a start back unless committed: unregisters the session and frees
/// its slot. Runs on every early return and when the start future is
/// dropped.
struct Rollback<'a> {
    inner: &'a Arc<Inner>,
    ticket: Ticket,
    armed: bool,
}

impl Rollback<'_> {
    /// Records the running tree and monitors it, so that its end, however it
    /// comes, clears the session from both registries.
    fn commit(mut self, handle: &ChildHandle) -> Result<(), StartError> {
        let inner = self.inner;
        let id = self.ticket.id();
        if inner.shutting_down.load(Ordering::Acquire) {
            // Rolled back by `self`'s drop; the tree must not outlive it.
            handle.kill();
            return Err(StartError::ShuttingDown);
        }
        inner.children.write().insert(
            id,
            Slot::Running {
                handle: handle.clone(),
                ticket: self.ticket,
                stopping: false,
            },
        );
        self.armed = false;
        inner.slot_changed.notify_waiters();
        // Before the monitor: a tree that has already ended is reported
        // started, then stopped or crashed, in that order.
        inner.events.emit(id, EventKind::Started);
        // Outside the lock: if the tree has already ended, the monitor runs
        // right here.
        let weak: Weak<Inner> = Arc::downgrade(inner);
        let monitored = handle.clone();
        let ticket = self.ticket;
        handle.pid().monitor(move |_, reason| {
            if let Some(inner) = weak.upgrade() {
                inner.forget(id, &monitored, ticket, reason);
            }
        });
        Ok(())
    }
}

impl Drop for Rollback<'_> {
    fn drop(&mut self) {
        if self.armed {
            let id = self.ticket.id();
            self.inner.registry.unregister_ticket(self.ticket);
            let mut children = self.inner.children.write();
            if matches!(children.get(&id), Some(Slot::Starting)) {
                children.remove(&id);
            }
            drop(children);
            self.inner.slot_changed.notify_waiters();
        }
    }
}
