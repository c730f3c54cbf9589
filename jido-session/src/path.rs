//! [`ProjectPath`]: the canonical path of a project directory, and its
//! filesystem checks.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::io;
use std::ops::Deref;
use std::path::{Path, PathBuf};

use rustix::fs::Access;
use rustix::io::Errno;
use serde::Serialize;
use serde::ser::{self, Serializer};

use crate::error::SessionError;

/// The longest accepted project path, in bytes.
pub const MAX_PATH_BYTES: usize = 4096;

/// A canonical (absolute, symlinks and `..` resolved) path to a project
/// directory.
///
/// Two `ProjectPath`s built from different spellings of the same directory
/// (through a symlink, with `..`, relative to the working directory...)
/// compare equal and hash the same, which makes `ProjectPath` a sound key
/// for "one session per project" lookups.
///
/// Only [`new`](Self::new) and [`resolve`](Self::resolve) make one: both
/// canonicalize through the file system. There is deliberately no
/// `Deserialize` (a path read from storage goes through
/// [`Session::from_record`](crate::Session::from_record)), so no
/// `ProjectPath` names a symlink or an unresolved spelling.
///
/// Equality, ordering and hashing all use the raw bytes of the path, so they
/// are consistent with each other and cheap.
///
/// # Examples
///
/// ```
/// use jido_session::ProjectPath;
///
/// let dir = tempfile::tempdir()?;
/// let direct = ProjectPath::new(dir.path())?;
/// let detour = ProjectPath::new(dir.path().join("..").join(dir.path().file_name().unwrap()))?;
/// assert_eq!(direct, detour);
/// assert!(direct.is_absolute());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// It also carries the identity of the directory it named when it was made
/// ([`directory`](Self::directory): device and inode), so that one directory
/// is one project whatever its path: a directory renamed under a running
/// session is still that session's project.
#[derive(Clone)]
pub struct ProjectPath(PathBuf, Option<DirectoryId>);

/// Which directory a [`ProjectPath`] named when it was made: its device
/// and inode numbers. Two paths with one `DirectoryId` name one directory
/// (a rename, a bind mount, a hard-linked... path), whatever their spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DirectoryId {
    /// The device holding the directory.
    pub device: u64,
    /// Its inode on that device.
    pub inode: u64,
}

impl DirectoryId {
    /// The identity in `metadata`; `None` on a platform without device and
    /// inode numbers.
    pub fn of(metadata: &std::fs::Metadata) -> Option<Self> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Some(DirectoryId {
                device: metadata.dev(),
                inode: metadata.ino(),
            })
        }
        #[cfg(not(unix))]
        {
            let _ = metadata;
            None
        }
    }
}

impl ProjectPath {
    /// Canonicalizes `path` and checks that it is a readable and writable
    /// directory.
    ///
    /// Relative paths are resolved against the current working directory.
    ///
    /// # Errors
    ///
    /// The checks run in this order and the first failure is returned; the
    /// `path` carried by an error is `path` as given:
    ///
    /// 1. [`SessionError::PathEmpty`] if `path` is empty;
    /// 2. [`SessionError::PathTooLong`] if `path` has more than
    ///    [`MAX_PATH_BYTES`] bytes;
    /// 3. [`SessionError::PathNotFound`] if nothing exists there, or
    ///    [`SessionError::PathIo`] if it cannot be canonicalized otherwise,
    ///    or [`SessionError::PathNotUtf8`] if its canonical path is not
    ///    valid UTF-8 (a session's record holds it as text);
    /// 4. [`SessionError::PathNotADirectory`];
    /// 5. [`SessionError::PathUnreadable`], then
    ///    [`SessionError::PathNotSearchable`], then
    ///    [`SessionError::PathUnwritable`], as decided by `access(2)` (which
    ///    uses the real user and group ids).
    pub fn new(path: impl AsRef<Path>) -> Result<Self, SessionError> {
        let given = path.as_ref();
        let canonical = canonicalize(given)?;
        let directory = check_directory(&canonical, given)?;
        Ok(Self(canonical, directory))
    }

    /// Canonicalizes `path` without the directory and permission checks of
    /// [`new`](Self::new); meant for looking sessions up by path.
    ///
    /// # Errors
    ///
    /// Steps 1 to 3 of [`new`](Self::new).
    pub fn resolve(path: impl AsRef<Path>) -> Result<Self, SessionError> {
        let canonical = canonicalize(path.as_ref())?;
        let directory = std::fs::metadata(&canonical)
            .ok()
            .and_then(|metadata| DirectoryId::of(&metadata));
        Ok(Self(canonical, directory))
    }

    /// Which directory the path named when this value was made (device and
    /// inode); `None` where the platform cannot say, or — for
    /// [`resolve`](Self::resolve) — nothing could be read there.
    #[must_use]
    pub fn directory(&self) -> Option<DirectoryId> {
        self.1
    }

    /// Checks again that the directory exists, is a directory, and is
    /// readable and writable.
    ///
    /// # Errors
    ///
    /// Steps 3 to 5 of [`new`](Self::new), with this canonical path in the
    /// errors.
    pub fn check(&self) -> Result<(), SessionError> {
        check_directory(&self.0, &self.0).map(drop)
    }

