//! The file operations inside a [`ProjectBoundary`]: read (by lines),
//! write (atomically), list.

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use cap_std::fs::Dir;
use rustix::fs::{AtFlags, FileType};
use serde::{Deserialize, Serialize};

use super::beneath::{Beneath, names};
use super::lines::read_lines;
use crate::{FileError, ProjectBoundary};

/// How many lines `read_file` returns unless told otherwise (jido_code's).
pub const DEFAULT_READ_LIMIT: usize = 2000;

/// Lines longer than this many characters are cut (jido_code's limit).
pub const MAX_LINE_CHARS: usize = 2000;

/// Lines of a file, as [`ProjectBoundary::read_file`] returns them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileContent {
    /// The resolved path.
    pub path: PathBuf,
    /// The number of the first line returned (from 1).
    pub offset: usize,
    /// The lines, without their line ends, each cut to [`MAX_LINE_CHARS`]
    /// characters; invalid UTF-8 is replaced.
    pub lines: Vec<String>,
    /// How many of `lines` were cut.
    pub cut_lines: usize,
    /// `true` if the file has lines after the last one returned.
    pub has_more: bool,
}

impl FileContent {
    /// The lines joined with `\n`.
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }
}

/// What a directory entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Directory,
    /// A symbolic link (not followed).
    Symlink,
    /// Anything else (a socket, a device…).
    Other,
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirEntry {
    /// Its name, for display: a name that is not UTF-8 is shown with its
    /// invalid bytes replaced (two such names may show alike).
    pub name: String,
    /// Its name exactly as the file system has it: joined to the listed
    /// directory's path, it opens the entry again.
    pub os_name: OsString,
    /// What it is.
    pub kind: EntryKind,
}

impl ProjectBoundary {
    /// Reads `limit` lines of the file at `path` from line `offset` (lines
    /// are numbered from 1); jido_code's defaults are offset 1 and
    /// [`DEFAULT_READ_LIMIT`] lines.
    ///
    /// The file is opened beneath the project's directory (symlinks
    /// followed only inside it, in the same system call that opens it),
    /// without blocking, and refused unless it is a regular file — a FIFO
    /// or a device cannot wedge the read. Memory is bounded by what is
    /// returned: lines before `offset` are skipped without being kept, and
    /// of a line only its first [`MAX_LINE_CHARS`] characters are.
    ///
    /// # Errors
    ///
    /// [`FileError::Boundary`] for a refused path (a symlink out of the
    /// project, the protected settings file, by name or by identity),
    /// [`FileError::InvalidOffset`] for offset 0, [`FileError::NotFound`],
    /// [`FileError::NotAFile`], [`FileError::NotARegularFile`],
    /// [`FileError::Io`].
    pub fn read_file(
        &self,
        path: &Path,
        offset: usize,
        limit: usize,
    ) -> Result<FileContent, FileError> {
        // Never `None`: nothing gives up.
        self.read_file_until(path, offset, limit, &|| false)?
            .ok_or(FileError::InvalidOffset)
    }

    /// As [`read_file`](Self::read_file), asking `gave_up` between chunks
    /// whether the caller still waits: `Ok(None)` once it has given up.
    ///
    /// # Errors
    ///
    /// As [`read_file`](Self::read_file).
    pub fn read_file_until(
        &self,
        path: &Path,
        offset: usize,
        limit: usize,
        gave_up: &dyn Fn() -> bool,
    ) -> Result<Option<FileContent>, FileError> {
        if offset == 0 {
            return Err(FileError::InvalidOffset);
        }
        let relative = self.relative(path)?;
        let beneath = Beneath::open(self.root().as_path())?;
        let shown = beneath.shown(&relative);
        if relative.as_os_str().is_empty() {
            return Err(FileError::NotAFile { path: shown });
        }
        self.refuse_protected_name(path, &relative)?;
        let (file, identity) = beneath.open_regular(path, &relative)?;
        self.refuse_protected_identity(path, &beneath, identity)?;
        let mut reader = file;
        let Some(read) = read_lines(&mut reader, offset, limit, gave_up)
            .map_err(|error| FileError::io(&shown, &error))?
        else {
            return Ok(None);
        };
        Ok(Some(FileContent {
            path: shown,
            offset,
            lines: read.lines,
            cut_lines: read.cut_lines,
            has_more: read.has_more,
        }))
    }

