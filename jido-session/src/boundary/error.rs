//! The boundary's errors: [`BoundaryError`] and [`FileError`].

use std::io;
use std::path::{Path, PathBuf};

/// Why a path was refused (jido_code's `Security.validation_error`, plus
/// the protected settings file).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BoundaryError {
    /// The path is empty, has a NUL byte, is too long, or cannot be
    /// resolved.
    #[error("invalid path {path:?}: {reason}")]
    InvalidPath {
        /// The path, as given (cut if long).
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A relative path whose `..` leave the project.
    #[error("path {} escapes the project", path.display())]
    PathEscapesBoundary {
        /// The path, as given.
        path: PathBuf,
    },
    /// An absolute path outside the project.
    #[error("path {} is outside the project", path.display())]
    PathOutsideBoundary {
        /// The path, as given.
        path: PathBuf,
    },
    /// A symlink along the path leads outside the project.
    #[error("path {} leads outside the project through a symlink (to {})", path.display(), target.display())]
    SymlinkEscapesBoundary {
        /// The path, as given.
        path: PathBuf,
        /// Where it resolves to.
        target: PathBuf,
    },
    /// The project's own settings file, which tools may not touch.
    #[error("path {} is a protected settings file", path.display())]
    ProtectedSettingsFile {
        /// The path, as given.
        path: PathBuf,
    },
}

/// Why a file operation inside the boundary failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// The path was refused.
    #[error(transparent)]
    Boundary(#[from] BoundaryError),
    /// Nothing exists there.
    #[error("{} does not exist", path.display())]
    NotFound {
        /// The resolved path.
        path: PathBuf,
    },
    /// A directory, not a file.
    #[error("{} is a directory, not a file", path.display())]
    NotAFile {
        /// The resolved path.
        path: PathBuf,
    },
    /// Neither a regular file nor a directory: a FIFO, a socket, a
    /// device. Refused before anything is read from it (it is opened
    /// without blocking), so that nothing can wedge the operation.
    #[error("{} is {what}, not a regular file", path.display())]
    NotARegularFile {
        /// The path.
        path: PathBuf,
        /// What it is.
        what: &'static str,
    },
    /// Not a directory.
    #[error("{} is not a directory", path.display())]
    NotADirectory {
        /// The resolved path.
        path: PathBuf,
    },
    /// A file cannot be written where its parent directory does not exist.
    /// No longer returned by [`write_file`](crate::ProjectBoundary::write_file),
    /// which makes missing directories beneath the project; kept so that
    /// code matching it still compiles.
    #[error("the directory {} does not exist", path.display())]
    ParentMissing {
        /// The missing parent.
        path: PathBuf,
    },
    /// Line numbers start at 1.
    #[error("line offset 0: lines are numbered from 1")]
    InvalidOffset,
    /// The file system refused.
    #[error("{}: {message}", path.display())]
    Io {
        /// The resolved path.
        path: PathBuf,
        /// The kind of the underlying error.
        kind: io::ErrorKind,
        /// Its message.
        message: String,
    },
}

impl FileError {
    pub(crate) fn io(path: &Path, error: &io::Error) -> Self {
        match error.kind() {
            io::ErrorKind::NotFound => FileError::NotFound {
                path: path.to_path_buf(),
            },
            kind => FileError::Io {
                path: path.to_path_buf(),
                kind,
                message: error.to_string(),
            },
        }
    }
}
