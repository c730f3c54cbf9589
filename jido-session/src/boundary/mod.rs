//! [`ProjectBoundary`]: the files a session may touch — its project
//! directory, minus protected files — and the file operations inside it.

mod beneath;
mod error;
mod files;
mod lines;

use std::io;
use std::path::{Component, Path, PathBuf};

use crate::{MAX_PATH_BYTES, ProjectPath};

pub use error::{BoundaryError, FileError};
pub use files::{DEFAULT_READ_LIMIT, DirEntry, EntryKind, FileContent, MAX_LINE_CHARS};

/// Files inside a project a session must not touch: the project's own
/// settings.
pub const DEFAULT_PROTECTED: &[&str] = &[".jido_code/settings.json"];

/// The project boundary of a session (jido_code's `Security` module, as
/// its Manager uses it): which paths a session's tools may use, and the file
/// operations inside it.
///
/// A path is relative to the project root (or absolute, inside it); `..`
/// is resolved lexically first (`link/..` is the directory holding `link`)
/// and may not leave the project. The file operations
/// ([`read_file`](Self::read_file), [`write_file`](Self::write_file),
/// [`list_dir`](Self::list_dir)) then open it beneath the project's
/// directory, with symlinks resolved inside the project only, in the same
/// system call that opens it (`cap-std`: `openat2` with `RESOLVE_BENEATH` on
/// Linux 5.6 and later, a component-by-component walk with `O_NOFOLLOW`
/// elsewhere): no swap of a file, a directory or a symlink between a check
/// and the use it guards can lead an operation outside, and a symlink out
/// of the project is refused with a typed error. Files are opened without
/// blocking and refused unless they are regular files (a FIFO or a device
/// cannot wedge a read). The project's settings file is refused by name and
/// by identity (device and inode), so a hard link or a symlink to it is
/// refused too.
///
/// Not guaranteed: a hard link inside the project to a file outside it is
/// that file (a second name for the same inode, which nothing in the file
/// system tells apart from a file of the project's own), and is read and
/// written as a file of the project. Making one needs write access to the
/// project and the file on one file system.
///
/// [`validate`](Self::validate) says where a path resolves and whether it
/// is allowed — for display and early refusals; the operations do not use
/// its answer, they resolve again beneath the project as they open. They
/// block (file system calls): from async code, run them on
/// `spawn_blocking`, as the Manager does.
///
/// ```
/// use jido_session::{BoundaryError, ProjectBoundary, ProjectPath};
///
/// let dir = tempfile::tempdir()?;
/// let boundary = ProjectBoundary::new(ProjectPath::new(dir.path())?);
/// boundary.write_file("src/lib.rs".as_ref(), b"fn main() {}\n")?; // src/ is made
/// assert_eq!(boundary.read_file("src/lib.rs".as_ref(), 1, 10)?.text(), "fn main() {}");
///
/// assert!(matches!(
///     boundary.validate("../../etc/passwd".as_ref()),
///     Err(BoundaryError::PathEscapesBoundary { .. })
/// ));
/// assert!(matches!(
///     boundary.validate("/etc/passwd".as_ref()),
///     Err(BoundaryError::PathOutsideBoundary { .. })
/// ));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectBoundary {
    root: ProjectPath,
    /// Relative to the root.
    protected: Vec<PathBuf>,
}

impl ProjectBoundary {
    /// The boundary of the project at `root`, protecting
    /// [`DEFAULT_PROTECTED`].
    pub fn new(root: ProjectPath) -> Self {
        Self::with_protected(root, DEFAULT_PROTECTED.iter().map(PathBuf::from))
    }

    /// The boundary of the project at `root`, protecting `protected`
    /// (paths relative to the root).
    pub fn with_protected(root: ProjectPath, protected: impl IntoIterator<Item = PathBuf>) -> Self {
        ProjectBoundary {
            root,
            protected: protected.into_iter().collect(),
        }
    }

    /// The project root.
    pub fn root(&self) -> &ProjectPath {
        &self.root
    }

    /// Resolves `path` (relative to the project root, or absolute) and
    /// checks that it stays inside the project and is not protected; returns
    /// the resolved path. The path need not exist (for a file about to be
    /// written); the part that exists is resolved through the file system.
    ///
    /// # Errors
    ///
    /// [`BoundaryError::InvalidPath`] (empty, a NUL byte, too long),
    /// [`BoundaryError::PathEscapesBoundary`] (a relative path whose `..`
    /// leave the project), [`BoundaryError::PathOutsideBoundary`] (an
    /// absolute path elsewhere), [`BoundaryError::SymlinkEscapesBoundary`]
    /// (a symlink along the path leads outside),
    /// [`BoundaryError::ProtectedSettingsFile`].
    pub fn validate(&self, path: &Path) -> Result<PathBuf, BoundaryError> {
        check_spelling(path)?;
        let root = self.root.as_path();
        let joined = if path.is_absolute() {
            path.to_path_buf()
        } else {
            root.join(path)
        };
        let lexical = normalize(&joined);
        if !lexical.starts_with(root) {
            let path = path.to_path_buf();
            return Err(if path.is_absolute() {
                BoundaryError::PathOutsideBoundary { path }
            } else {
                BoundaryError::PathEscapesBoundary { path }
            });
        }
        let resolved = resolve(&lexical).map_err(|_| BoundaryError::InvalidPath {
            path: crate::error::echo(&path.to_string_lossy()),
            reason: "the path cannot be resolved",
        })?;
        if !resolved.starts_with(root) {
            return Err(BoundaryError::SymlinkEscapesBoundary {
                path: path.to_path_buf(),
                target: resolved,
            });
        }
        if self.is_protected(&resolved) {
            return Err(BoundaryError::ProtectedSettingsFile {
                path: path.to_path_buf(),
            });
        }
        Ok(resolved)
    }

