//! [`ShutdownReport`]: what a bounded shutdown did.

use jido_session::SessionId;

/// What [`shutdown_within`](crate::SessionSupervisor::shutdown_within) did:
/// which sessions stopped by their shutdown policy in time, and which were
/// killed when the time was up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShutdownReport {
    /// Sessions that ended in time.
    pub stopped: Vec<SessionId>,
    /// Sessions still running at the deadline, and killed.
    pub killed: Vec<SessionId>,
}
