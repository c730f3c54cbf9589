//! The supervisor's errors ([`SpecError`], [`SupervisorError`]) and the
//! reasons it exits for on its own ([`SupervisorExit`]).

use crate::{ChildName, ExitReason, Pid, Term};

/// A supervisor or child specification that cannot work (OTP refuses the
/// same ones).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// A permanent child cannot be significant: it is always restarted, so it
    /// never ends the supervisor (`{bad_combination, [{restart, permanent},
    /// {significant, true}]}`).
    #[error(
        "child {name} is permanent and significant; a significant child must be transient or temporary"
    )]
    SignificantPermanent {
        /// The child's name.
        name: ChildName,
    },
    /// A significant child under a supervisor whose auto shutdown is
    /// `Never` (`{bad_combination, [{auto_shutdown, never}, {significant,
    /// true}]}`).
    #[error("child {name} is significant but the supervisor's auto shutdown is never")]
    SignificantWithoutAutoShutdown {
        /// The child's name.
        name: ChildName,
    },
    /// A restart period of zero bounds nothing (`{invalid_period, 0}`).
    #[error("the restart period is zero; it must be positive")]
    ZeroPeriod,
}

/// Why a supervisor refused to start, or refused a request about a child.
///
/// The variants follow OTP's `supervisor` replies: `{already_started, Pid}`,
/// `already_present`, `not_found`, `running`, `restarting`, and
/// `{failed_to_start_child, Id, Reason}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SupervisorError {
    /// The specification cannot work.
    #[error(transparent)]
    InvalidSpec(#[from] SpecError),
    /// A child of that name runs already.
    #[error("child {name} is already started as {pid}")]
    AlreadyStarted {
        /// The name.
        name: ChildName,
        /// The running child.
        pid: Pid,
    },
    /// A child of that name is known but does not run (restart or delete it).
    #[error("child {name} is already present")]
    AlreadyPresent {
        /// The name.
        name: ChildName,
    },
    /// No child of that name.
    #[error("no child named {name}")]
    NotFound {
        /// The name.
        name: ChildName,
    },
    /// The child runs (it must be terminated first).
    #[error("child {name} is running")]
    Running {
        /// The name.
        name: ChildName,
    },
    /// The child is being restarted after a failed restart.
    #[error("child {name} is being restarted")]
    Restarting {
        /// The name.
        name: ChildName,
    },
    /// The child failed to start; the reason it gave (a panic in its start
    /// is a [`StartPanicked`]).
    #[error("child {name} failed to start: {reason}")]
    StartFailed {
        /// The name.
        name: ChildName,
        /// Why.
        reason: Term,
    },
    /// The supervisor does not run.
    #[error("the supervisor is not running")]
    NotRunning,
    /// No tokio runtime to start the supervisor's process on.
    #[error("no tokio runtime: start supervisors from within a tokio runtime")]
    NoRuntime,
}

/// The reason a child's start failed when the start function panicked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the start panicked: {message}")]
pub struct StartPanicked {
    /// The panic message.
    pub message: String,
}

/// Why a supervisor shut itself down: the term of its
/// [`ExitReason::ShutdownWith`]. OTP exits with a plain `shutdown` in both
/// cases; the term says which.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SupervisorExit {
    /// More restarts than its [`RestartIntensity`](crate::RestartIntensity)
    /// allows: the child that ended one time too many, and why.
    #[error("reached max restart intensity ({child} ended: {reason})")]
    ReachedMaxRestartIntensity {
        /// The child that ended.
        child: ChildName,
        /// Why it ended.
        reason: ExitReason,
    },
    /// A significant child ended and [`AutoShutdown`](crate::AutoShutdown)
    /// said the supervisor ends with it.
    #[error("auto shutdown: significant child {child} ended")]
    AutoShutdown {
        /// The significant child that ended.
        child: ChildName,
    },
}

impl SupervisorExit {
    /// The [`SupervisorExit`] inside `reason`, if it is one.
    ///
    /// ```
    /// use jido_process::{ExitReason, SupervisorExit};
    ///
    /// let reason = ExitReason::shutdown_with(jido_process::Term::new(SupervisorExit::AutoShutdown {
    ///     child: "agent".into(),
    /// }));
    /// assert!(matches!(SupervisorExit::of(&reason), Some(SupervisorExit::AutoShutdown { .. })));
    /// assert!(SupervisorExit::of(&ExitReason::Shutdown).is_none());
    /// ```
    pub fn of(reason: &ExitReason) -> Option<&SupervisorExit> {
        match reason {
            ExitReason::ShutdownWith(term) => term.downcast_ref(),
            _ => None,
        }
    }
}
