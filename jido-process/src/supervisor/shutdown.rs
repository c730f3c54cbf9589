//! [`Shutdown`]: how a child is terminated, and the termination itself.

use std::time::Duration;

use crate::{ExitReason, Pid, Term};

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
    /// happens to it uses [`begin_termination`](Self::begin_termination).
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
        self.ask(pid, None);
        self.finish(pid).await
    }

    /// Starts terminating `pid` by this policy so that the termination
    /// completes whether or not anyone waits for it: a kill, or a stop
    /// request (`{shutdown, term}` with a `term`) and, for a
    /// [`Timeout`](Shutdown::Timeout), a task of the current runtime that
    /// kills `pid` when the time is up. Wait for the end with
    /// [`Pid::wait`]. Needs a tokio runtime for a `Timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use jido_process::{spawn, ExitReason, Shutdown};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// let stubborn = spawn(std::future::pending());
    /// Shutdown::Timeout(Duration::from_secs(1)).begin_termination(&stubborn, None);
    /// // Nobody needs to wait: the kill comes when the second is up.
    /// assert_eq!(stubborn.wait().await, ExitReason::Killed);
    /// # }
    /// ```
    pub fn begin_termination(self, pid: &Pid, term: Option<Term>) {
        self.ask(pid, term);
        if let Shutdown::Timeout(_) = self {
            let pid = pid.clone();
            tokio::spawn(async move { self.finish(&pid).await });
        }
    }

    /// The first step of every termination: the kill, or the stop request.
    fn ask(self, pid: &Pid, term: Option<Term>) {
        match (self, term) {
            (Shutdown::BrutalKill, _) => pid.kill(),
            (_, Some(term)) => pid.request_stop_with(term),
            (_, None) => pid.request_stop(),
        }
    }

    /// The rest: waits for the end, killing when a timeout runs out.
    async fn finish(self, pid: &Pid) -> ExitReason {
        if let Shutdown::Timeout(timeout) = self {
            if let Ok(reason) = tokio::time::timeout(timeout, pid.wait()).await {
                return reason;
            }
            pid.kill();
        }
        pid.wait().await
    }
}
