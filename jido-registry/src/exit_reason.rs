//! Why a process ended.

use std::fmt;
use std::sync::Arc;

/// Why a process (a task spawned with [`spawn`](crate::spawn)) ended.
///
/// Mirrors Erlang exit reasons: [`Normal`](ExitReason::Normal) and
/// [`Shutdown`](ExitReason::Shutdown) are *normal* exits; every other reason is
/// abnormal and is what a `transient` child is restarted for.
///
/// ```
/// use jido_registry::ExitReason;
///
/// assert!(!ExitReason::Normal.is_abnormal());
/// assert!(!ExitReason::Shutdown.is_abnormal());
/// assert!(ExitReason::error("disk full").is_abnormal());
/// assert!(ExitReason::Killed.is_abnormal());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExitReason {
    /// The task's future completed on its own, with nothing to report.
    Normal,
    /// The task stopped because it was asked to (graceful shutdown).
    Shutdown,
    /// The task ended with an error.
    Error(Arc<str>),
    /// The task panicked; the panic message, when it was a string.
    Panic(Arc<str>),
    /// The task was aborted (killed) before it completed, or its runtime went away.
    Killed,
}

impl ExitReason {
    /// An [`ExitReason::Error`] with the given message.
    pub fn error(message: impl Into<Arc<str>>) -> Self {
        ExitReason::Error(message.into())
    }

    /// `true` for every reason but [`Normal`](ExitReason::Normal) and
    /// [`Shutdown`](ExitReason::Shutdown): the reasons a `transient` child is
    /// restarted for, and the ones reported as crashes.
    pub fn is_abnormal(&self) -> bool {
        !matches!(self, ExitReason::Normal | ExitReason::Shutdown)
    }

    /// Turns a panic payload (as caught by `catch_unwind`) into a reason.
    pub fn from_panic(payload: &(dyn std::any::Any + Send)) -> Self {
        let message: Arc<str> = if let Some(s) = payload.downcast_ref::<&'static str>() {
            Arc::from(*s)
        } else if let Some(s) = payload.downcast_ref::<String>() {
            Arc::from(s.as_str())
        } else {
            Arc::from("non-string panic payload")
        };
        ExitReason::Panic(message)
    }
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitReason::Normal => f.write_str("normal"),
            ExitReason::Shutdown => f.write_str("shutdown"),
            ExitReason::Error(message) => write!(f, "error: {message}"),
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
    }
}
