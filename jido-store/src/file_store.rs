//! [`FileStore`]: snapshots as files in one directory, written atomically.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use jido_session::SessionId;

use crate::{SnapshotStore, StoreError};

/// A step of [`FileStore::put`], at which tests inject failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteStep {
    CreateTemp,
    WriteTemp,
    SyncTemp,
    Rename,
    SyncDir,
}

type Faults = Arc<dyn Fn(WriteStep) -> io::Result<()> + Send + Sync>;

/// Snapshots with their stamps, as [`SnapshotStore::list_stamped`] gives them.
type Stamped = Vec<(SessionId, Option<u64>)>;

/// The embedded default [`SnapshotStore`]: one file per session in a
/// directory you choose, named by the session's UUID only
/// (`<uuid>.json`).
///
/// A put writes a temporary file in the same directory (`.<uuid>.<random>.tmp`),
/// flushes it to disk, renames it over the snapshot and flushes the
/// directory: a crash at any point leaves the old snapshot or the new one,
/// never a torn one. A crash may leave a temporary file behind; listings
/// ignore it. The directory is created (owner-only on Unix) if missing.
/// File system work runs on tokio's blocking pool.
///
/// ```
/// use jido_session::SessionId;
/// use jido_store::{FileStore, SnapshotStore};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let dir = tempfile::tempdir().unwrap();
/// let store = FileStore::new(dir.path().join("sessions")).unwrap();
/// let id = SessionId::new();
/// store.put(id, b"{}".to_vec()).await.unwrap();
/// assert_eq!(store.get(id, 1024).await.unwrap(), Some(b"{}".to_vec()));
/// assert!(dir.path().join("sessions").join(format!("{id}.json")).exists());
/// store.delete(id).await.unwrap();
/// store.delete(id).await.unwrap(); // already gone: fine
/// # }
/// ```
#[derive(Clone)]
pub struct FileStore {
    dir: PathBuf,
    faults: Option<Faults>,
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileStore").field("dir", &self.dir).finish()
    }
}

