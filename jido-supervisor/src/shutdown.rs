//! [`Shutdown`]: how a child is terminated.

use std::time::Duration;

/// How a child is terminated (Erlang's `shutdown` child-spec field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shutdown {
    /// Killed at once, without being asked to stop.
    BrutalKill,
    /// Asked to stop; killed if it has not ended after this long.
    Timeout(Duration),
    /// Asked to stop, and waited for however long it takes (the default for
    /// a child that is itself a supervisor, whose own children have timeouts).
    Infinity,
}

impl Default for Shutdown {
    /// OTP's default for a worker: 5 seconds, then kill.
    fn default() -> Self {
        Shutdown::Timeout(Duration::from_secs(5))
    }
}
