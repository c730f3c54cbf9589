//! [`ClusterError`], and how database failures read as the registry's and
//! the store's errors.

use std::time::Duration;

use jido_registry::BackendError;
use jido_store::StoreError;

/// Why a [`PgNode`](crate::PgNode) could not connect or leave.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// The connection string is not valid.
    #[error("invalid connection string: {message}")]
    Config {
        /// What is wrong with it.
        message: String,
    },
    /// The database could not be reached, or refused the connection.
    #[error("the database is unreachable: {message}")]
    Unreachable {
        /// Why.
        message: String,
    },
    /// A call did not finish in time.
    #[error("{operation} timed out after {after:?}")]
    Timeout {
        /// The call.
        operation: &'static str,
        /// The timeout.
        after: Duration,
    },
    /// The database answered with an error (migrations included).
    #[error("{operation} failed: {message}")]
    Database {
        /// The call.
        operation: &'static str,
        /// The database's message.
        message: String,
    },
}

/// A failed call, before it is read as one crate's error.
#[derive(Debug, Clone)]
pub(crate) enum CallError {
    Timeout {
        operation: &'static str,
        after: Duration,
    },
    Unavailable {
        operation: &'static str,
        message: String,
    },
}

impl CallError {
    pub(crate) fn db(operation: &'static str, error: &tokio_postgres::Error) -> Self {
        let message = match error.as_db_error() {
            Some(db) => db.message().to_string(),
            // The cause too: "error connecting to server: Connection refused".
            None => match std::error::Error::source(error) {
                Some(source) => format!("{error}: {source}"),
                None => error.to_string(),
            },
        };
        CallError::Unavailable { operation, message }
    }

    /// A pool that could not give a connection: a timeout as a timeout
    /// (`after`), a server's refusal with its own reason ("sorry, too many
    /// clients already"), not the pool's "db error".
    pub(crate) fn pool(
        operation: &'static str,
        after: Duration,
        error: &deadpool_postgres::PoolError,
    ) -> Self {
        match error {
            deadpool_postgres::PoolError::Timeout(_) => CallError::Timeout { operation, after },
            deadpool_postgres::PoolError::Backend(error) => CallError::db(operation, error),
            other => CallError::Unavailable {
                operation,
                message: other.to_string(),
            },
        }
    }
}

impl From<CallError> for BackendError {
    fn from(error: CallError) -> Self {
        match error {
            CallError::Timeout { operation, after } => BackendError::Timeout { operation, after },
            CallError::Unavailable { operation, message } => BackendError::Unavailable {
                message: format!("{operation}: {message}"),
            },
        }
    }
}

impl From<CallError> for StoreError {
    fn from(error: CallError) -> Self {
        match error {
            CallError::Timeout { operation, .. } => StoreError::Timeout { operation },
            CallError::Unavailable { operation, message } => StoreError::Io {
                operation,
                kind: None,
                message,
            },
        }
    }
}

impl From<CallError> for ClusterError {
    fn from(error: CallError) -> Self {
        match error {
            CallError::Timeout { operation, after } => ClusterError::Timeout { operation, after },
            CallError::Unavailable { operation, message } => {
                ClusterError::Database { operation, message }
            }
        }
    }
}
