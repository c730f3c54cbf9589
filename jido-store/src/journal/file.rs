//! [`FileJournal`]: the journals of sessions, one file each, in a
//! directory; [`JournalStore`], what any journal store does.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use jido_session::SessionId;
use parking_lot::Mutex;

use super::sync_log::{DEFAULT_SYNC_LOG_BYTES, SyncLog};
use super::{Durability, Read, read};
use crate::StoreError;
use crate::file_store::{blocking, ids_named, remove_durably};

/// Where the journals of sessions are kept: the small trait every journal
/// store implements.
#[async_trait]
pub trait JournalStore: Send + Sync + 'static {
    /// Appends `frames` — whole records framed by [`encode`](super::encode),
    /// the last numbered `last` — to session `id`'s journal. When it
    /// returns `Ok`, the records are as durable as `durability` says
    /// ([`Durability::OnStop`]: nothing is written).
    async fn append(
        &self,
        id: SessionId,
        frames: Vec<u8>,
        last: u64,
        durability: Durability,
    ) -> Result<(), StoreError>;

    /// Session `id`'s journal read back (empty if it has none). A torn last
    /// write is cut off the stored journal, so that appends go on after the
    /// last whole record.
    async fn recover(&self, id: SessionId) -> Result<Read, StoreError>;

    /// Session `id`'s journal read back, changing nothing (a torn tail is
    /// reported, not cut): for listing, while the session may be running.
    async fn read(&self, id: SessionId) -> Result<Read, StoreError>;

    /// When session `id`'s journal was last written to, if it has one.
    async fn last_written(&self, id: SessionId) -> Result<Option<DateTime<Utc>>, StoreError>;

    /// The ids of every stored journal, in no particular order.
    async fn list(&self) -> Result<Vec<SessionId>, StoreError>;

    /// Deletes session `id`'s journal; succeeds if there is none.
    async fn delete(&self, id: SessionId) -> Result<(), StoreError>;
}

/// The journals of sessions, one append-only file each
/// (`<dir>/<id>.journal`, readable by its owner only), written by one
/// `write(2)` per append and synced as each append's [`Durability`] says.
///
/// ```
/// use jido_session::SessionId;
/// use jido_store::journal::{self, Durability, FileJournal, JournalStore};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let id = SessionId::new();
/// let journals = FileJournal::new(dir.path())?;
/// let mut frame = Vec::new();
/// journal::encode(1, b"hello", &mut frame)?;
/// journals.append(id, frame, 1, Durability::Os).await?;
///
/// // Another process, later: every acknowledged record is there.
/// let again = FileJournal::new(dir.path())?;
/// assert_eq!(again.recover(id).await?.records[0].payload, b"hello");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct FileJournal {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    /// The journals opened for appending, by session.
    open: Mutex<HashMap<SessionId, Arc<OpenJournal>>>,
    /// Group commit of synchronous appends across the directory's journals
    /// (shared by this process's `FileJournal`s on it).
    sync_log: Arc<SyncLog>,
}

/// One journal open for appending.
struct OpenJournal {
    file: File,
}

impl std::fmt::Debug for FileJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileJournal")
            .field("dir", &self.inner.dir)
            .finish()
    }
}

impl FileJournal {
    /// The journals in `dir` (created if missing). If the program or the
    /// machine died with synchronous appends in the directory's sync log
    /// that a journal lacks (its unsynced tail lost in a power cut), they
    /// are written back to it first.
    ///
    /// A directory's journals are one process's: open them through
    /// [`Persistence::in_dir`](crate::Persistence::in_dir), which locks
    /// the directory for this process.
    ///
    /// # Errors
    ///
    /// The file system's, if `dir` cannot be created or is not a directory;
    /// [`io::ErrorKind::InvalidData`] if its sync log is corrupt before its
    /// end.
    pub fn new(dir: impl Into<PathBuf>) -> io::Result<Self> {
        Self::with_sync_log_bytes(dir, DEFAULT_SYNC_LOG_BYTES)
    }

    /// As [`new`](Self::new), the directory's sync log emptied (the
    /// journals it names synced) whenever it grows past `bytes` (default 8
    /// MiB). A bound for the first `FileJournal` of the directory in this
    /// process; later ones share its log.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    pub fn with_sync_log_bytes(dir: impl Into<PathBuf>, bytes: u64) -> io::Result<Self> {
        let dir = dir.into();
        crate::file_store::create_private_dir(&dir)?;
        if !fs::metadata(&dir)?.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("{} is not a directory", dir.display()),
            ));
        }
        let sync_log = SyncLog::open(&dir, bytes)?;
        Ok(FileJournal {
            inner: Arc::new(Inner {
                dir,
                open: Mutex::new(HashMap::new()),
                sync_log,
            }),
        })
    }

    /// The file holding session `id`'s journal.
    pub fn path_of(&self, id: SessionId) -> PathBuf {
        path_of(&self.inner.dir, id)
    }

    /// Session `id`'s journal open for appending: opened (and recovered,
    /// its torn tail cut) on first use in this process.
    async fn opened(&self, id: SessionId) -> Result<Arc<OpenJournal>, StoreError> {
        if let Some(open) = self.inner.open.lock().get(&id) {
            return Ok(Arc::clone(open));
        }
        let path = self.path_of(id);
        let (file, read) =
            blocking("open the journal", move || open_recovered(&path, true)).await?;
        let _ = read;
        let open = Arc::new(OpenJournal { file });
        // Two first appends of one session cannot race: its State appends
        // one change at a time. Should they, the first opened wins.
        Ok(Arc::clone(self.inner.open.lock().entry(id).or_insert(open)))
    }
}

