//! [`Beneath`]: the project's directory, opened once per operation, and
//! every path opened relative to it with symlinks resolved inside it only
//! (`cap-std`: `openat2` with `RESOLVE_BENEATH` where the kernel has it, a
//! component-by-component walk with `O_NOFOLLOW` otherwise). A check and
//! the use it guards are one system call: no swap of a directory or a
//! symlink between them can lead the operation outside.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::{Component, Path, PathBuf};

use cap_std::ambient_authority;
use cap_std::fs::{Dir, OpenOptions, OpenOptionsExt};
use rustix::fs::{AtFlags, FileType, OFlags};

use crate::{BoundaryError, FileError};

/// The project directory, open.
pub(crate) struct Beneath {
    root: Dir,
    root_path: PathBuf,
}

/// A file's identity: device and inode.
pub(crate) type Identity = (u64, u64);

impl Beneath {
    /// Opens the project directory at `root`.
    pub(crate) fn open(root: &Path) -> Result<Beneath, FileError> {
        let dir = Dir::open_ambient_dir(root, ambient_authority())
            .map_err(|error| FileError::io(root, &error))?;
        Ok(Beneath {
            root: dir,
            root_path: root.to_path_buf(),
        })
    }

    /// The path `relative` names, for messages.
    pub(crate) fn shown(&self, relative: &Path) -> PathBuf {
        self.root_path.join(relative)
    }

    /// Runs `operation` on `relative`; if it was refused as leading out of
    /// the project, and a symlink along the path is absolute but points
    /// inside the project (which `cap-std` refuses as it would any
    /// absolute symlink), once more on the path with those symlinks
    /// rewritten as paths inside the project. Still beneath the project:
    /// a swap meanwhile can make the second try fail, never lead out.
    pub(crate) fn retry<T>(
        &self,
        given: &Path,
        relative: &Path,
        operation: impl Fn(&Path) -> io::Result<T>,
    ) -> Result<T, FileError> {
        match operation(relative) {
            Ok(done) => Ok(done),
            Err(error) if escaped(&error) => match self.rewrite(relative) {
                Some(inside) if inside != relative => {
                    operation(&inside).map_err(|error| self.error(given, &inside, &error))
                }
                _ => Err(self.error(given, relative, &error)),
            },
            Err(error) => Err(self.error(given, relative, &error)),
        }
    }

    /// `relative` with every symlink along it whose target is absolute
    /// and inside the project replaced by that target (as a path relative
    /// to the project); `None` if one points outside or there are too many.
    fn rewrite(&self, relative: &Path) -> Option<PathBuf> {
        let mut path = relative.to_path_buf();
        'hops: for _ in 0..MAX_HOPS {
            let mut prefix = PathBuf::new();
            let parts: Vec<_> = path.components().collect();
            for (index, part) in parts.iter().enumerate() {
                prefix.push(part);
                let Ok(target) = self.root.read_link_contents(&prefix) else {
                    continue;
                };
                if !target.is_absolute() {
                    continue;
                }
                let inside = lexical(
                    normalize_absolute(&target)
                        .strip_prefix(&self.root_path)
                        .ok()?,
                )?;
                let mut rewritten = inside;
                for rest in &parts[index + 1..] {
                    rewritten.push(rest);
                }
                path = rewritten;
                continue 'hops;
            }
            return Some(path);
        }
        None
    }

    /// Opens the file at `relative` for reading, without blocking (a FIFO
    /// or a device cannot hold the open up), and refuses what is not a
    /// regular file. Returns it with its identity.
    pub(crate) fn open_regular(
        &self,
        given: &Path,
        relative: &Path,
    ) -> Result<(File, Identity), FileError> {
        let mut options = OpenOptions::new();
        options.read(true);
        options.custom_flags((OFlags::NONBLOCK | OFlags::NOCTTY).bits() as i32);
        let file = self
            .retry(given, relative, |relative| {
                self.root.open_with(relative, &options)
            })?
            .into_std();
        let identity = regular(&file, &self.shown(relative))?;
        Ok((file, identity))
    }

    /// Opens the directory at `relative` (the project itself if empty).
    pub(crate) fn open_dir(&self, given: &Path, relative: &Path) -> Result<Dir, FileError> {
        if relative.as_os_str().is_empty() {
            return self
                .root
                .try_clone()
                .map_err(|error| FileError::io(&self.root_path, &error));
        }
        self.retry(given, relative, |relative| self.root.open_dir(relative))
    }

    /// Creates the directories of `relative` that are missing, each one
    /// beneath the project.
    pub(crate) fn create_dirs(&self, given: &Path, relative: &Path) -> Result<(), FileError> {
        if relative.as_os_str().is_empty() {
            return Ok(());
        }
        match self.retry(given, relative, |relative| {
            self.root.create_dir_all(relative)
        }) {
            // A file where a directory should be: named.
            Err(FileError::Io {
                kind: io::ErrorKind::AlreadyExists,
                ..
            }) => {
                let mut prefix = PathBuf::new();
                for part in relative.components() {
                    prefix.push(part);
                    if self.root.metadata(&prefix).is_ok_and(|m| !m.is_dir()) {
                        break;
                    }
                }
                Err(FileError::NotADirectory {
                    path: self.shown(&prefix),
                })
            }
            done => done,
        }
    }

    /// Where the symlink at `relative` points, as a path relative to the
    /// project, if `relative` is a symlink; refused if it points outside.
    pub(crate) fn follow(
        &self,
        given: &Path,
        relative: &Path,
    ) -> Result<Option<PathBuf>, FileError> {
        let Ok(target) = self.root.read_link_contents(relative) else {
            return Ok(None);
        };
        let joined = if target.is_absolute() {
            normalize_absolute(&target)
                .strip_prefix(&self.root_path)
                .map(Path::to_path_buf)
                .ok()
        } else {
            Some(relative.parent().unwrap_or(Path::new("")).join(&target))
        };
        match joined.and_then(|joined| lexical(&joined)) {
            Some(inside) => Ok(Some(inside)),
            None => Err(BoundaryError::SymlinkEscapesBoundary {
                path: given.to_path_buf(),
                target,
            }
            .into()),
        }
    }

    /// The identity of what `relative` names, following symlinks (for the
    /// protected files: compared, never opened).
    pub(crate) fn identity(&self, relative: &Path) -> Option<Identity> {
        let stat = rustix::fs::statat(&self.root, relative, AtFlags::empty()).ok()?;
        Some(identity_of(&stat))
    }

    /// An error of an operation on `relative` (given as `given`), typed:
    /// a way out of the project is a [`BoundaryError`].
    pub(crate) fn error(&self, given: &Path, relative: &Path, error: &io::Error) -> FileError {
        if escaped(error) {
            return BoundaryError::SymlinkEscapesBoundary {
                path: given.to_path_buf(),
                target: self.shown(relative),
            }
            .into();
        }
        let shown = self.shown(relative);
        match error.kind() {
            io::ErrorKind::NotADirectory => FileError::NotADirectory { path: shown },
            io::ErrorKind::IsADirectory => FileError::NotAFile { path: shown },
            _ => FileError::io(&shown, error),
        }
    }
}

