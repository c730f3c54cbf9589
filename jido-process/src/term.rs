//! [`Term`]: a value that says why something ended or failed.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

/// A value that says why a process ended or why a start failed: the
/// analogue of the Erlang term in `{error, Reason}` or `{shutdown, Reason}`.
///
/// It wraps any error type, so that a reason stays a *value* callers can
/// match on ([`downcast_ref`](Term::downcast_ref)) rather than a string they
/// would have to parse. Cheap to clone (one shared allocation).
///
/// Two terms are equal when they are the same value, or when they have the
/// same `Debug` and `Display` forms (so that a term rebuilt from the same
/// parts compares equal in tests).
///
/// ```
/// use jido_process::Term;
///
/// let plain = Term::msg("no API key");
/// assert_eq!(plain.to_string(), "no API key");
/// assert_eq!(plain, Term::from("no API key"));
///
/// let io = Term::new(std::io::Error::other("disk full"));
/// assert!(io.downcast_ref::<std::io::Error>().is_some());
/// assert!(io.downcast_ref::<std::fmt::Error>().is_none());
/// ```
#[derive(Clone)]
pub struct Term {
    value: Arc<dyn StdError + Send + Sync + 'static>,
}

impl Term {
    /// Wraps `error`.
    pub fn new(error: impl StdError + Send + Sync + 'static) -> Self {
        Term {
            value: Arc::new(error),
        }
    }

    /// A term that is just a message.
    pub fn msg(message: impl Into<String>) -> Self {
        Term::new(Message(message.into()))
    }

    /// The wrapped value, if it is a `T`.
    pub fn downcast_ref<T: StdError + 'static>(&self) -> Option<&T> {
        self.value.downcast_ref::<T>()
    }

    /// `true` if the wrapped value is a `T`.
    pub fn is<T: StdError + 'static>(&self) -> bool {
        self.value.is::<T>()
    }
}

impl From<&str> for Term {
    /// [`Term::msg`].
    fn from(message: &str) -> Self {
        Term::msg(message)
    }
}

impl From<String> for Term {
    /// [`Term::msg`].
    fn from(message: String) -> Self {
        Term::msg(message)
    }
}

impl fmt::Debug for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.value, f)
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.value, f)
    }
}

impl StdError for Term {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.value.source()
    }
}

impl PartialEq for Term {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.value, &other.value)
            || (format!("{:?}", self.value) == format!("{:?}", other.value)
                && self.value.to_string() == other.value.to_string())
    }
}

impl Eq for Term {}

/// The error behind [`Term::msg`].
#[derive(Debug)]
struct Message(String);

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for Message {}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error, PartialEq)]
    #[error("code {0}")]
    struct Code(u8);

    #[test]
    fn equal_by_identity_or_by_form() {
        let a = Term::new(Code(1));
        assert_eq!(a, a.clone());
        assert_eq!(a, Term::new(Code(1)));
        assert_ne!(a, Term::new(Code(2)));
        // Same message, different type: the Debug forms differ.
        assert_ne!(Term::msg("code 1"), a);
    }

    #[test]
    fn keeps_the_value() {
        let term = Term::new(Code(7));
        assert_eq!(term.downcast_ref::<Code>(), Some(&Code(7)));
        assert!(term.is::<Code>());
        assert_eq!(term.to_string(), "code 7");
    }
}