    /// `path` as a path relative to the project root, `.` and `..`
    /// resolved lexically: what every file operation opens beneath the
    /// project's directory (symlinks are resolved there, inside it only).
    pub(crate) fn relative(&self, path: &Path) -> Result<PathBuf, BoundaryError> {
        check_spelling(path)?;
        if path.is_absolute() {
            let inside = normalize(path)
                .strip_prefix(self.root.as_path())
                .map(Path::to_path_buf)
                .map_err(|_| BoundaryError::PathOutsideBoundary {
                    path: path.to_path_buf(),
                })?;
            return Ok(inside);
        }
        beneath::lexical(path).ok_or_else(|| BoundaryError::PathEscapesBoundary {
            path: path.to_path_buf(),
        })
    }

    /// Refuses `relative` if it names a protected file.
    pub(crate) fn refuse_protected_name(
        &self,
        given: &Path,
        relative: &Path,
    ) -> Result<(), BoundaryError> {
        if self
            .protected
            .iter()
            .any(|protected| beneath::lexical(protected).is_some_and(|p| p == relative))
        {
            return Err(BoundaryError::ProtectedSettingsFile {
                path: given.to_path_buf(),
            });
        }
        Ok(())
    }

    /// Refuses a file whose identity (device, inode) is a protected
    /// file's: another name for it (a hard link, a symlink) is refused too.
    pub(crate) fn refuse_protected_identity(
        &self,
        given: &Path,
        beneath: &beneath::Beneath,
        identity: beneath::Identity,
    ) -> Result<(), BoundaryError> {
        if self
            .protected
            .iter()
            .any(|protected| beneath.identity(protected) == Some(identity))
        {
            return Err(BoundaryError::ProtectedSettingsFile {
                path: given.to_path_buf(),
            });
        }
        Ok(())
    }

    fn is_protected(&self, resolved: &Path) -> bool {
        self.protected.iter().any(|relative| {
            let protected = normalize(&self.root.join(relative));
            resolve(&protected).is_ok_and(|protected| protected == resolved)
        })
    }
}

/// Refuses a path that is empty, has a NUL byte or is too long, whatever
/// it names.
fn check_spelling(path: &Path) -> Result<(), BoundaryError> {
    let bytes = path.as_os_str().as_encoded_bytes();
    let invalid = |reason| BoundaryError::InvalidPath {
        path: crate::error::echo(&path.to_string_lossy()),
        reason,
    };
    if bytes.is_empty() {
        return Err(invalid("the path is empty"));
    }
    if bytes.contains(&0) {
        return Err(invalid("the path has a NUL byte"));
    }
    if bytes.len() > MAX_PATH_BYTES {
        return Err(invalid("the path is too long"));
    }
    Ok(())
}

/// `path` with `.` and `..` resolved lexically (`..` at the root stays at
/// the root), as `realpath -m` without the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Prefix(prefix) => normal.push(prefix.as_os_str()),
            Component::RootDir => normal.push(Component::RootDir.as_os_str()),
            Component::CurDir => {}
            Component::ParentDir => {
                normal.pop();
            }
            Component::Normal(part) => normal.push(part),
        }
    }
    normal
}

/// `path` (absolute, normalized) with every symlink resolved: the longest
/// existing prefix is canonicalized and the rest appended; a dangling
/// symlink at the end is followed to where it points.
fn resolve(path: &Path) -> io::Result<PathBuf> {
    let mut existing = path;
    let mut rest = Vec::new();
    let base = loop {
        match std::fs::canonicalize(existing) {
            Ok(canonical) => break canonical,
            Err(_) => match (existing.parent(), existing.file_name()) {
                (Some(parent), Some(name)) => {
                    rest.push(name.to_owned());
                    existing = parent;
                }
                _ => return Err(io::Error::from(io::ErrorKind::NotFound)),
            },
        }
    };
    let mut resolved = base;
    for name in rest.iter().rev() {
        resolved.push(name);
        // A dangling symlink: follow it where it points, once.
        if let Ok(target) = std::fs::read_link(&resolved) {
            let parent = resolved.parent().map(Path::to_path_buf).unwrap_or_default();
            resolved = normalize(&parent.join(target));
        }
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_resolves_dots_lexically() {
        assert_eq!(normalize(Path::new("/a/./b/../c")), Path::new("/a/c"));
        assert_eq!(normalize(Path::new("/../../x")), Path::new("/x"));
        assert_eq!(normalize(Path::new("/a/b/..")), Path::new("/a"));
    }
}
