//! The session supervisor's errors.

use std::time::Duration;

use jido_process::Term;
use jido_registry::{BackendError, RegistryError};
use jido_session::{SessionError, SessionId, ValidationErrors};
use jido_store::StoreError;

/// Why [`start_session`](crate::SessionSupervisor::start_session) failed.
/// Whatever the reason, the session was not left registered and nothing it
/// started is left running.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The registry refused the session (limit, duplicate id, duplicate
    /// project), unchanged.
    #[error(transparent)]
    Registry(RegistryError),
    /// [`create_session`](crate::SessionSupervisor::create_session) was given
    /// a path that is no usable project directory.
    #[error(transparent)]
    InvalidSession(SessionError),
    /// The child failed to start; its reason, unchanged.
    #[error("session failed to start: {0}")]
    Child(Term),
    /// The child chose not to start (Erlang's `:ignore`).
    #[error("session child ignored the start")]
    Ignored,
    /// The child panicked while starting.
    #[error("session child panicked while starting: {message}")]
    Panicked {
        /// The panic message.
        message: String,
    },
    /// The child did not finish starting in time.
    #[error("session child did not start within {after:?}")]
    Timeout {
        /// The start timeout.
        after: Duration,
    },
    /// The supervisor is shutting down and starts nothing new.
    #[error("the session supervisor is shutting down")]
    ShuttingDown,
    /// The cluster's registry backend failed (unreachable, timed out, or
    /// this node holds no live lease); nothing was started.
    #[error(transparent)]
    Backend(BackendError),
    /// There is no tokio runtime to run the session on: call from within a
    /// runtime (with its time driver enabled, for timeouts).
    #[error("no tokio runtime: start sessions from within a tokio runtime")]
    NoRuntime,
}

impl From<RegistryError> for StartError {
    fn from(error: RegistryError) -> Self {
        match error {
            RegistryError::Closed => StartError::ShuttingDown,
            other => StartError::Registry(other),
        }
    }
}

/// Why [`stop_session`](crate::SessionSupervisor::stop_session) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StopError {
    /// No session with this id is running.
    #[error("no running session with id {id}")]
    NotFound {
        /// The id asked for.
        id: SessionId,
    },
}

/// Why renaming a session or changing its config failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum UpdateError {
    /// No session with this id is running.
    #[error("no running session with id {id}")]
    NotFound {
        /// The id asked for.
        id: SessionId,
    },
    /// The new name or config is invalid; the session is unchanged.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// The session is journaled and its new record could not be written to
    /// the journal, so the session is unchanged.
    #[error("the change could not be journaled, and was not made: {error}")]
    NotJournaled {
        /// Why.
        error: StoreError,
    },
}
