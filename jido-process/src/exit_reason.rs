//! Why a process ended.

use std::fmt;
use std::sync::Arc;

use crate::Term;

/// Why a process ended.
///
/// Mirrors Erlang exit reasons: [`Normal`](ExitReason::Normal),
/// [`Shutdown`](ExitReason::Shutdown) (`shutdown`) and
/// [`ShutdownWith`](ExitReason::ShutdownWith) (`{shutdown, Term}`) are
/// *normal* exits; every other reason is abnormal. A `transient` child is
/// restarted only after an abnormal exit.
///
/// ```
/// use jido_process::{ExitReason, Term};
///
/// assert!(!ExitReason::Normal.is_abnormal());
/// assert!(!ExitReason::Shutdown.is_abnormal());
/// assert!(!ExitReason::shutdown_with("user closed the tab").is_abnormal());
/// assert!(ExitReason::error("disk full").is_abnormal());
/// assert!(ExitReason::Killed.is_abnormal());
///
/// // A reason carries a value, not just a string.
/// let reason = ExitReason::Error(Term::new(std::io::Error::other("gone")));
/// assert!(reason.term().unwrap().downcast_ref::<std::io::Error>().is_some());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExitReason {
    /// The process completed on its own, with nothing to report (`normal`).
    Normal,
    /// The process stopped because it was asked to (`shutdown`).
    Shutdown,
    /// The process stopped on purpose, saying why (`{shutdown, Term}`).
    ShutdownWith(Term),
    /// The process ended with an error.
    Error(Term),
    /// The process panicked; the panic message, when it was a string.
    Panic(Arc<str>),
    /// The process was killed (`kill`), or its runtime went away.
    Killed,
}

impl ExitReason {
    /// An [`ExitReason::Error`] with the given message.
    pub fn error(message: impl Into<String>) -> Self {
        ExitReason::Error(Term::msg(message))
    }

    /// An [`ExitReason::ShutdownWith`] (`{shutdown, term}`).
    pub fn shutdown_with(term: impl Into<Term>) -> Self {
        ExitReason::ShutdownWith(term.into())
    }

    /// `true` for every reason but `normal`, `shutdown` and
    /// `{shutdown, _}`: the reasons a `transient` child is restarted for.
    pub fn is_abnormal(&self) -> bool {
        !matches!(
            self,
            ExitReason::Normal | ExitReason::Shutdown | ExitReason::ShutdownWith(_)
        )
    }

    /// `true` for `shutdown` and `{shutdown, _}`.
    pub fn is_shutdown(&self) -> bool {
        matches!(self, ExitReason::Shutdown | ExitReason::ShutdownWith(_))
    }

    /// The term a `{shutdown, _}` or error reason carries.
    pub fn term(&self) -> Option<&Term> {
        match self {
            ExitReason::ShutdownWith(term) | ExitReason::Error(term) => Some(term),
            _ => None,
        }
    }

    /// Turns a panic payload (as caught by `catch_unwind`) into a reason.
    pub fn from_panic(payload: &(dyn std::any::Any + Send)) -> Self {
        ExitReason::Panic(panic_message(payload))
    }
}

/// The message of a panic payload, when it is a string.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> Arc<str> {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        Arc::from(*s)
    } else if let Some(s) = payload.downcast_ref::<String>() {
        Arc::from(s.as_str())
    } else {
        Arc::from("non-string panic payload")
    }
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitReason::Normal => f.write_str("normal"),
            ExitReason::Shutdown => f.write_str("shutdown"),
            ExitReason::ShutdownWith(term) => write!(f, "shutdown: {term}"),
            ExitReason::Error(term) => write!(f, "error: {term}"),
            ExitReason::Panic(message) => write!(f, "panic: {message}"),
            ExitReason::Killed => f.write_str("killed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_payloads_become_messages() {
        let s: Box<dyn std::any::Any + Send> = Box::new("boom");
        assert_eq!(
            ExitReason::from_panic(&*s),
            ExitReason::Panic("boom".into())
        );
        let s: Box<dyn std::any::Any + Send> = Box::new(String::from("bang"));
        assert_eq!(
            ExitReason::from_panic(&*s),
            ExitReason::Panic("bang".into())
        );
        let s: Box<dyn std::any::Any + Send> = Box::new(7_u8);
        assert!(matches!(ExitReason::from_panic(&*s), ExitReason::Panic(_)));
    }

    #[test]
    fn display_is_readable() {
        assert_eq!(ExitReason::error("x").to_string(), "error: x");
        assert_eq!(ExitReason::Killed.to_string(), "killed");
        assert_eq!(
            ExitReason::shutdown_with("bye").to_string(),
            "shutdown: bye"
        );
    }

    #[test]
    fn shutdown_with_a_term_is_a_normal_exit() {
        let reason = ExitReason::shutdown_with("done");
        assert!(reason.is_shutdown());
        assert!(!reason.is_abnormal());
        assert_eq!(reason.term(), Some(&Term::msg("done")));
        assert!(ExitReason::Normal.term().is_none());
    }
}
