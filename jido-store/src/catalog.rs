//! [`Catalog`]: what listing needs of every stored snapshot, kept in memory
//! (and, for a directory store, cached in a file), so that a listing reads
//! only the snapshots that changed since the last one.
//!
//! A listing first brings the catalog up to date ([`Catalog::refresh`]):
//! the store lists its snapshots with a *stamp* each
//! ([`SnapshotStore::list_stamped`]: for the file store the file's inode,
//! new at every atomic replace); a snapshot whose stamp matches its entry
//! is not read again, any other is loaded and its entry replaced, and
//! entries the store no longer lists are dropped. A store without stamps
//! has every snapshot read at every listing, as before the catalog.
//!
//! A stamp changes when a file is replaced (what every save does), not when
//! it is edited in place: a snapshot file rewritten in place by hand is
//! listed as it was until it is replaced or the program starts again. At a
//! start, the cache file's entries are checked against the files (one
//! `stat` each): a file modified since its entry was read is read again.
//!
//! # Invariants
//!
//! Of [`Index`], whenever its lock is free:
//!
//! 1. `order` holds `(newest first key, id)` for exactly the readable
//!    entries of `entries`, with the entry's `closed_at`.
//! 2. `pending` is drained into `entries` at the end of every refresh,
//!    under the lock, after the refresh's own loads: a save or a delete
//!    made during a refresh wins over what the refresh read.
//! 3. An entry written by a save or read without a stamp has stamp `None`,
//!    so the next refresh reads it again: a stamp is only ever the one the
//!    store listed for the bytes the entry was read from (or listed before
//!    them, which only costs one more read).
//!
//! Checked in debug builds at the end of every refresh
//! ([`Index::check`]).

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use jido_session::SessionId;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex as AsyncMutex, MutexGuard};

use crate::{LoadError, SnapshotInfo};

/// The sort key of a listing: newest closed first, then by id.
pub(crate) type OrderKey = (Reverse<DateTime<Utc>>, SessionId);

/// What the catalog knows of one stored snapshot.
#[derive(Debug, Clone)]
pub(crate) enum Entry {
    /// Readable: what a listing shows of it.
    Readable {
        info: SnapshotInfo,
        stamp: Option<u64>,
        /// When its read began (for the cache's check at the next start).
        read_at: SystemTime,
    },
    /// Could not be read, with why.
    Unreadable {
        error: LoadError,
        stamp: Option<u64>,
    },
}

impl Entry {
    fn stamp(&self) -> Option<u64> {
        match self {
            Entry::Readable { stamp, .. } | Entry::Unreadable { stamp, .. } => *stamp,
        }
    }
}

/// A change made by a save or a delete, waiting for a refresh to finish
/// (invariant 2): the snapshot's new listing, or `None` for a delete.
type Pending = (SessionId, Option<SnapshotInfo>);

/// The catalog's state, behind [`Catalog`]'s lock.
#[derive(Debug, Default)]
pub(crate) struct Index {
    pub(crate) entries: HashMap<SessionId, Entry>,
    /// The readable entries, in listing order (invariant 1).
    pub(crate) order: BTreeSet<OrderKey>,
    /// The sessions with a journal, as of the last refresh.
    pub(crate) journals: HashSet<SessionId>,
    /// Whether the cache file was read (or there is none).
    cache_read: bool,
    /// Snapshots read since the cache file was last written.
    reads_since_cache: usize,
}

/// The catalog of one [`Persistence`](crate::Persistence) and its clones.
#[derive(Debug, Default)]
pub(crate) struct Catalog {
    index: AsyncMutex<Index>,
    /// Saves and deletes made while a refresh held the index.
    pending: Mutex<Vec<Pending>>,
    /// Where the catalog is cached between runs (a directory store).
    cache: Option<PathBuf>,
}

/// The name of the cache file in a store's directory.
pub(crate) const CACHE_FILE: &str = "catalog.v1.json";

/// The largest cache file read (a larger one is ignored).
const MAX_CACHE_BYTES: u64 = 1 << 30;

/// After how many snapshot reads the cache file is written again (or a
/// sixteenth of the catalog, if more).
const CACHE_EVERY: usize = 256;

impl Catalog {
    /// A catalog cached in `cache`, if given.
    pub(crate) fn new(cache: Option<PathBuf>) -> Self {
        Catalog {
            cache,
            ..Catalog::default()
        }
    }