#[async_trait]
impl JournalStore for FileJournal {
    async fn append(
        &self,
        id: SessionId,
        frames: Vec<u8>,
        _last: u64,
        durability: Durability,
    ) -> Result<(), StoreError> {
        if durability == Durability::OnStop {
            return Ok(());
        }
        let open = self.opened(id).await?;
        // One write(2) of whole frames, at the end (O_APPEND): a kill leaves
        // at most a prefix of them.
        (&open.file)
            .write_all(&frames)
            .map_err(|error| StoreError::io("append to the journal", &error))?;
        if durability == Durability::Sync {
            if SyncLog::fits(&frames) {
                if let Err(error) = self.inner.sync_log.append(id, &frames).await {
                    // Written to the journal, not to the log: synced here,
                    // so that the journal never lacks a record the log's
                    // later ones follow (best effort: the append fails
                    // either way).
                    let _ = blocking("sync the journal", move || {
                        open.file
                            .sync_data()
                            .map_err(|error| StoreError::io("sync the journal", &error))
                    })
                    .await;
                    return Err(error);
                }
            } else {
                blocking("sync the journal", move || {
                    open.file
                        .sync_data()
                        .map_err(|error| StoreError::io("sync the journal", &error))
                })
                .await?;
            }
        }
        Ok(())
    }

    async fn recover(&self, id: SessionId) -> Result<Read, StoreError> {
        // Closed first, then kept open as recovered: the next append writes
        // after the last whole record without reading the journal again.
        self.inner.open.lock().remove(&id);
        let path = self.path_of(id);
        let recovered = blocking("recover the journal", move || {
            match open_recovered(&path, false) {
                Ok((file, read)) => Ok(Some((file, read))),
                Err(StoreError::Io {
                    kind: Some(io::ErrorKind::NotFound),
                    ..
                }) => Ok(None),
                Err(error) => Err(error),
            }
        })
        .await?;
        let Some((file, read)) = recovered else {
            return Ok(Read::default());
        };
        self.inner
            .open
            .lock()
            .insert(id, Arc::new(OpenJournal { file }));
        Ok(read)
    }

    async fn read(&self, id: SessionId) -> Result<Read, StoreError> {
        let path = self.path_of(id);
        blocking("read the journal", move || match read_regular(&path) {
            Ok(bytes) => read(&bytes).map_err(StoreError::Journal),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(Read::default()),
            Err(error) => Err(StoreError::io("read the journal", &error)),
        })
        .await
    }

    async fn last_written(&self, id: SessionId) -> Result<Option<DateTime<Utc>>, StoreError> {
        let path = self.path_of(id);
        blocking("read the journal's time", move || {
            match fs::metadata(&path).and_then(|metadata| metadata.modified()) {
                Ok(modified) => Ok(Some(DateTime::<Utc>::from(modified))),
                Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(error) => Err(StoreError::io("read the journal's time", &error)),
            }
        })
        .await
    }

    async fn list(&self) -> Result<Vec<SessionId>, StoreError> {
        let dir = self.inner.dir.clone();
        blocking("list journals", move || {
            ids_named(&dir, "journal", "list journals")
        })
        .await
    }

    async fn delete(&self, id: SessionId) -> Result<(), StoreError> {
        self.inner.open.lock().remove(&id);
        let path = self.path_of(id);
        let dir = self.inner.dir.clone();
        // Nothing of it left in the sync log to bring it back, and nothing
        // of it logged while it is removed.
        self.inner
            .sync_log
            .forget(id, move || {
                remove_durably(&path, &dir, "delete the journal")
            })
            .await
    }
}

/// The bytes of the regular file at `path` (refused otherwise, without
/// blocking).
fn read_regular(path: &Path) -> io::Result<Vec<u8>> {
    let mut file = crate::file_store::open_regular(path, OpenOptions::new().read(true))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

pub(crate) fn path_of(dir: &Path, id: SessionId) -> PathBuf {
    dir.join(format!("{id}.journal"))
}

/// Opens the journal at `path` for appending (created if `create`), reads
/// it back, and cuts a torn tail off it.
pub(crate) fn open_recovered(path: &Path, create: bool) -> Result<(File, Read), StoreError> {
    let mut options = OpenOptions::new();
    options.read(true).append(true).create(create);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = crate::file_store::open_regular(path, &mut options).map_err(|error| {
        let dir = path.parent().unwrap_or(Path::new("."));
        crate::file_store::in_dir_error(dir, "open the journal", &error)
    })?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|error| StoreError::io("read the journal", &error))?;
    let read = read(&bytes).map_err(StoreError::Journal)?;
    if let Some(torn) = read.torn {
        tracing::warn!(path = %path.display(), offset = torn.offset, bytes = torn.len, "the journal's last write was torn; cut off");
        file.set_len(read.end)
            .map_err(|error| StoreError::io("cut the journal's torn tail", &error))?;
    }
    Ok((file, read))
}