impl FileStore {
    /// A store keeping its snapshots in `dir`, created if missing.
    ///
    /// # Errors
    ///
    /// The file system's, if `dir` cannot be created or is not a directory.
    pub fn new(dir: impl Into<PathBuf>) -> io::Result<Self> {
        let dir = dir.into();
        create_private_dir(&dir)?;
        if !fs::metadata(&dir)?.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("{} is not a directory", dir.display()),
            ));
        }
        Ok(FileStore { dir, faults: None })
    }

    /// The directory holding the snapshots.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file holding the snapshot of session `id`.
    pub fn path_of(&self, id: SessionId) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    #[cfg(test)]
    pub(crate) fn with_faults(
        mut self,
        faults: impl Fn(WriteStep) -> io::Result<()> + Send + Sync + 'static,
    ) -> Self {
        self.faults = Some(Arc::new(faults));
        self
    }

    fn step(&self, step: WriteStep) -> io::Result<()> {
        match &self.faults {
            Some(faults) => faults(step),
            None => Ok(()),
        }
    }

    /// Removes the temporary files that saves killed half-way left behind
    /// (`.<id>.<nonce>.tmp`); returns how many. Only for the directory's
    /// owner: a save running meanwhile would lose its temporary file.
    /// [`Persistence::in_dir`](crate::Persistence::in_dir) does it once it
    /// holds the directory.
    ///
    /// # Errors
    ///
    /// The file system's, if the directory cannot be read.
    pub fn sweep_temporary(&self) -> io::Result<usize> {
        let mut removed = 0;
        for entry in fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let stray = name.to_str().is_some_and(|name| {
                name.strip_prefix('.')
                    .and_then(|name| name.strip_suffix(".tmp"))
                    .and_then(|name| name.split_once('.'))
                    .is_some_and(|(id, nonce)| {
                        id.parse::<SessionId>().is_ok()
                            && nonce.len() == 32
                            && nonce.bytes().all(|byte| byte.is_ascii_hexdigit())
                    })
            });
            if stray {
                match fs::remove_file(entry.path()) {
                    Ok(()) => removed += 1,
                    Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                    Err(error) => return Err(error),
                }
            }
        }
        if removed > 0 {
            tracing::info!(dir = %self.dir.display(), removed, "removed temporary files of interrupted saves");
        }
        Ok(removed)
    }

    /// The whole put, blocking.
    pub(crate) fn put_blocking(&self, id: SessionId, bytes: &[u8]) -> io::Result<()> {
        let target = self.path_of(id);
        let temporary = self
            .dir
            .join(format!(".{id}.{}.tmp", uuid::Uuid::new_v4().simple()));
        self.step(WriteStep::CreateTemp)?;
        let mut file = create_private_file(&temporary)?;
        let written = (|| {
            self.step(WriteStep::WriteTemp)?;
            file.write_all(bytes)?;
            self.step(WriteStep::SyncTemp)?;
            file.sync_all()?;
            self.step(WriteStep::Rename)?;
            fs::rename(&temporary, &target)
        })();
        if let Err(error) = written {
            let _ = fs::remove_file(&temporary);
            return Err(error);
        }
        self.step(WriteStep::SyncDir)?;
        File::open(&self.dir)?.sync_all()
    }

    fn get_blocking(&self, id: SessionId, max_bytes: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let path = self.path_of(id);
        let file = match open_regular(&path, OpenOptions::new().read(true)) {
            Ok(file) => file,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                return if is_gone(&self.dir) {
                    Err(directory_gone(&self.dir))
                } else {
                    Ok(None)
                };
            }
            Err(error) => return Err(StoreError::io("open the snapshot", &error)),
        };
        let too_large = |size| StoreError::TooLarge {
            size,
            limit: max_bytes,
        };
        let size = file
            .metadata()
            .map_err(|error| StoreError::io("read the snapshot's size", &error))?
            .len();
        if size > max_bytes {
            return Err(too_large(size));
        }
        let mut bytes = Vec::new();
        // The file may grow meanwhile: never read past the limit.
        file.take(max_bytes.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|error| StoreError::io("read the snapshot", &error))?;
        if bytes.len() as u64 > max_bytes {
            return Err(too_large(bytes.len() as u64));
        }
        Ok(Some(bytes))
    }

    fn list_blocking(&self) -> Result<Vec<SessionId>, StoreError> {
        // Only `<uuid>.json`: temporary files and strangers are not
        // snapshots.
        ids_named(&self.dir, "json", "list snapshots")
    }

    fn delete_blocking(&self, id: SessionId) -> Result<(), StoreError> {
        remove_durably(&self.path_of(id), &self.dir, "delete the snapshot")
    }

    /// Removes every snapshot of `ids`, then flushes the directory once.
    fn delete_many_blocking(&self, ids: &[SessionId]) -> Vec<(SessionId, StoreError)> {
        let mut failed = Vec::new();
        let mut removed = Vec::new();
        for &id in ids {
            match fs::remove_file(self.path_of(id)) {
                Ok(()) => removed.push(id),
                Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                Err(error) => failed.push((id, StoreError::io("delete the snapshot", &error))),
            }
        }
        if !removed.is_empty()
            && let Err(error) = File::open(&self.dir).and_then(|dir| dir.sync_all())
        {
            // Removed, but perhaps not for good: each is reported.
            let error = StoreError::io("flush the directory", &error);
            failed.extend(removed.into_iter().map(|id| (id, error.clone())));
        }
        failed
    }

    /// The snapshots with their stamps, and the journals (`<uuid>.journal`)
    /// of the directory, from one read of it.
    fn list_blocking_with_journals(&self) -> Result<(Stamped, Vec<SessionId>), StoreError> {
        let operation = "list snapshots";
        let entries =
            fs::read_dir(&self.dir).map_err(|error| in_dir_error(&self.dir, operation, &error))?;
        let mut listed = Vec::new();
        let mut journals = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|error| StoreError::io(operation, &error))?;
            let name = entry.file_name();
            if let Some(id) = id_named(&name, ".json") {
                listed.push((id, inode_of(&entry)));
            } else if let Some(id) = id_named(&name, ".journal") {
                journals.push(id);
            }
        }
        Ok((listed, journals))
    }

    /// [`SnapshotStore::list_stamped`], and the journals of the directory
    /// (those a [`FileJournal`](crate::journal::FileJournal) on it lists),
    /// from one read of it.
    pub(crate) async fn list_with_journals(&self) -> Result<(Stamped, Vec<SessionId>), StoreError> {
        let store = self.clone();
        blocking("list snapshots", move || {
            store.list_blocking_with_journals()
        })
        .await
    }
}

/// The inode number of a directory entry, read with the directory.
#[cfg(unix)]
fn inode_of(entry: &fs::DirEntry) -> Option<u64> {
    use std::os::unix::fs::DirEntryExt;
    Some(entry.ino())
}

#[cfg(not(unix))]
fn inode_of(_entry: &fs::DirEntry) -> Option<u64> {
    None
}

