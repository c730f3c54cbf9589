//! [`ManagerError`]: why a [`Manager`](super::Manager) request failed.

use jido_process::CallError;
use jido_session::{BoundaryError, FileError};

/// Why a request to a session's [`Manager`](super::Manager) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ManagerError {
    /// The Manager could not be reached, or did not answer in time.
    #[error(transparent)]
    Call(#[from] CallError),
    /// The path was refused by the project boundary
    /// ([`ManagerRef::validate_path`](super::ManagerRef::validate_path)).
    #[error(transparent)]
    Boundary(#[from] BoundaryError),
    /// The file operation failed (a refused path included, as
    /// [`FileError::Boundary`]).
    #[error(transparent)]
    File(#[from] FileError),
}
