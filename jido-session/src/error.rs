//! [`SessionError`], one validation or I/O failure, and [`ValidationErrors`],
//! the non-empty list of every failure found by a validation pass.

use std::fmt;
use std::io;
use std::path::PathBuf;

use chrono::{DateTime, Utc};

/// A single reason why a session, or one of its parts, is invalid.
///
/// The messages are written for people, e.g. `session name is 51 characters
/// long; the limit is 50` or `project path /x does not exist`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The text or UUID is not a hyphenated version 4 UUID.
    #[error("invalid session id {value:?} ({len} bytes): expected a hyphenated version 4 UUID")]
    InvalidId {
        /// The rejected input, cut to [`MAX_ECHO_CHARS`] characters.
        value: String,
        /// Its whole length, in bytes.
        len: usize,
    },

    /// The session name is empty or only whitespace.
    #[error("session name is empty")]
    NameEmpty,

    /// The session name has more than `max` characters.
    #[error("session name is {len} characters long; the limit is {max}")]
    NameTooLong {
        /// The rejected name, cut to [`MAX_ECHO_CHARS`] characters.
        name: String,
        /// Its length in characters (Unicode scalar values).
        len: usize,
        /// The limit, [`MAX_NAME_CHARS`](crate::MAX_NAME_CHARS).
        max: usize,
    },

    /// The project path is empty.
    #[error("project path is empty")]
    PathEmpty,

    /// The project path has more than `max` bytes.
    #[error("project path is {len} bytes long; the limit is {max}")]
    PathTooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit, [`MAX_PATH_BYTES`](crate::MAX_PATH_BYTES).
        max: usize,
    },

    /// Nothing exists at the project path.
    #[error("project path {} does not exist", path.display())]
    PathNotFound {
        /// The path as given.
        path: PathBuf,
    },

    /// The project path exists but is not a directory.
    #[error("project path {} is not a directory", path.display())]
    PathNotADirectory {
        /// The path as given.
        path: PathBuf,
    },

    /// The project directory is not readable.
    #[error("project path {} is not readable", path.display())]
    PathUnreadable {
        /// The path as given.
        path: PathBuf,
    },

    /// The project directory cannot be searched (no `x` permission): its
    /// files could be neither opened nor listed beneath it.
    #[error("project path {} is not searchable (no execute permission)", path.display())]
    PathNotSearchable {
        /// The path as given.
        path: PathBuf,
    },

    /// The project directory is not writable.
    #[error("project path {} is not writable", path.display())]
    PathUnwritable {
        /// The path as given.
        path: PathBuf,
    },

    /// The project's canonical path is not valid UTF-8: refused, because a
    /// session's record (snapshots, journals, the cluster's database)
    /// holds its path as text, and a session that could not be saved
    /// would lose its conversation at its first save.
    #[error("project path {} is not valid UTF-8", path.display())]
    PathNotUtf8 {
        /// The path as given.
        path: PathBuf,
    },

    /// A stored project path ([`SessionRecord`](crate::SessionRecord)) is
    /// relative: it would depend on the working directory.
    #[error("project path {} is not absolute", path.display())]
    PathNotAbsolute {
        /// The rejected path.
        path: PathBuf,
    },

    /// The project path could not be inspected.
    #[error("cannot access project path {}: {message}", path.display())]
    PathIo {
        /// The path as given.
        path: PathBuf,
        /// The kind of the underlying I/O error.
        kind: io::ErrorKind,
        /// The message of the underlying I/O error.
        message: String,
    },

    /// The LLM provider is empty or only whitespace.
    #[error("LLM provider is empty")]
    ProviderEmpty,

    /// The LLM model is empty or only whitespace.
    #[error("LLM model is empty")]
    ModelEmpty,

    /// The temperature is NaN or infinite.
    #[error("temperature {} is not a finite number", Compact(*value))]
    TemperatureNotFinite {
        /// The rejected value.
        value: f64,
    },

    /// The temperature is outside `min..=max`.
    #[error(
        "temperature {} is out of range; it must be between {min} and {max}",
        Compact(*value)
    )]
    TemperatureOutOfRange {
        /// The rejected value.
        value: f64,
        /// The lowest accepted value, [`MIN_TEMPERATURE`](crate::MIN_TEMPERATURE).
        min: f64,
        /// The highest accepted value, [`MAX_TEMPERATURE`](crate::MAX_TEMPERATURE).
        max: f64,
    },

    /// `max_tokens` is zero.
    #[error("max_tokens is 0; it must be at least 1")]
    MaxTokensZero,

    /// The session's `updated_at` is earlier than its `created_at`.
    #[error("session was updated at {updated_at}, before it was created at {created_at}")]
    UpdatedBeforeCreated {
        /// When the session was created.
        created_at: DateTime<Utc>,
        /// When the session was last updated.
        updated_at: DateTime<Utc>,
    },
}

/// How many characters of a rejected input an error keeps: a hostile input
/// (a 10 MB id, say) must not make a 10 MB error message.
pub const MAX_ECHO_CHARS: usize = 64;

/// `input`, cut to [`MAX_ECHO_CHARS`] characters (with `…` when cut).
pub(crate) fn echo(input: &str) -> String {
    match input.char_indices().nth(MAX_ECHO_CHARS) {
        Some((end, _)) => format!("{}…", &input[..end]),
        None => input.to_owned(),
    }
}

