//! The supervisor's errors.

use std::time::Duration;

use jido_registry::RegistryError;
use jido_session::SessionId;

use crate::{ChildError, ProcessKey};

/// Why [`start_session`](crate::SessionSupervisor::start_session) failed.
/// Whatever the reason, the session was not left registered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The registry refused the session (limit, duplicate id, duplicate
    /// project), unchanged.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The child failed to start; its error, unchanged.
    #[error("session failed to start: {0}")]
    Child(ChildError),
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

/// Why a call to a session's Manager or State failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// No live process is registered under the key.
    #[error("no process is registered as {key}")]
    NotRunning {
        /// The key looked up.
        key: ProcessKey,
    },
    /// The process ended before it replied.
    #[error("the process exited before replying")]
    Exited,
}
