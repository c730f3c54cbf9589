//! [`Persistence`]: saving, loading, listing and cleaning up snapshots in a
//! [`SnapshotStore`]; listing ([`list`]) and cleaning up ([`cleanup`]) go
//! through the store's [`Catalog`].

mod cleanup;
mod list;

pub use cleanup::IsOpen;

use std::fmt;
use std::io;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use jido_session::SessionId;

use crate::catalog::{CACHE_FILE, Catalog};
use crate::codec::Codec;
use crate::journal::{FileJournal, JournalStore};
use crate::pins::{Pinned, Pins};
use crate::store_lock::StoreLock;
use crate::{FileStore, LoadError, SaveError, Snapshot, SnapshotInfo, SnapshotStore, StoreError};

/// The largest snapshot loaded by default (10 MiB, as upstream).
pub const DEFAULT_MAX_SNAPSHOT_BYTES: u64 = 10 * 1024 * 1024;

/// How old a snapshot [`Persistence::cleanup`] deletes by default: 30 days.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// Snapshots in a [`SnapshotStore`]: encoded in the versioned format,
/// signed and checked with HMAC-SHA256 when given a key, size-limited on
/// load, listed newest first, cleaned up by age. Cheap to clone.
///
/// Without a key, snapshots are written unsigned and read without a check.
/// With [`signed_with`](Self::signed_with), every snapshot is signed and a
/// snapshot whose signature does not match is refused; unsigned ones are
/// refused too, unless [`accept_unsigned`](Self::accept_unsigned) says
/// otherwise. (Signing is the `signing` feature's, a default.)
///
/// ```
/// use jido_session::{Conversation, Message, Role, Session};
/// use jido_store::{LoadError, Persistence, Snapshot};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let project = tempfile::tempdir()?;
/// let snapshots = tempfile::tempdir()?;
/// let persistence = Persistence::in_dir(snapshots.path())?.signed_with(b"app secret");
///
/// let session = Session::new(project.path())?;
/// let mut conversation = Conversation::default();
/// conversation.push_message(Message::new(Role::User, "hello"));
/// let snapshot = Snapshot::of(&session, conversation);
/// persistence.save(&snapshot).await?;
///
/// assert_eq!(persistence.load(session.id()).await?, snapshot);
/// let listing = persistence.list().await?;
/// assert_eq!(listing.snapshots[0].messages, 1);
///
/// // Another key: the signature does not match.
/// let other = Persistence::in_dir(snapshots.path())?.signed_with(b"another");
/// assert!(matches!(other.load(session.id()).await, Err(LoadError::BadSignature { .. })));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Persistence {
    store: Arc<dyn SnapshotStore>,
    /// Where sessions' journals go, if anywhere.
    journal: Option<Arc<dyn JournalStore>>,
    /// This process's lock on the store directory ([`in_dir`](Self::in_dir)).
    _lock: Option<Arc<StoreLock>>,
    codec: Codec,
    max_bytes: u64,
    /// What listing knows of every stored snapshot (shared by clones).
    catalog: Arc<Catalog>,
    /// Sessions kept from cleanup while they are resumed.
    pins: Arc<Pins>,
    /// At most this many saved sessions, if set.
    keep_at_most: Option<NonZeroUsize>,
    /// The directory store of [`in_dir`](Self::in_dir), its journals beside
    /// its snapshots: a listing reads the directory once for both.
    dir_store: Option<FileStore>,
}

impl fmt::Debug for Persistence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Persistence")
            .field("signed", &self.codec.is_signing())
            .field("journaled", &self.journal.is_some())
            .field("max_bytes", &self.max_bytes)
            .finish()
    }
}

impl Persistence {
    /// Snapshots in `store`, unsigned, with the default size limit, and no
    /// journal (add one with [`with_journal`](Self::with_journal)).
    pub fn new(store: impl SnapshotStore) -> Self {
        Persistence::from_store(Arc::new(store))
    }

    /// Snapshots in a shared `store`.
    pub fn from_store(store: Arc<dyn SnapshotStore>) -> Self {
        Persistence {
            store,
            journal: None,
            _lock: None,
            codec: Codec::default(),
            max_bytes: DEFAULT_MAX_SNAPSHOT_BYTES,
            catalog: Arc::new(Catalog::new(None)),
            pins: Arc::new(Pins::default()),
            keep_at_most: None,
            dir_store: None,
        }
    }