    /// Records a save of `info`'s snapshot (its stamp unknown until the next
    /// refresh: invariant 3).
    pub(crate) fn saved(&self, info: SnapshotInfo) {
        self.change(info.id, Some(info));
    }

    /// Records the deletion of the snapshot of `id`.
    pub(crate) fn deleted(&self, id: SessionId) {
        self.change(id, None);
    }

    fn change(&self, id: SessionId, info: Option<SnapshotInfo>) {
        match self.index.try_lock() {
            Ok(mut index) => index.apply(id, info),
            // A refresh holds the index: it applies this as it ends.
            Err(_) => self.pending.lock().push((id, info)),
        }
    }

    /// The index, locked (for a refresh, and what follows it).
    pub(crate) async fn lock(&self) -> MutexGuard<'_, Index> {
        let mut index = self.index.lock().await;
        self.drain(&mut index);
        index
    }

    /// Applies the changes made while the index was held (invariant 2).
    pub(crate) fn drain(&self, index: &mut Index) {
        let pending = std::mem::take(&mut *self.pending.lock());
        for (id, info) in pending {
            index.apply(id, info);
        }
    }

    /// Reads the cache file into `index`, the first time; a missing or
    /// unreadable cache is no error (every snapshot is read instead).
    pub(crate) async fn read_cache(&self, index: &mut Index) {
        if index.cache_read {
            return;
        }
        index.cache_read = true;
        let Some(path) = self.cache.clone() else {
            return;
        };
        let cached = tokio::task::spawn_blocking(move || read_cache(&path))
            .await
            .ok()
            .flatten();
        if let Some(cached) = cached {
            for entry in cached {
                let info = SnapshotInfo {
                    id: entry.id,
                    name: entry.name,
                    project_path: entry.project_path,
                    closed_at: entry.closed_at,
                    messages: entry.messages,
                    interrupted: false,
                };
                index.insert(
                    entry.id,
                    Entry::Readable {
                        info,
                        stamp: Some(entry.stamp),
                        read_at: SystemTime::UNIX_EPOCH + Duration::from_nanos(entry.read_at),
                    },
                );
            }
        }
    }

    /// Writes the cache file when enough snapshots were read since it was
    /// last written; a failure is logged (it is only a cache).
    pub(crate) async fn write_cache_if_due(&self, index: &mut Index) {
        let Some(path) = self.cache.clone() else {
            return;
        };
        let due = CACHE_EVERY.max(index.entries.len() / 16);
        if index.reads_since_cache < due {
            return;
        }
        index.reads_since_cache = 0;
        let entries: Vec<CachedEntry> = index
            .entries
            .values()
            .filter_map(|entry| match entry {
                Entry::Readable {
                    info,
                    stamp: Some(stamp),
                    read_at,
                } => Some(CachedEntry {
                    id: info.id,
                    stamp: *stamp,
                    read_at: nanos_since_epoch(*read_at),
                    name: info.name.clone(),
                    project_path: info.project_path.clone(),
                    closed_at: info.closed_at,
                    messages: info.messages,
                }),
                _ => None,
            })
            .collect();
        let written = tokio::task::spawn_blocking(move || write_cache(&path, &entries)).await;
        if let Ok(Err(error)) | Err(error) = written.map_err(std::io::Error::other) {
            tracing::warn!(%error, "could not write the snapshot catalog's cache");
        }
    }
}

impl Index {
    /// Inserts or replaces the entry of `id`, keeping `order` (invariant 1).
    pub(crate) fn insert(&mut self, id: SessionId, entry: Entry) {
        self.remove(id);
        if let Entry::Readable { info, .. } = &entry {
            self.order.insert((Reverse(info.closed_at), id));
        }
        self.entries.insert(id, entry);
    }

    /// Removes the entry of `id`, if any.
    pub(crate) fn remove(&mut self, id: SessionId) {
        if let Some(Entry::Readable { info, .. }) = self.entries.remove(&id) {
            self.order.remove(&(Reverse(info.closed_at), id));
        }
    }

    fn apply(&mut self, id: SessionId, info: Option<SnapshotInfo>) {
        match info {
            Some(info) => self.insert(
                id,
                Entry::Readable {
                    info,
                    stamp: None,
                    read_at: SystemTime::UNIX_EPOCH,
                },
            ),
            None => self.remove(id),
        }
    }

