//! [`Observer`]: what a supervisor reports while it works.

use crate::{ChildName, ExitReason, Term};

/// Something a supervisor did about a child (OTP's supervisor reports).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SupervisorEvent {
    /// A child ended and was started again (with its siblings, as the
    /// strategy says). Children of nested supervisors are named
    /// `outer/inner`.
    ChildRestarted {
        /// The child that ended.
        child: ChildName,
        /// Why it had ended.
        reason: ExitReason,
    },
    /// A restart failed; the supervisor tries again (each try counts
    /// against the restart intensity) and the child is restarting meanwhile.
    RestartFailed {
        /// The child that could not be started.
        child: ChildName,
        /// Why.
        error: Term,
    },
}

/// Receives a supervisor's [`SupervisorEvent`]s, on the supervisor's own
/// task. Keep it quick: the supervisor waits for it.
pub trait Observer: Send + Sync + 'static {
    /// Called for each event, in order.
    fn observe(&self, event: SupervisorEvent);
}