/// Shows a number in at most a couple of dozen characters: plainly when
/// that is short, in scientific notation otherwise (`-1e-300`, not three
/// hundred digits).
struct Compact(f64);

impl fmt::Display for Compact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plain = self.0.to_string();
        if plain.len() <= 24 {
            f.write_str(&plain)
        } else {
            write!(f, "{:e}", self.0)
        }
    }
}

/// A non-empty list of every validation failure, in check order.
///
/// Its [`Display`](fmt::Display) joins the messages with `"; "`.
///
/// # Examples
///
/// ```
/// use jido_session::{SessionConfig, SessionError};
///
/// let config = SessionConfig { max_tokens: 0, temperature: 9.0, ..SessionConfig::default() };
/// let errors = config.validate().unwrap_err();
/// assert_eq!(errors.len(), 2);
/// assert!(matches!(errors.first(), SessionError::TemperatureOutOfRange { .. }));
/// assert!(errors.contains(&SessionError::MaxTokensZero));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationErrors(Vec<SessionError>);

impl ValidationErrors {
    /// Returns `Ok(())` if `errors` is empty, otherwise the errors.
    pub(crate) fn check(errors: Vec<SessionError>) -> Result<(), Self> {
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Self(errors))
        }
    }

    /// All errors, in check order.
    #[must_use]
    pub fn errors(&self) -> &[SessionError] {
        &self.0
    }

    /// All errors, in check order.
    #[must_use]
    pub fn into_vec(self) -> Vec<SessionError> {
        self.0
    }

    /// The first error found.
    #[must_use]
    pub fn first(&self) -> &SessionError {
        // Cannot panic: every constructor (`check`, `From<SessionError>`)
        // guarantees at least one element and nothing removes elements.
        &self.0[0]
    }

    /// The number of errors (at least 1).
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always `false`: a `ValidationErrors` holds at least one error.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `error` is one of the errors.
    #[must_use]
    pub fn contains(&self, error: &SessionError) -> bool {
        self.0.contains(error)
    }

    /// Iterates over the errors, in check order.
    pub fn iter(&self) -> std::slice::Iter<'_, SessionError> {
        self.0.iter()
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            fmt::Display::fmt(error, f)?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

impl From<SessionError> for ValidationErrors {
    fn from(error: SessionError) -> Self {
        Self(vec![error])
    }
}

impl IntoIterator for ValidationErrors {
    type Item = SessionError;
    type IntoIter = std::vec::IntoIter<SessionError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a ValidationErrors {
    type Item = &'a SessionError;
    type IntoIter = std::slice::Iter<'a, SessionError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_is_ok_only_when_empty() {
        assert_eq!(ValidationErrors::check(Vec::new()), Ok(()));
        let errors = ValidationErrors::check(vec![SessionError::NameEmpty]).unwrap_err();
        assert_eq!(errors.errors(), &[SessionError::NameEmpty]);
        assert!(!errors.is_empty());
    }

    #[test]
    fn display_joins_messages_in_order() {
        let errors = ValidationErrors::check(vec![
            SessionError::NameTooLong {
                name: "x".repeat(51),
                len: 51,
                max: 50,
            },
            SessionError::PathNotFound { path: "/x".into() },
            SessionError::MaxTokensZero,
        ])
        .unwrap_err();
        assert_eq!(
            errors.to_string(),
            "session name is 51 characters long; the limit is 50; \
             project path /x does not exist; \
             max_tokens is 0; it must be at least 1"
        );
    }

    #[test]
    fn accessors_and_iterators_agree() {
        let list = vec![SessionError::ProviderEmpty, SessionError::ModelEmpty];
        let errors = ValidationErrors::check(list.clone()).unwrap_err();
        assert_eq!(errors.len(), 2);
        assert_eq!(errors.first(), &SessionError::ProviderEmpty);
        assert!(errors.contains(&SessionError::ModelEmpty));
        assert!(!errors.contains(&SessionError::NameEmpty));
        assert_eq!(errors.iter().cloned().collect::<Vec<_>>(), list);
        assert_eq!((&errors).into_iter().count(), 2);
        assert_eq!(errors.clone().into_iter().collect::<Vec<_>>(), list);
        assert_eq!(errors.into_vec(), list);
    }

    #[test]
    fn echoes_are_capped() {
        assert_eq!(echo("short"), "short");
        let long = "é".repeat(10_000);
        let cut = echo(&long);
        assert_eq!(cut.chars().count(), MAX_ECHO_CHARS + 1);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn extreme_numbers_are_printed_compactly() {
        let error = SessionError::TemperatureOutOfRange {
            value: -1e-300,
            min: 0.0,
            max: 2.0,
        };
        assert_eq!(
            error.to_string(),
            "temperature -1e-300 is out of range; it must be between 0 and 2"
        );
        let error = SessionError::TemperatureOutOfRange {
            value: 2.5,
            min: 0.0,
            max: 2.0,
        };
        assert!(error.to_string().starts_with("temperature 2.5 is out"));
        assert_eq!(
            SessionError::TemperatureNotFinite { value: f64::NAN }.to_string(),
            "temperature NaN is not a finite number"
        );
    }

    #[test]
    fn from_single_error() {
        let errors = ValidationErrors::from(SessionError::PathEmpty);
        assert_eq!(errors.errors(), &[SessionError::PathEmpty]);
        assert_eq!(errors.to_string(), "project path is empty");
    }
}
