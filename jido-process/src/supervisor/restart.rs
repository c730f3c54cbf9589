//! [`Restart`]: whether a child is restarted when it ends.

use crate::ExitReason;

/// Whether a child is restarted when it ends (OTP's restart types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Restart {
    /// Always restarted, whatever the reason.
    #[default]
    Permanent,
    /// Restarted only after an abnormal exit (not `normal`, `shutdown` or
    /// `{shutdown, _}`).
    Transient,
    /// Never restarted; its spec is forgotten when it ends.
    Temporary,
}

impl Restart {
    /// Whether a child of this type that ended for `reason` is restarted.
    ///
    /// ```
    /// use jido_process::{ExitReason, Restart};
    ///
    /// assert!(Restart::Permanent.restarts_after(&ExitReason::Normal));
    /// assert!(!Restart::Transient.restarts_after(&ExitReason::Normal));
    /// assert!(!Restart::Transient.restarts_after(&ExitReason::shutdown_with("done")));
    /// assert!(Restart::Transient.restarts_after(&ExitReason::Killed));
    /// assert!(!Restart::Temporary.restarts_after(&ExitReason::Killed));
    /// ```
    pub fn restarts_after(self, reason: &ExitReason) -> bool {
        match self {
            Restart::Permanent => true,
            Restart::Transient => reason.is_abnormal(),
            Restart::Temporary => false,
        }
    }
}
