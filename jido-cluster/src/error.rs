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
#[derive(Debug)]
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
            None => error.to_string(),
        };
        CallError::Unavailable { operation, message }
    }

    pub(crate) fn pool(operation: &'static str, error: &deadpool_postgres::PoolError) -> Self {
        CallError::Unavailable {
            operation,
            message: error.to_string(),
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