/// The session a file named exactly `<uuid><suffix>` is of.
fn id_named(name: &std::ffi::OsStr, suffix: &str) -> Option<SessionId> {
    let stem = name.to_str()?.strip_suffix(suffix)?;
    // The canonical spelling only: hyphenated (36 bytes), lower case.
    if stem.len() != 36 || stem.bytes().any(|byte| byte.is_ascii_uppercase()) {
        return None;
    }
    stem.parse::<SessionId>().ok()
}

/// Whether `dir` itself is missing.
fn is_gone(dir: &Path) -> bool {
    fs::symlink_metadata(dir).is_err_and(|gone| gone.kind() == io::ErrorKind::NotFound)
}

/// [`StoreError::DirectoryGone`] for `dir`.
pub(crate) fn directory_gone(dir: &Path) -> StoreError {
    StoreError::DirectoryGone {
        path: dir.to_path_buf(),
    }
}

/// `error`, met doing `operation` on a file in `dir`: a missing `dir` is
/// [`StoreError::DirectoryGone`].
pub(crate) fn in_dir_error(dir: &Path, operation: &'static str, error: &io::Error) -> StoreError {
    if error.kind() == io::ErrorKind::NotFound && is_gone(dir) {
        return directory_gone(dir);
    }
    StoreError::io(operation, error)
}

/// The sessions with a file `<uuid>.<extension>` in `dir` (exactly so named:
/// no stranger, no temporary file).
///
/// # Errors
///
/// [`StoreError::DirectoryGone`] if `dir` is missing; the file system's.
pub(crate) fn ids_named(
    dir: &Path,
    extension: &str,
    operation: &'static str,
) -> Result<Vec<SessionId>, StoreError> {
    let entries = fs::read_dir(dir).map_err(|error| in_dir_error(dir, operation, &error))?;
    let suffix = format!(".{extension}");
    let mut ids = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|error| StoreError::io(operation, &error))?;
        ids.extend(id_named(&entry.file_name(), &suffix));
    }
    Ok(ids)
}

/// Removes `path` (fine if it is gone) and flushes its directory `dir`, so
/// that the removal outlives a power loss.
pub(crate) fn remove_durably(
    path: &Path,
    dir: &Path,
    operation: &'static str,
) -> Result<(), StoreError> {
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(StoreError::io(operation, &error)),
    }
    File::open(dir)
        .and_then(|dir| dir.sync_all())
        .map_err(|error| StoreError::io("flush the directory", &error))
}

/// Opens `path` with `options`, without blocking (a FIFO or a device named
/// like a snapshot or a journal cannot hold the open up), and refuses what
/// is not a regular file (kind `InvalidInput`) before anything is read.
pub(crate) fn open_regular(path: &Path, options: &mut OpenOptions) -> io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(
            (rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::NOCTTY).bits() as i32,
        );
    }
    let file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", path.display()),
        ));
    }
    Ok(file)
}

/// Runs `work` on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    operation: &'static str,
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|error| {
            Err(StoreError::Io {
                operation,
                kind: None,
                message: format!("the blocking task failed: {error}"),
            })
        })
}

#[async_trait]
impl SnapshotStore for FileStore {
    async fn put(&self, id: SessionId, bytes: Vec<u8>) -> Result<(), StoreError> {
        let store = self.clone();
        blocking("save the snapshot", move || {
            store
                .put_blocking(id, &bytes)
                .map_err(|error| in_dir_error(&store.dir, "save the snapshot", &error))
        })
        .await
    }

    async fn get(&self, id: SessionId, max_bytes: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let store = self.clone();
        blocking("read the snapshot", move || {
            store.get_blocking(id, max_bytes)
        })
        .await
    }

    async fn list(&self) -> Result<Vec<SessionId>, StoreError> {
        let store = self.clone();
        blocking("list snapshots", move || store.list_blocking()).await
    }

    async fn delete(&self, id: SessionId) -> Result<(), StoreError> {
        let store = self.clone();
        blocking("delete the snapshot", move || store.delete_blocking(id)).await
    }

    async fn list_stamped(&self) -> Result<Vec<(SessionId, Option<u64>)>, StoreError> {
        Ok(self.list_with_journals().await?.0)
    }

    async fn delete_many(&self, ids: &[SessionId]) -> Vec<(SessionId, StoreError)> {
        let store = self.clone();
        let owned = ids.to_vec();
        let deleted = blocking("delete snapshots", move || {
            Ok(store.delete_many_blocking(&owned))
        })
        .await;
        deleted.unwrap_or_else(|error| ids.iter().map(|&id| (id, error.clone())).collect())
    }
}

#[cfg(unix)]
pub(crate) fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
pub(crate) fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

