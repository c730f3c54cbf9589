//! [`ProjectIdentity`]: which directory a path named, beyond its spelling.

use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Which directory a project path named when a session was saved: device,
/// inode and owner. A directory deleted and re-created at the same path, or
/// another file system mounted there, has another identity, and a resume
/// refuses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProjectIdentity {
    /// The device holding the directory.
    pub device: u64,
    /// Its inode on that device.
    pub inode: u64,
    /// Its owner's user id.
    pub owner: u32,
}

impl ProjectIdentity {
    /// The identity of the directory at `path` (symlinks followed).
    ///
    /// # Errors
    ///
    /// The file system's, when `path` cannot be read; `Unsupported` on a
    /// platform without device and inode numbers.
    pub fn of(path: &Path) -> io::Result<Self> {
        let metadata = std::fs::metadata(path)?;
        Self::from_metadata(&metadata)
    }

    #[cfg(unix)]
    pub(crate) fn from_metadata(metadata: &std::fs::Metadata) -> io::Result<Self> {
        use std::os::unix::fs::MetadataExt;
        Ok(ProjectIdentity {
            device: metadata.dev(),
            inode: metadata.ino(),
            owner: metadata.uid(),
        })
    }

    #[cfg(not(unix))]
    pub(crate) fn from_metadata(_metadata: &std::fs::Metadata) -> io::Result<Self> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "no device and inode numbers on this platform",
        ))
    }
}
