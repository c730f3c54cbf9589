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

    /// The span the supervisor's own log lines — a child that failed to
    /// start, ended, is restarted, could not be restarted or shut down —
    /// are emitted in (their parent), so that they say whose supervisor it
    /// is: a session's tree answers a span carrying the session's id.
    /// Asked once, when the supervisor starts. Default: none.
    ///
    /// ```
    /// use jido_process::{Observer, SupervisorEvent};
    ///
    /// struct Tenant(&'static str);
    ///
    /// impl Observer for Tenant {
    ///     fn observe(&self, _event: SupervisorEvent) {}
    ///     fn span(&self) -> tracing::Span {
    ///         tracing::debug_span!("tenant", name = self.0)
    ///     }
    /// }
    /// # let _ = Tenant("acme").span();
    /// ```
    fn span(&self) -> tracing::Span {
        tracing::Span::none()
    }
}