    /// The canonical path.
    #[must_use]
    pub fn as_path(&self) -> &Path {
        &self.0
    }

    /// The last component of the path, converted lossily to UTF-8; `"/"` for
    /// the root directory. Never empty.
    #[must_use]
    pub fn folder_name(&self) -> String {
        match self.0.file_name() {
            Some(name) => name.to_string_lossy().into_owned(),
            None => "/".to_owned(),
        }
    }

    fn bytes(&self) -> &[u8] {
        self.0.as_os_str().as_encoded_bytes()
    }

    /// A path taken as canonical without looking: for this crate's unit
    /// tests only.
    #[cfg(test)]
    pub(crate) fn unchecked(path: impl Into<PathBuf>) -> Self {
        Self(path.into(), None)
    }
}

/// Steps 1 to 3 of [`ProjectPath::new`].
fn canonicalize(given: &Path) -> Result<PathBuf, SessionError> {
    let len = given.as_os_str().len();
    if len == 0 {
        return Err(SessionError::PathEmpty);
    }
    if len > MAX_PATH_BYTES {
        return Err(SessionError::PathTooLong {
            len,
            max: MAX_PATH_BYTES,
        });
    }
    let canonical = std::fs::canonicalize(given).map_err(|error| io_error(given, &error))?;
    if canonical.to_str().is_none() {
        return Err(SessionError::PathNotUtf8 {
            path: given.to_path_buf(),
        });
    }
    Ok(canonical)
}

/// Steps 3 to 5 of [`ProjectPath::new`] on an already canonical path; the
/// directory's identity.
fn check_directory(canonical: &Path, reported: &Path) -> Result<Option<DirectoryId>, SessionError> {
    let metadata = std::fs::metadata(canonical).map_err(|error| io_error(reported, &error))?;
    if !metadata.is_dir() {
        return Err(SessionError::PathNotADirectory {
            path: reported.to_path_buf(),
        });
    }
    rustix::fs::access(canonical, Access::READ_OK).map_err(|errno| match errno {
        Errno::ACCESS | Errno::PERM => SessionError::PathUnreadable {
            path: reported.to_path_buf(),
        },
        other => io_error(reported, &io::Error::from(other)),
    })?;
    rustix::fs::access(canonical, Access::EXEC_OK).map_err(|errno| match errno {
        Errno::ACCESS | Errno::PERM => SessionError::PathNotSearchable {
            path: reported.to_path_buf(),
        },
        other => io_error(reported, &io::Error::from(other)),
    })?;
    rustix::fs::access(canonical, Access::WRITE_OK).map_err(|errno| match errno {
        Errno::ACCESS | Errno::PERM | Errno::ROFS => SessionError::PathUnwritable {
            path: reported.to_path_buf(),
        },
        other => io_error(reported, &io::Error::from(other)),
    })?;
    Ok(DirectoryId::of(&metadata))
}

fn io_error(path: &Path, error: &io::Error) -> SessionError {
    match error.kind() {
        io::ErrorKind::NotFound => SessionError::PathNotFound {
            path: path.to_path_buf(),
        },
        kind => SessionError::PathIo {
            path: path.to_path_buf(),
            kind,
            message: error.to_string(),
        },
    }
}

impl AsRef<Path> for ProjectPath {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Deref for ProjectPath {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl fmt::Display for ProjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.display(), f)
    }
}

impl fmt::Debug for ProjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ProjectPath").field(&self.0).finish()
    }
}

impl PartialEq for ProjectPath {
    fn eq(&self, other: &Self) -> bool {
        self.bytes() == other.bytes()
    }
}

impl Eq for ProjectPath {}

impl PartialOrd for ProjectPath {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ProjectPath {
    fn cmp(&self, other: &Self) -> Ordering {
        self.bytes().cmp(other.bytes())
    }
}

impl Hash for ProjectPath {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.bytes().hash(state);
    }
}

/// The raw bytes of the canonical path: lets a map keyed by `ProjectPath` be
/// probed with a path's bytes, without building a `ProjectPath` (equality,
/// ordering and hashing are all over these bytes).
impl Borrow<[u8]> for ProjectPath {
    fn borrow(&self) -> &[u8] {
        self.bytes()
    }
}

impl Serialize for ProjectPath {
    /// Serializes the path as a string.
    ///
    /// # Errors
    ///
    /// Fails if the path is not valid UTF-8.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0.to_str() {
            Some(path) => serializer.serialize_str(path),
            None => Err(ser::Error::custom(format_args!(
                "project path {} is not valid UTF-8",
                self.0.display()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_folder_name_is_slash() {
        assert_eq!(ProjectPath::unchecked("/").folder_name(), "/");
        assert_eq!(ProjectPath::unchecked("/a/b").folder_name(), "b");
    }

    #[test]
    fn ordering_is_by_bytes() {
        let a = ProjectPath::unchecked("/a/b");
        let b = ProjectPath::unchecked("/a-b");
        // Byte order: '-' (0x2d) < '/' (0x2f), unlike component order.
        assert!(b < a);
        assert!(Path::new("/a/b") < Path::new("/a-b"));
    }
}