/// The directory entry names of `dir`, as they are (not made UTF-8).
pub(crate) fn names(dir: &Dir) -> io::Result<Vec<(OsString, cap_std::fs::FileType)>> {
    let mut names = Vec::new();
    for entry in dir.entries()? {
        let entry = entry?;
        names.push((entry.file_name(), entry.file_type()?));
    }
    Ok(names)
}

/// The identity of `file` if it is a regular file; a typed refusal if it
/// is a directory or anything else (a FIFO, a socket, a device).
pub(crate) fn regular(file: &File, path: &Path) -> Result<Identity, FileError> {
    let stat = rustix::fs::fstat(file).map_err(|errno| FileError::io(path, &errno.into()))?;
    let what = match FileType::from_raw_mode(stat.st_mode) {
        FileType::RegularFile => return Ok(identity_of(&stat)),
        FileType::Directory => {
            return Err(FileError::NotAFile {
                path: path.to_path_buf(),
            });
        }
        FileType::Fifo => "a FIFO",
        FileType::Socket => "a socket",
        FileType::CharacterDevice => "a character device",
        FileType::BlockDevice => "a block device",
        _ => "not a regular file",
    };
    Err(FileError::NotARegularFile {
        path: path.to_path_buf(),
        what,
    })
}

/// The identity of what `stat` describes.
// The types of `st_dev` and `st_ino` vary by platform (u64 here).
#[allow(clippy::unnecessary_cast)]
pub(crate) fn identity_of(stat: &rustix::fs::Stat) -> Identity {
    (stat.st_dev as u64, stat.st_ino as u64)
}

/// `path` (relative) with `.` and `..` resolved lexically, if it stays in
/// the project: `None` if its `..` leave it, or it is absolute.
pub(crate) fn lexical(path: &Path) -> Option<PathBuf> {
    let mut inside = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !inside.pop() {
                    return None;
                }
            }
            Component::Normal(part) => inside.push(part),
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(inside)
}

/// How many absolute symlinks a path is rewritten through at most.
const MAX_HOPS: usize = 40;

/// An absolute `path` with `.` and `..` resolved lexically.
fn normalize_absolute(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                normal.pop();
            }
            Component::CurDir => {}
            other => normal.push(other),
        }
    }
    normal
}

/// Whether `error` is `cap-std`'s refusal of a path that led outside the
/// directory (a symlink, or `..`, resolved there).
fn escaped(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::PermissionDenied
        && error.to_string().contains("outside of the filesystem")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_paths_stay_inside_or_are_refused() {
        assert_eq!(lexical(Path::new("a/./b/../c")), Some(PathBuf::from("a/c")));
        assert_eq!(lexical(Path::new("a/..")), Some(PathBuf::new()));
        assert_eq!(lexical(Path::new("../x")), None);
        assert_eq!(lexical(Path::new("a/../../x")), None);
        assert_eq!(lexical(Path::new("/etc")), None);
    }
}