fn create_private_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use std::panic::{AssertUnwindSafe, catch_unwind};

    use super::*;

    const STEPS: [WriteStep; 5] = [
        WriteStep::CreateTemp,
        WriteStep::WriteTemp,
        WriteStep::SyncTemp,
        WriteStep::Rename,
        WriteStep::SyncDir,
    ];

    fn store() -> (tempfile::TempDir, FileStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path().join("sessions")).unwrap();
        (dir, store)
    }

    fn read(store: &FileStore, id: SessionId) -> Option<Vec<u8>> {
        store.get_blocking(id, u64::MAX).unwrap()
    }

    #[test]
    fn a_write_that_fails_at_any_step_leaves_the_old_snapshot_or_the_new_one() {
        for failing in STEPS {
            let (_dir, store) = store();
            let id = SessionId::new();
            store.put_blocking(id, b"old").unwrap();
            let faulty = store.clone().with_faults(move |step| {
                if step == failing {
                    Err(io::Error::other("injected"))
                } else {
                    Ok(())
                }
            });
            let result = faulty.put_blocking(id, b"new");
            let found = read(&store, id).unwrap();
            if failing == WriteStep::SyncDir {
                // Renamed already: the new one, though the flush failed.
                assert!(result.is_err());
                assert_eq!(found, b"new");
            } else {
                assert!(result.is_err(), "{failing:?}");
                assert_eq!(found, b"old", "{failing:?}");
            }
            // An error (not a crash) cleans up its temporary file.
            assert_eq!(store.list_blocking().unwrap(), [id]);
            let names = fs::read_dir(store.dir()).unwrap().count();
            assert_eq!(names, 1, "{failing:?}: no temporary file left");
        }
    }

    /// A writer killed between two steps runs no cleanup at all (modelled
    /// by a panic that unwinds past it): the old snapshot is intact, the
    /// leftover temporary file is no snapshot, and the next put works.
    #[test]
    fn a_writer_killed_between_steps_leaves_the_old_snapshot_intact() {
        for dying in STEPS {
            let (_dir, store) = store();
            let id = SessionId::new();
            store.put_blocking(id, b"old").unwrap();
            let dies = store.clone().with_faults(move |step| {
                if step == dying {
                    panic!("killed before {step:?}");
                }
                Ok(())
            });
            let killed = catch_unwind(AssertUnwindSafe(|| dies.put_blocking(id, b"new")));
            assert!(killed.is_err());

            let found = read(&store, id).unwrap();
            let expected: &[u8] = if dying == WriteStep::SyncDir {
                b"new"
            } else {
                b"old"
            };
            assert_eq!(found, expected, "{dying:?}");
            assert_eq!(store.list_blocking().unwrap(), [id], "{dying:?}");
            store.put_blocking(id, b"newer").unwrap();
            assert_eq!(read(&store, id).unwrap(), b"newer");
        }
    }

    #[test]
    fn a_snapshot_over_the_limit_is_refused_unread() {
        let (_dir, store) = store();
        let id = SessionId::new();
        store.put_blocking(id, &[b'x'; 100]).unwrap();
        assert_eq!(
            store.get_blocking(id, 99),
            Err(StoreError::TooLarge {
                size: 100,
                limit: 99
            })
        );
        assert_eq!(store.get_blocking(id, 100).unwrap().unwrap().len(), 100);
    }

    #[test]
    fn only_uuid_named_files_are_listed() {
        let (_dir, store) = store();
        let id = SessionId::new();
        store.put_blocking(id, b"{}").unwrap();
        for stranger in ["notes.json", "abc.json", ".x.tmp", "README"] {
            fs::write(store.dir().join(stranger), "x").unwrap();
        }
        fs::write(store.dir().join(format!(".{id}.123.tmp")), "torn").unwrap();
        fs::write(
            store
                .dir()
                .join(format!("{}.json", id.to_string().to_uppercase())),
            "x",
        )
        .unwrap();
        assert_eq!(store.list_blocking().unwrap(), [id]);
    }

    #[test]
    fn a_missing_snapshot_reads_as_none_and_deletes_fine() {
        let (_dir, store) = store();
        let id = SessionId::new();
        assert_eq!(store.get_blocking(id, 10), Ok(None));
        assert_eq!(store.delete_blocking(id), Ok(()));
    }

    #[cfg(unix)]
    #[test]
    fn snapshots_are_readable_by_their_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let (_dir, store) = store();
        let id = SessionId::new();
        store.put_blocking(id, b"{}").unwrap();
        let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&store.path_of(id)), 0o600);
        assert_eq!(mode(store.dir()), 0o700);
    }
}
