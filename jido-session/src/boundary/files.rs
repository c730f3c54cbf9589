//! The file operations inside a [`ProjectBoundary`]: read (by lines),
//! write (atomically), list.

use std::fs;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

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
    /// Its name.
    pub name: String,
    /// What it is.
    pub kind: EntryKind,
}

impl ProjectBoundary {
    /// Reads `limit` lines of the file at `path` from line `offset` (lines
    /// are numbered from 1); jido_code's defaults are offset 1 and
    /// [`DEFAULT_READ_LIMIT`] lines. Only the lines asked for are kept in
    /// memory.
    ///
    /// # Errors
    ///
    /// [`FileError::Boundary`] for a refused path,
    /// [`FileError::InvalidOffset`] for offset 0, [`FileError::NotFound`],
    /// [`FileError::NotAFile`], [`FileError::Io`].
    pub fn read_file(
        &self,
        path: &Path,
        offset: usize,
        limit: usize,
    ) -> Result<FileContent, FileError> {
        if offset == 0 {
            return Err(FileError::InvalidOffset);
        }
        let resolved = self.validate(path)?;
        let metadata = fs::metadata(&resolved).map_err(|error| FileError::io(&resolved, &error))?;
        if metadata.is_dir() {
            return Err(FileError::NotAFile { path: resolved });
        }
        let file = fs::File::open(&resolved).map_err(|error| FileError::io(&resolved, &error))?;
        let mut reader = BufReader::new(file);
        let mut line = Vec::new();
        let mut number = 0;
        let mut lines = Vec::new();
        let mut cut_lines = 0;
        let mut has_more = false;
        loop {
            line.clear();
            let read = reader
                .read_until(b'\n', &mut line)
                .map_err(|error| FileError::io(&resolved, &error))?;
            if read == 0 {
                break;
            }
            number += 1;
            if number < offset {
                continue;
            }
            if lines.len() == limit {
                has_more = true;
                break;
            }
            let text = String::from_utf8_lossy(&line);
            let text = text.trim_end_matches(['\n', '\r']);
            match text.char_indices().nth(MAX_LINE_CHARS) {
                Some((end, _)) => {
                    lines.push(text[..end].to_owned());
                    cut_lines += 1;
                }
                None => lines.push(text.to_owned()),
            }
        }
        Ok(FileContent {
            path: resolved,
            offset,
            lines,
            cut_lines,
            has_more,
        })
    }

    /// Writes `contents` to the file at `path`, atomically: into a
    /// temporary file beside it, flushed to disk, then renamed over it (the
    /// directory flushed too). A reader sees the old contents or the new,
    /// never a mix. The parent directory must exist inside the project.
    /// Returns the resolved path.
    ///
    /// # Errors
    ///
    /// [`FileError::Boundary`], [`FileError::ParentMissing`],
    /// [`FileError::NotADirectory`] (the parent is a file),
    /// [`FileError::NotAFile`] (`path` is a directory), [`FileError::Io`].
    pub fn write_file(&self, path: &Path, contents: &[u8]) -> Result<PathBuf, FileError> {
        let resolved = self.validate(path)?;
        if resolved.is_dir() {
            return Err(FileError::NotAFile { path: resolved });
        }
        let (Some(parent), Some(name)) = (resolved.parent(), resolved.file_name()) else {
            return Err(FileError::NotAFile { path: resolved });
        };
        match fs::metadata(parent) {
            Ok(metadata) if metadata.is_dir() => {}
            Ok(_) => {
                return Err(FileError::NotADirectory {
                    path: parent.to_path_buf(),
                });
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                return Err(FileError::ParentMissing {
                    path: parent.to_path_buf(),
                });
            }
            Err(error) => return Err(FileError::io(parent, &error)),
        }
        let temporary = parent.join(format!(
            ".{}.{}.tmp",
            name.to_string_lossy(),
            uuid::Uuid::new_v4().simple()
        ));
        let written =
            write_new(&temporary, contents).and_then(|()| fs::rename(&temporary, &resolved));
        if let Err(error) = written {
            let _ = fs::remove_file(&temporary);
            return Err(FileError::io(&resolved, &error));
        }
        // The rename is durable once the directory is flushed; a failure
        // here leaves the new contents in place.
        if let Ok(directory) = fs::File::open(parent) {
            let _ = directory.sync_all();
        }
        Ok(resolved)
    }

    /// The entries of the directory at `path`, by name (symlinks are listed
    /// as such, not followed).
    ///
    /// # Errors
    ///
    /// [`FileError::Boundary`], [`FileError::NotFound`],
    /// [`FileError::NotADirectory`], [`FileError::Io`].
    pub fn list_dir(&self, path: &Path) -> Result<Vec<DirEntry>, FileError> {
        let resolved = self.validate(path)?;
        let metadata = fs::metadata(&resolved).map_err(|error| FileError::io(&resolved, &error))?;
        if !metadata.is_dir() {
            return Err(FileError::NotADirectory { path: resolved });
        }
        let mut entries = Vec::new();
        for entry in fs::read_dir(&resolved).map_err(|error| FileError::io(&resolved, &error))? {
            let entry = entry.map_err(|error| FileError::io(&resolved, &error))?;
            let kind = match entry.file_type() {
                Ok(kind) if kind.is_symlink() => EntryKind::Symlink,
                Ok(kind) if kind.is_dir() => EntryKind::Directory,
                Ok(kind) if kind.is_file() => EntryKind::File,
                _ => EntryKind::Other,
            };
            entries.push(DirEntry {
                name: entry.file_name().to_string_lossy().into_owned(),
                kind,
            });
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }
}

/// Creates `path` (which must not exist), writes `contents` and flushes
/// them to disk.
fn write_new(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}