    /// Snapshots as files in `dir` (a [`FileStore`]), created if missing,
    /// and each session's journal beside its snapshot (a [`FileJournal`]).
    /// The directory is this process's while the returned value (or a clone,
    /// or another `in_dir` of this process on it) lives: an OS file lock on
    /// `dir/.lock`. Temporary files of saves killed half-way are removed.
    ///
    /// # Errors
    ///
    /// As [`FileStore::new`]; a [`StoreLocked`](crate::StoreLocked) naming
    /// the process that holds `dir` (kind `WouldBlock`).
    pub fn in_dir(dir: impl Into<PathBuf>) -> io::Result<Self> {
        let store = FileStore::new(dir)?;
        let lock = StoreLock::acquire(store.dir())?;
        store.sweep_temporary()?;
        let journal = FileJournal::new(store.dir())?;
        let cache = store.dir().join(CACHE_FILE);
        let dir_store = store.clone();
        let mut persistence = Persistence::new(store).with_journal(journal);
        persistence.dir_store = Some(dir_store);
        persistence.pins = lock.pins();
        persistence._lock = Some(lock);
        persistence.catalog = Arc::new(Catalog::new(Some(cache)));
        Ok(persistence)
    }

    /// The per-user directory sessions are kept in by default — the
    /// platform's data directory for the application `jido`, `sessions`
    /// beneath it (upstream keeps them under `~/.jido_code/sessions`):
    ///
    /// | platform | directory |
    /// |---|---|
    /// | Linux | `$XDG_DATA_HOME/jido/sessions`, else `~/.local/share/jido/sessions` |
    /// | macOS | `~/Library/Application Support/jido/sessions` |
    /// | Windows | `{FOLDERID_RoamingAppData}\jido\data\sessions` |
    ///
    /// Created if missing, readable by its owner only (mode 0700 on Unix).
    /// Open it with [`in_dir`](Self::in_dir):
    ///
    /// ```no_run
    /// use jido_store::Persistence;
    ///
    /// let persistence = Persistence::in_dir(Persistence::default_dir()?)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// `NotFound` when the platform names no home directory for the user;
    /// the file system's, if the directory cannot be created.
    ///
    /// With the `default-dir` feature (a default).
    #[cfg(feature = "default-dir")]
    #[cfg_attr(docsrs, doc(cfg(feature = "default-dir")))]
    pub fn default_dir() -> io::Result<PathBuf> {
        let dirs = directories::ProjectDirs::from("", "", "jido").ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                "no home directory for the current user: choose a store directory",
            )
        })?;
        let dir = dirs.data_dir().join("sessions");
        crate::file_store::create_private_dir(&dir)?;
        Ok(dir)
    }

    /// Journals every session's changes in `journal` (see
    /// [`journal`](crate::journal)), so that a program that dies loses
    /// nothing it acknowledged.
    #[must_use]
    pub fn with_journal(self, journal: impl JournalStore) -> Self {
        self.with_journal_arc(Arc::new(journal))
    }

    /// Like [`with_journal`](Self::with_journal), for a journal store
    /// already shared.
    #[must_use]
    pub fn with_journal_arc(mut self, journal: Arc<dyn JournalStore>) -> Self {
        self.journal = Some(journal);
        // Journals elsewhere: listed by their own store.
        self.dir_store = None;
        self
    }

    /// The journal store, if sessions are journaled.
    pub fn journal(&self) -> Option<&Arc<dyn JournalStore>> {
        self.journal.as_ref()
    }

    /// Signs every snapshot written with HMAC-SHA256 under `key`, and
    /// refuses a snapshot read back whose signature does not match (or
    /// that has none, unless [`accept_unsigned`](Self::accept_unsigned)).
    ///
    /// With the `signing` feature (a default).
    #[cfg(feature = "signing")]
    #[cfg_attr(docsrs, doc(cfg(feature = "signing")))]
    #[must_use]
    pub fn signed_with(mut self, key: impl AsRef<[u8]>) -> Self {
        self.codec.signed(key.as_ref());
        self
    }

    /// With a key: whether unsigned snapshots are accepted (default no).
    ///
    /// With the `signing` feature (a default).
    #[cfg(feature = "signing")]
    #[cfg_attr(docsrs, doc(cfg(feature = "signing")))]
    #[must_use]
    pub fn accept_unsigned(mut self, accept: bool) -> Self {
        self.codec.accept_unsigned(accept);
        self
    }

    /// The largest snapshot loaded (and saved): default
    /// [`DEFAULT_MAX_SNAPSHOT_BYTES`].
    #[must_use]
    pub fn max_snapshot_bytes(mut self, limit: u64) -> Self {
        self.max_bytes = limit;
        self
    }

    /// Keeps at most `limit` saved sessions: past it,
    /// [`cleanup`](Self::cleanup) — and the session supervisor, after every
    /// save — deletes the sessions closed longest ago. Never one that is
    /// open or interrupted (it has a journal, or the caller says it is open,
    /// or it is [pinned](Self::pin)): those count, but stay. Best effort: a
    /// session the cap chose that turns out pinned, or saved again since,
    /// stays, and the next cleanup catches up. Upstream bounds its saved
    /// sessions too. Default: no cap.
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use jido_session::{Conversation, Session};
    /// use jido_store::{Persistence, Snapshot};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let persistence = Persistence::in_dir(dir.path())?.keep_at_most(NonZeroUsize::new(2).unwrap());
    /// let projects: Vec<_> = (0..3).map(|_| tempfile::tempdir()).collect::<Result<_, _>>()?;
    /// for project in &projects {
    ///     persistence.save(&Snapshot::of(&Session::new(project.path())?, Conversation::default())).await?;
    /// }
    /// let report = persistence.enforce_cap(&|_| false).await?;
    /// assert_eq!(report.deleted.len(), 1); // the oldest
    /// assert_eq!(persistence.list().await?.total, 2);
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn keep_at_most(mut self, limit: NonZeroUsize) -> Self {
        self.keep_at_most = Some(limit);
        self
    }

    /// The cap on saved sessions, if any ([`keep_at_most`](Self::keep_at_most)).
    pub fn cap(&self) -> Option<NonZeroUsize> {
        self.keep_at_most
    }

    /// Pins session `id`: while the returned guard lives, neither
    /// [`cleanup`](Self::cleanup) nor the cap deletes its snapshot or
    /// journal. Waits for a deletion of them under way to end. The session
    /// supervisor pins a session while it resumes it.
    pub async fn pin(&self, id: SessionId) -> Pinned {
        self.pins.pin(id).await
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn SnapshotStore> {
        &self.store
    }

    /// Saves `snapshot`, replacing the session's previous one atomically.
    ///
    /// # Errors
    ///
    /// [`SaveError::TooLarge`] if it could not be loaded back,
    /// [`SaveError::Encode`], [`SaveError::Store`]; the old snapshot is then
    /// intact.
    pub async fn save(&self, snapshot: &Snapshot) -> Result<(), SaveError> {
        let bytes = self.codec.encode(snapshot)?;
        if bytes.len() as u64 > self.max_bytes {
            return Err(SaveError::TooLarge {
                id: snapshot.id(),
                size: bytes.len() as u64,
                limit: self.max_bytes,
            });
        }
        self.store.put(snapshot.id(), bytes).await?;
        self.catalog.saved(SnapshotInfo::from(snapshot));
        Ok(())
    }

    /// Loads the snapshot of session `id`.
    ///
    /// # Errors
    ///
    /// A [`LoadError`] for each refusal: not found, too large, corrupt, an
    /// unsupported version, unsigned or badly signed, stored under another
    /// id, or the store's error.
    pub async fn load(&self, id: SessionId) -> Result<Snapshot, LoadError> {
        let bytes = match self.store.get(id, self.max_bytes).await {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Err(LoadError::NotFound { id }),
            Err(StoreError::TooLarge { size, limit }) => {
                return Err(LoadError::TooLarge { id, size, limit });
            }
            Err(error) => return Err(LoadError::Store(error)),
        };
        self.codec.decode(id, &bytes)
    }

    /// Deletes the snapshot of session `id`, and its journal; succeeds if
    /// there is none.
    ///
    /// # Errors
    ///
    /// The store's.
    pub async fn delete(&self, id: SessionId) -> Result<(), StoreError> {
        self.store.delete(id).await?;
        self.catalog.deleted(id);
        if let Some(journal) = &self.journal {
            journal.delete(id).await?;
        }
        Ok(())
    }
}