    /// Writes `contents` to the file at `path`, atomically: into a
    /// temporary file beside it, flushed to disk, then renamed over it (the
    /// directory flushed too). A reader sees the old contents or the new,
    /// never a mix. Missing parent directories are created, each beneath
    /// the project; an existing file keeps its mode (and its owner, where
    /// this process may give it). Returns the path written.
    ///
    /// Every step is relative to a directory opened beneath the project:
    /// the parent is opened once, and the temporary file, the rename and
    /// the flush all go through that handle, so a directory swapped for a
    /// symlink meanwhile cannot send the file (nor its temporary) outside.
    /// A symlink at `path` is written through when it points inside the
    /// project, refused when it points outside.
    ///
    /// # Errors
    ///
    /// [`FileError::Boundary`], [`FileError::NotADirectory`] (a parent is
    /// a file), [`FileError::NotAFile`] (`path` is a directory),
    /// [`FileError::NotARegularFile`], [`FileError::Io`].
    pub fn write_file(&self, path: &Path, contents: &[u8]) -> Result<PathBuf, FileError> {
        let beneath = Beneath::open(self.root().as_path())?;
        let mut relative = self.relative(path)?;
        // Symlinks at the end are followed, inside the project only.
        for _ in 0..MAX_SYMLINKS {
            match beneath.follow(path, &relative)? {
                Some(target) => relative = target,
                None => break,
            }
        }
        let shown = beneath.shown(&relative);
        let (Some(parent), Some(name)) = (relative.parent(), relative.file_name()) else {
            return Err(FileError::NotAFile { path: shown });
        };
        self.refuse_protected_name(path, &relative)?;
        beneath.create_dirs(path, parent)?;
        let directory = beneath.open_dir(path, parent)?;
        // What is there now: its mode and owner are kept.
        let existing = match rustix::fs::statat(&directory, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => {
                match FileType::from_raw_mode(stat.st_mode) {
                    FileType::RegularFile => {}
                    FileType::Directory => return Err(FileError::NotAFile { path: shown }),
                    FileType::Symlink => {
                        // Made a symlink since it was followed: refused
                        // rather than followed unchecked.
                        return Err(FileError::Io {
                            path: shown,
                            kind: io::ErrorKind::Other,
                            message: "the file became a symlink while it was written".to_owned(),
                        });
                    }
                    _ => {
                        return Err(FileError::NotARegularFile {
                            path: shown,
                            what: "not a regular file",
                        });
                    }
                }
                self.refuse_protected_identity(path, &beneath, super::beneath::identity_of(&stat))?;
                Some(stat)
            }
            Err(rustix::io::Errno::NOENT) => None,
            Err(errno) => return Err(FileError::io(&shown, &errno.into())),
        };
        let mut temporary = OsString::from(".");
        temporary.push(name);
        temporary.push(format!(".{}.tmp", uuid::Uuid::new_v4().simple()));
        let temporary = PathBuf::from(temporary);
        let written = write_new(&directory, &temporary, contents, existing.as_ref())
            .and_then(|()| directory.rename(&temporary, &directory, name));
        if let Err(error) = written {
            let _ = directory.remove_file(&temporary);
            return Err(beneath.error(path, &relative, &error));
        }
        // The rename is durable once the directory is flushed; a failure
        // here leaves the new contents in place.
        let _ = directory.into_std_file().sync_all();
        Ok(shown)
    }

    /// The entries of the directory at `path`, by name (symlinks are listed
    /// as such, not followed). Names are listed as they are: one that is
    /// not UTF-8 has a lossy [`DirEntry::name`] for display and its exact
    /// bytes in [`DirEntry::os_name`], which opens it again.
    ///
    /// # Errors
    ///
    /// [`FileError::Boundary`], [`FileError::NotFound`],
    /// [`FileError::NotADirectory`], [`FileError::Io`].
    pub fn list_dir(&self, path: &Path) -> Result<Vec<DirEntry>, FileError> {
        let relative = self.relative(path)?;
        let beneath = Beneath::open(self.root().as_path())?;
        let shown = beneath.shown(&relative);
        let directory = beneath.open_dir(path, &relative)?;
        let mut entries = Vec::new();
        for (os_name, file_type) in
            names(&directory).map_err(|error| FileError::io(&shown, &error))?
        {
            let kind = if file_type.is_symlink() {
                EntryKind::Symlink
            } else if file_type.is_dir() {
                EntryKind::Directory
            } else if file_type.is_file() {
                EntryKind::File
            } else {
                EntryKind::Other
            };
            entries.push(DirEntry {
                name: os_name.to_string_lossy().into_owned(),
                os_name,
                kind,
            });
        }
        entries.sort_by(|a, b| a.os_name.cmp(&b.os_name));
        Ok(entries)
    }
}

/// How many symlinks at the end of a path a write follows.
const MAX_SYMLINKS: usize = 40;

/// Creates `name` in `directory` (it must not exist), writes `contents`,
/// gives it the mode and owner of the file it replaces (`existing`), and
/// flushes it to disk.
fn write_new(
    directory: &Dir,
    name: &Path,
    contents: &[u8],
    existing: Option<&rustix::fs::Stat>,
) -> io::Result<()> {
    let mut options = cap_std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    let mut file = directory.open_with(name, &options)?.into_std();
    if let Some(existing) = existing {
        let mode = rustix::fs::Mode::from_raw_mode(existing.st_mode & 0o7777);
        rustix::fs::fchmod(&file, mode)?;
        // Only a privileged process may give a file away: tried, not
        // required.
        let _ = rustix::fs::fchown(
            &file,
            Some(rustix::fs::Uid::from_raw(existing.st_uid)),
            Some(rustix::fs::Gid::from_raw(existing.st_gid)),
        );
    }
    file.write_all(contents)?;
    file.sync_all()
}
