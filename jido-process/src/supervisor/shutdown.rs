//! [`Shutdown`]: how a child is terminated, and the termination itself.

use std::time::Duration;

use crate::{ExitReason, Pid};

/// How a child is terminated (OTP's `shutdown` child-spec field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Shutdown {
    /// Killed at once, without being asked to stop.
    BrutalKill,
    /// Asked to stop; killed if it has not ended after this long.
    Timeout(Duration),
    /// Asked to stop, and waited for however long it takes (the default for
    /// a child that is itself a supervisor, whose own children have
    /// timeouts). A child that never stops is waited for forever.
    Infinity,
}

impl Default for Shutdown {
    /// OTP's default for a worker: 5 seconds, then kill.
    fn default() -> Self {
        Shutdown::Timeout(Duration::from_secs(5))
    }
}

impl Shutdown {
    /// Terminates `pid` by this policy and waits for its end: kill at once
    /// ([`BrutalKill`](Shutdown::BrutalKill)), or ask it to stop and kill it
    /// after the timeout ([`Timeout`](Shutdown::Timeout)), or ask and wait
    /// ([`Infinity`](Shutdown::Infinity)). Returns why it ended.
    ///
    /// Dropping the returned future stops waiting, and skips the kill of a
    /// `Timeout`: a caller that must see the termination through whatever
    /// happens to it runs this in a task of its own.
    ///
    /// ```
    /// use std::time::Duration;
    /// use jido_process::{spawn, ExitReason, Shutdown};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// // A process that ignores stop requests is killed after the timeout.
    /// let stubborn = spawn(std::future::pending());
    /// let reason = Shutdown::Timeout(Duration::from_secs(1)).terminate(&stubborn).await;
    /// assert_eq!(reason, ExitReason::Killed);
    /// # }
    /// ```
    pub async fn terminate(self, pid: &Pid) -> ExitReason {
        match self {
            Shutdown::BrutalKill => pid.kill(),
            Shutdown::Timeout(timeout) => {
                pid.request_stop();
                if let Ok(reason) = tokio::time::timeout(timeout, pid.wait()).await {
                    return reason;
                }
                pid.kill();
            }
            Shutdown::Infinity => pid.request_stop(),
        }
        pid.wait().await
    }
}
