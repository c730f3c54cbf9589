//! The errors of saving and resuming sessions: [`PersistError`],
//! [`SaveSessionError`], [`ResumeError`].

use std::path::PathBuf;

use jido_registry::BackendError;
use jido_session::{SessionId, ValidationErrors};
use jido_store::{LoadError, ProjectIdentity, SaveError, StoreError};

use crate::error::StartError;

/// Why listing, deleting or cleaning up snapshots failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PersistError {
    /// The supervisor was built without
    /// [`persistence`](crate::SessionSupervisorBuilder::persistence).
    #[error("no persistence is configured")]
    NotConfigured,
    /// A cleanup's maximum age was zero (it would delete every closed
    /// session): refused, as upstream refuses one that is not positive.
    #[error("a cleanup's maximum age must be positive")]
    ZeroMaxAge,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The cluster's backend failed.
    #[error(transparent)]
    Backend(BackendError),
}

/// Why [`SessionSupervisor::save`](crate::SessionSupervisor::save) failed.
/// The previous snapshot, if any, is intact.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SaveSessionError {
    /// No persistence is configured.
    #[error("no persistence is configured")]
    NotConfigured,
    /// No session with this id is open.
    #[error("no open session {id}")]
    NotFound {
        /// The id asked for.
        id: SessionId,
    },
    /// Another save of this session is under way.
    #[error("session {id} is being saved")]
    InProgress {
        /// The session.
        id: SessionId,
    },
    /// Encoding or storing failed.
    #[error(transparent)]
    Save(#[from] SaveError),
}

/// Why [`SessionSupervisor::resume`](crate::SessionSupervisor::resume)
/// refused. Nothing runs, and the snapshot is kept.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ResumeError {
    /// No persistence is configured.
    #[error("no persistence is configured")]
    NotConfigured,
    /// The snapshot could not be loaded (not found, corrupt, too large,
    /// tampered...).
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A session with this id is open now (with a cluster backend: on any
    /// node).
    #[error("session {id} is open")]
    AlreadyOpen {
        /// The session.
        id: SessionId,
    },
    /// The project directory no longer exists.
    #[error("project {} no longer exists", path.display())]
    ProjectMissing {
        /// The saved path.
        path: PathBuf,
    },
    /// Something other than a directory is at the project's path.
    #[error("project {} is no longer a directory", path.display())]
    ProjectNotADirectory {
        /// The saved path.
        path: PathBuf,
    },
    /// Another directory (device, inode or owner differ) is at the project's
    /// path.
    #[error("project {} is not the directory that was saved", path.display())]
    ProjectReplaced {
        /// The saved path.
        path: PathBuf,
        /// The directory saved.
        saved: ProjectIdentity,
        /// The directory there now.
        found: ProjectIdentity,
    },
    /// The project path cannot be read.
    #[error("project {} cannot be read: {message}", path.display())]
    ProjectUnreadable {
        /// The saved path.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The saved session does not pass the checks of a new one.
    #[error(transparent)]
    InvalidSession(ValidationErrors),
    /// The session could not be started (the limit, its project open in
    /// another session, the tree's failure...).
    #[error(transparent)]
    Start(#[from] StartError),
    /// The session's journal cannot be read back — corrupt before its end,
    /// not going on from its snapshot, written by a newer version — so it
    /// is not resumed (never with fewer changes than were acknowledged).
    /// Its snapshot and journal are kept as they are.
    #[error("the journal of session {id} cannot be replayed: {error}")]
    Journal {
        /// The session.
        id: SessionId,
        /// Why.
        error: StoreError,
    },
    /// The session started but its tree keeps no conversation (it is no
    /// session supervisor): it was stopped again.
    #[error("session {id} started but its tree could not take the saved conversation")]
    RestoreFailed {
        /// The session.
        id: SessionId,
    },
}
