//! [`SnapshotStore`]: where snapshots are kept — the small trait every store
//! implements — and [`StoreError`].

use std::io;
use std::path::PathBuf;

use async_trait::async_trait;
use jido_session::SessionId;

/// Where encoded snapshots are kept, one per session id: the four
/// operations every store implements ([`FileStore`](crate::FileStore) is
/// the embedded default). A store keeps bytes; encoding, signing and
/// checking are [`Persistence`](crate::Persistence)'s, the same for every
/// store.
///
/// `put` must be atomic: after a failure or a crash at any point, `get`
/// returns the old snapshot or the new one, never a mix.
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Mutex;
/// use async_trait::async_trait;
/// use jido_session::SessionId;
/// use jido_store::{SnapshotStore, StoreError};
///
/// /// Snapshots in memory (for tests).
/// #[derive(Default)]
/// struct Memory(Mutex<HashMap<SessionId, Vec<u8>>>);
///
/// #[async_trait]
/// impl SnapshotStore for Memory {
///     async fn put(&self, id: SessionId, bytes: Vec<u8>) -> Result<(), StoreError> {
///         self.0.lock().unwrap().insert(id, bytes);
///         Ok(())
///     }
///     async fn get(&self, id: SessionId, max_bytes: u64) -> Result<Option<Vec<u8>>, StoreError> {
///         match self.0.lock().unwrap().get(&id) {
///             Some(bytes) if bytes.len() as u64 > max_bytes => {
///                 Err(StoreError::TooLarge { size: bytes.len() as u64, limit: max_bytes })
///             }
///             found => Ok(found.cloned()),
///         }
///     }
///     async fn list(&self) -> Result<Vec<SessionId>, StoreError> {
///         Ok(self.0.lock().unwrap().keys().copied().collect())
///     }
///     async fn delete(&self, id: SessionId) -> Result<(), StoreError> {
///         self.0.lock().unwrap().remove(&id);
///         Ok(())
///     }
/// }
/// ```
#[async_trait]
pub trait SnapshotStore: Send + Sync + 'static {
    /// Stores `bytes` as the snapshot of session `id`, replacing any,
    /// atomically.
    async fn put(&self, id: SessionId, bytes: Vec<u8>) -> Result<(), StoreError>;

    /// The snapshot of session `id`, if there is one; refused with
    /// [`StoreError::TooLarge`] (without reading it all) past `max_bytes`.
    async fn get(&self, id: SessionId, max_bytes: u64) -> Result<Option<Vec<u8>>, StoreError>;

    /// The ids of every stored snapshot, in no particular order.
    async fn list(&self) -> Result<Vec<SessionId>, StoreError>;

    /// Deletes the snapshot of session `id`; succeeds if there is none.
    async fn delete(&self, id: SessionId) -> Result<(), StoreError>;

    /// The ids of every stored snapshot, each with a *stamp* that changes
    /// whenever its snapshot is replaced (`None`: this store has none).
    /// Listing reads again only the snapshots whose stamp changed since it
    /// last read them, so a listing of many snapshots costs one listing of
    /// the store and the reads of what changed. The default: [`list`](Self::list),
    /// without stamps (every listing reads every snapshot).
    ///
    /// [`FileStore`](crate::FileStore)'s stamp is the file's inode number,
    /// read with the directory (no `stat`): every put is a new file renamed
    /// over the old one.
    async fn list_stamped(&self) -> Result<Vec<(SessionId, Option<u64>)>, StoreError> {
        Ok(self
            .list()
            .await?
            .into_iter()
            .map(|id| (id, None))
            .collect())
    }

    /// Deletes the snapshots of `ids`; returns those whose deletion failed,
    /// with why. The default deletes them one by one;
    /// [`FileStore`](crate::FileStore) flushes its directory once for all.
    async fn delete_many(&self, ids: &[SessionId]) -> Vec<(SessionId, StoreError)> {
        let mut failed = Vec::new();
        for &id in ids {
            if let Err(error) = self.delete(id).await {
                failed.push((id, error));
            }
        }
        failed
    }
}

/// Why a [`SnapshotStore`] operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The snapshot is larger than the limit; it was not read.
    #[error("snapshot of {size} bytes exceeds the limit of {limit}")]
    TooLarge {
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A journal cannot be read back: corrupt before its end, or written
    /// by a newer version (a torn last write is no error).
    #[error(transparent)]
    Journal(crate::journal::JournalError),
    /// The storage failed (a file system or database error).
    #[error("{operation} failed: {message}")]
    Io {
        /// What was being done.
        operation: &'static str,
        /// The kind of the underlying I/O error, if it was one.
        kind: Option<io::ErrorKind>,
        /// Its message.
        message: String,
    },
    /// The write was refused by a store that fences its writers (the
    /// PostgreSQL store): this node does not own session `id` under a live
    /// lease — its lease expired, or another node took the session over.
    /// Nothing was changed.
    #[error("{operation} of session {id}'s snapshot refused: this node does not own the session")]
    Fenced {
        /// What was being done.
        operation: &'static str,
        /// The session.
        id: SessionId,
    },
    /// The store's directory is gone — removed or renamed while the store
    /// was in use — so nothing can be listed, read or written there. An
    /// error, not an empty listing: a store that vanished is not a store
    /// without sessions (upstream lists nothing; we say so instead).
    #[error("the store's directory {} is gone", path.display())]
    DirectoryGone {
        /// The directory.
        path: PathBuf,
    },
    /// The storage could not be reached in time.
    #[error("{operation} timed out")]
    Timeout {
        /// What was being done.
        operation: &'static str,
    },
}

impl StoreError {
    /// An I/O error met while doing `operation`.
    pub fn io(operation: &'static str, error: &io::Error) -> Self {
        StoreError::Io {
            operation,
            kind: Some(error.kind()),
            message: error.to_string(),
        }
    }
}
