//! Lifecycle events: [`SessionEvent`], and [`Events`], where they are sent.

use std::fmt;

use jido_registry::ExitReason;
use jido_session::SessionId;
use tokio::sync::broadcast;

/// How many events a slow subscriber may fall behind before it misses some
/// (it then gets `RecvError::Lagged`).
pub const DEFAULT_EVENT_CAPACITY: usize = 1024;

/// Something that happened to a session's process tree.
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
    /// The tree ended because it was asked to, or ended normally by itself;
    /// the session has left the registries.
    Stopped {
        /// Why it ended.
        reason: ExitReason,
    },
    /// The tree ended abnormally by itself (a crash, or restart intensity
    /// exceeded); the session has left the registries.
    Crashed {
        /// Why it ended.
        reason: ExitReason,
    },
    /// A child of the tree ended and was restarted.
    Restarted {
        /// Which child ("manager", "state", …).
        child: &'static str,
        /// Why it had ended.
        reason: ExitReason,
    },
}

impl fmt::Display for SessionEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            EventKind::Started => write!(f, "session {} started", self.session_id),
            EventKind::Stopped { reason } => {
                write!(f, "session {} stopped ({reason})", self.session_id)
            }
            EventKind::Crashed { reason } => {
                write!(f, "session {} crashed ({reason})", self.session_id)
            }
            EventKind::Restarted { child, reason } => write!(
                f,
                "session {}: {child} restarted after {reason}",
                self.session_id
            ),
        }
    }
}

/// Where lifecycle events are sent: a broadcast channel. Sending never
/// blocks and costs next to nothing when nobody listens. Cheap to clone.
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
    pub fn emit(&self, session_id: SessionId, kind: EventKind) {
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
