//! Lifecycle events: [`SessionEvent`], [`Events`] (where they are sent), and
//! [`ChildEvents`] (what a session's tree may report).

use std::fmt;
use std::sync::{Arc, Weak};

use jido_process::{ChildName, ExitReason, Observer, SupervisorEvent, Term};
use jido_registry::{NodeId, Ticket};
use jido_session::{Session, SessionId};
use tokio::sync::broadcast;

/// How many events a slow subscriber may fall behind before it misses some
/// (it then gets `RecvError::Lagged`).
pub const DEFAULT_EVENT_CAPACITY: usize = 1024;

/// Something that happened to a session's process tree.
///
/// Per session registration, the events always form a valid lifecycle:
/// [`Started`](EventKind::Started) first; then any number of
/// [`Restarted`](EventKind::Restarted) and
/// [`RestartFailed`](EventKind::RestartFailed); then, with save on stop, at
/// most one [`Saved`](EventKind::Saved) or
/// [`SaveFailed`](EventKind::SaveFailed), right before a
/// [`Stopped`](EventKind::Stopped); then exactly one of
/// [`Stopped`](EventKind::Stopped) or [`Crashed`](EventKind::Crashed), last.
/// (One exception: if a [`SessionHandle::wait`](crate::SessionHandle::wait)
/// sees the tree end while its stop is saving it, the `Stopped` comes first
/// and the `Saved`/`SaveFailed` after it.)
/// A session started again under the same id begins a new lifecycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionEvent {
    /// The session it happened to.
    pub session_id: SessionId,
    /// What happened.
    pub kind: EventKind,
}

/// What happened to a session's process tree.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventKind {
    /// The tree started and the session is open.
    Started,
    /// The tree ended because it was asked to (`stop_session`, `shutdown`),
    /// or ended normally by itself (`normal`, `shutdown`, `{shutdown, _}`,
    /// an auto shutdown after a significant child ended); the session has
    /// left the registry.
    Stopped {
        /// Why it ended.
        reason: ExitReason,
    },
    /// The tree ended abnormally by itself (a crash, or its restart
    /// intensity was reached); the session has left the registry.
    Crashed {
        /// Why it ended.
        reason: ExitReason,
    },
    /// A child of the tree ended and was restarted. Children of nested
    /// supervisors are named `outer/inner`.
    Restarted {
        /// Which child ("manager", "state", …).
        child: ChildName,
        /// Why it had ended.
        reason: ExitReason,
    },
    /// A child's restart failed; the tree tries again (each try counts
    /// against its restart intensity).
    RestartFailed {
        /// Which child.
        child: ChildName,
        /// Why the start failed.
        error: Term,
    },
    /// The session's snapshot was saved as it stopped (save on stop); its
    /// `Stopped` follows.
    Saved,
    /// Saving the session as it stopped failed; the stop goes on, and its
    /// `Stopped` follows.
    SaveFailed {
        /// Why (a [`SaveError`](crate::store::SaveError)).
        error: Term,
    },
    /// The session, orphaned by a node that died, was adopted here
    /// ([`adopt_orphans`](crate::SessionSupervisor::adopt_orphans)): resumed
    /// with every change it acknowledged. Follows its `Started` (unless it
    /// ended at once).
    Adopted {
        /// The node that held it last, when the cluster still says so.
        from: Option<NodeId>,
    },
}

impl EventKind {
    /// `true` for the events that end a lifecycle.
    pub fn is_end(&self) -> bool {
        matches!(self, EventKind::Stopped { .. } | EventKind::Crashed { .. })
    }
}

impl fmt::Display for SessionEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self.session_id;
        match &self.kind {
            EventKind::Started => write!(f, "session {id} started"),
            EventKind::Stopped { reason } => write!(f, "session {id} stopped ({reason})"),
            EventKind::Crashed { reason } => write!(f, "session {id} crashed ({reason})"),
            EventKind::Restarted { child, reason } => {
                write!(f, "session {id}: {child} restarted after {reason}")
            }
            EventKind::RestartFailed { child, error } => {
                write!(f, "session {id}: restart of {child} failed ({error})")
            }
            EventKind::Saved => write!(f, "session {id} saved"),
            EventKind::SaveFailed { error } => write!(f, "session {id}: save failed ({error})"),
            EventKind::Adopted { from: Some(node) } => {
                write!(f, "session {id} adopted from node {node}")
            }
            EventKind::Adopted { from: None } => write!(f, "session {id} adopted"),
        }
    }
}

