//! The process runtime's errors: [`RegisterError`] and [`CallError`].

use std::time::Duration;

use crate::{ChildName, ExitReason, Pid};

/// Why [`ProcessRegistry::register`](crate::ProcessRegistry::register) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegisterError<K> {
    /// A live process already holds the key.
    #[error("key {key:?} is already registered to {owner}")]
    Taken {
        /// The key asked for.
        key: K,
        /// The process that holds it.
        owner: Pid,
    },
    /// The would-be owner has already ended (or was killed).
    #[error("cannot register key {key:?}: its owner has exited")]
    OwnerExited {
        /// The key asked for.
        key: K,
    },
}

/// Why a call or a cast to a worker failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The worker ended before replying (or had already ended); why, when
    /// it was known in time.
    #[error("the process exited before replying{}", match reason { Some(r) => format!(" ({r})"), None => String::new() })]
    Exited {
        /// Why it ended.
        reason: Option<ExitReason>,
    },
    /// No reply within the call's timeout. The request may still be handled.
    #[error("no reply within {after:?}")]
    Timeout {
        /// The timeout.
        after: Duration,
    },
    /// The supervisor has no child of that name.
    #[error("no child named {name}")]
    NoSuchChild {
        /// The name asked for.
        name: ChildName,
    },
    /// The child is not running and is not being restarted (it was
    /// terminated, ignored its start, or ended without a restart).
    #[error("child {name} is not running")]
    NotRunning {
        /// The child's name.
        name: ChildName,
    },
    /// The child is being restarted: it ended and its supervisor has not
    /// started the next incarnation yet. What a cast (or
    /// [`ChildRef::addr`](crate::ChildRef::addr)) says, which does not wait;
    /// a call waits for the restart instead.
    #[error("child {name} is being restarted")]
    Restarting {
        /// The child's name.
        name: ChildName,
    },
    /// The child's supervisor gave up restarting it — it reached its
    /// maximum restart intensity — and shut down (OTP's `shutdown` with
    /// `reached_max_restart_intensity`). A call waiting through the
    /// restarts ends with this, as does every call after.
    #[error("the supervisor of child {name} gave up restarting it and shut down")]
    GaveUp {
        /// The child's name.
        name: ChildName,
    },
    /// The child is not a worker of the type the reference expects (a task,
    /// a supervisor, or another worker type).
    #[error("child {name} is not a {expected} worker")]
    WrongType {
        /// The child's name.
        name: ChildName,
        /// The worker type the reference expects.
        expected: &'static str,
    },
    /// The supervisor that owns the child does not run (for a session's
    /// child: the session is not open).
    #[error("the supervisor of child {name} is not running")]
    SupervisorDown {
        /// The child's name.
        name: ChildName,
    },
}