    /// Whether the entry of `id` was read from the snapshot the store now
    /// lists with `stamp`.
    pub(crate) fn is_current(&self, id: SessionId, stamp: Option<u64>) -> bool {
        stamp.is_some()
            && self
                .entries
                .get(&id)
                .is_some_and(|entry| entry.stamp() == stamp)
    }

    /// Counts `reads` snapshot reads towards the next cache write.
    pub(crate) fn count_reads(&mut self, reads: usize) {
        self.reads_since_cache += reads;
    }

    /// Invariant 1, in debug builds.
    pub(crate) fn check(&self) {
        if !cfg!(debug_assertions) {
            return;
        }
        let readable = self
            .entries
            .values()
            .filter(|entry| matches!(entry, Entry::Readable { .. }))
            .count();
        debug_assert_eq!(readable, self.order.len(), "invariant 1: order's size");
        debug_assert!(
            self.order.iter().all(|(Reverse(closed_at), id)| matches!(
                self.entries.get(id),
                Some(Entry::Readable { info, .. }) if info.closed_at == *closed_at
            )),
            "invariant 1: an order key without its entry"
        );
    }
}

/// The cache file's format tag.
const CACHE_FORMAT: &str = "jido-snapshot-catalog-1";

#[derive(Serialize, Deserialize)]
struct CacheFile {
    format: String,
    entries: Vec<CachedEntry>,
}

#[derive(Serialize, Deserialize)]
struct CachedEntry {
    id: SessionId,
    stamp: u64,
    /// When the entry's read began, in nanoseconds since the epoch.
    read_at: u64,
    name: String,
    project_path: PathBuf,
    closed_at: DateTime<Utc>,
    messages: usize,
}

/// How far a file's modification time may lag behind the clock a read's
/// start was taken from (file systems stamp times from a coarse clock).
const CLOCK_SLACK: Duration = Duration::from_secs(1);

fn nanos_since_epoch(at: SystemTime) -> u64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
        })
}

/// The cache file at `path`, with only the entries whose snapshot file (in
/// the same directory) is still the one they were read from: the same
/// inode, not modified since their read began. `None` if there is no
/// readable cache.
fn read_cache(path: &Path) -> Option<Vec<CachedEntry>> {
    use std::io::Read;
    let file =
        crate::file_store::open_regular(path, std::fs::OpenOptions::new().read(true)).ok()?;
    let mut bytes = Vec::new();
    file.take(MAX_CACHE_BYTES).read_to_end(&mut bytes).ok()?;
    let cached = serde_json::from_slice::<CacheFile>(&bytes).ok()?;
    if cached.format != CACHE_FORMAT {
        return None;
    }
    let dir = path.parent()?;
    let unchanged = |entry: &CachedEntry| {
        let Ok(metadata) = std::fs::symlink_metadata(dir.join(format!("{}.json", entry.id))) else {
            return false;
        };
        let modified = metadata.modified().map_or(u64::MAX, |modified| {
            nanos_since_epoch(modified + CLOCK_SLACK)
        });
        inode(&metadata) == Some(entry.stamp) && modified < entry.read_at
    };
    Some(cached.entries.into_iter().filter(unchanged).collect())
}

#[cfg(unix)]
fn inode(metadata: &std::fs::Metadata) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    Some(metadata.ino())
}

#[cfg(not(unix))]
fn inode(_metadata: &std::fs::Metadata) -> Option<u64> {
    None
}

/// Writes the cache file whole (a temporary file renamed over it: a reader
/// never sees half of one). Not flushed to disk: a cache lost to a power
/// cut is rebuilt by reading the snapshots.
fn write_cache(path: &std::path::Path, entries: &[CachedEntry]) -> std::io::Result<()> {
    #[derive(Serialize)]
    struct CacheOut<'a> {
        format: &'static str,
        entries: &'a [CachedEntry],
    }
    let bytes = serde_json::to_vec(&CacheOut {
        format: CACHE_FORMAT,
        entries,
    })?;
    use std::io::Write;
    let temporary = path.with_extension("json.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(&temporary)?.write_all(&bytes)?;
    std::fs::rename(&temporary, path)
}