/// Where a supervisor sends lifecycle events: a broadcast channel. Sending
/// never blocks and costs next to nothing when nobody listens. Cheap to
/// clone. Only the supervisor sends: you [`subscribe`](Events::subscribe).
///
/// ```compile_fail
/// use jido_supervisor::{EventKind, Events, SessionId};
/// // Nobody but the supervisor can say a session started.
/// Events::default().emit(SessionId::new(), EventKind::Started);
/// ```
#[derive(Clone)]
pub struct Events {
    sender: broadcast::Sender<SessionEvent>,
}

impl Events {
    /// A channel keeping up to `capacity` events for slow subscribers.
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity.max(1));
        Events { sender }
    }

    /// Sends `kind` for `session_id` to every subscriber.
    pub(crate) fn emit(&self, session_id: SessionId, kind: EventKind) {
        crate::telemetry::event(&kind);
        // An error only means that nobody is subscribed.
        let _ = self.sender.send(SessionEvent { session_id, kind });
    }

    /// A receiver of every event sent from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<SessionEvent> {
        self.sender.subscribe()
    }
}

impl Default for Events {
    fn default() -> Self {
        Events::new(DEFAULT_EVENT_CAPACITY)
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Events")
            .field("subscribers", &self.sender.receiver_count())
            .finish()
    }
}

/// What a session's tree may report: restarts of its own children, for its
/// own session, while it runs. Nothing else — a tree cannot say a session
/// started or stopped, nor speak for another session. Reports made while
/// the session is still starting are delivered right after its `Started`;
/// reports after its end are dropped. Cheap to clone.
///
/// It is also an [`Observer`], so a [`SupervisorSpec`](crate::process::SupervisorSpec)
/// started with it reports its restarts.
#[derive(Clone)]
pub struct ChildEvents {
    owner: Weak<dyn SessionOwner>,
    ticket: Ticket,
}

/// The supervisor, as a session's tree reaches it through its
/// [`ChildEvents`]: crate-private and narrow, so that the trees' side needs
/// nothing of the supervisor's core (which implements it).
pub(crate) trait SessionOwner: Send + Sync {
    /// A tree's report about one of its children.
    fn child_event(&self, ticket: Ticket, kind: EventKind);
    /// The session as registered now.
    fn current_session(&self, id: SessionId) -> Option<Arc<Session>>;
}

impl ChildEvents {
    pub(crate) fn new(owner: Weak<dyn SessionOwner>, ticket: Ticket) -> Self {
        ChildEvents { owner, ticket }
    }

    /// The session as registered now, while its supervisor exists.
    pub(crate) fn current_session(&self) -> Option<Arc<Session>> {
        self.owner.upgrade()?.current_session(self.ticket.id())
    }

    /// The session this reports for.
    pub fn session_id(&self) -> SessionId {
        self.ticket.id()
    }

    /// Reports that `child` ended for `reason` and was restarted.
    pub fn restarted(&self, child: impl Into<ChildName>, reason: ExitReason) {
        self.report(EventKind::Restarted {
            child: child.into(),
            reason,
        });
    }

    /// Reports that a restart of `child` failed with `error`.
    pub fn restart_failed(&self, child: impl Into<ChildName>, error: Term) {
        self.report(EventKind::RestartFailed {
            child: child.into(),
            error,
        });
    }

    fn report(&self, kind: EventKind) {
        if let Some(owner) = self.owner.upgrade() {
            owner.child_event(self.ticket, kind);
        }
    }
}

impl Observer for ChildEvents {
    fn observe(&self, event: SupervisorEvent) {
        match event {
            SupervisorEvent::ChildRestarted { child, reason } => self.restarted(child, reason),
            SupervisorEvent::RestartFailed { child, error } => self.restart_failed(child, error),
            _ => {}
        }
    }

    /// `session{id=…}`: the tree's log lines (a child restarted, crashed,
    /// failed to start) say which session. At the error level, so that it
    /// is there whatever level the warnings are read at; created only when
    /// a subscriber listens.
    fn span(&self) -> tracing::Span {
        tracing::error_span!("session", id = %self.ticket.id())
    }
}

impl fmt::Debug for ChildEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildEvents")
            .field("session_id", &self.ticket.id())
            .finish()
    }
}
