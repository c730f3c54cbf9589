//! [`Catalog`]: what listing needs of every stored snapshot, kept in memory
//! (and, for a directory store, cached in a file), so that a listing reads
//! only the snapshots that changed since the last one.
//!
//! A listing first brings the catalog up to date (`Persistence::refresh`):
//! the store lists its snapshots with a *stamp* each
//! ([`SnapshotStore::list_stamped`](crate::SnapshotStore::list_stamped): for the file store the file's inode,
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
//! 1. Every entry of `entries` is either readable — its listing in
//!    `order`, under its `(newest first, id)` key — or not, its error in
//!    `unreadable`; nothing is in `order` or `unreadable` without its entry.
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
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use foldhash::fast::RandomState;
use jido_session::SessionId;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex as AsyncMutex, MutexGuard};

use crate::codec::Codec;
use crate::{LoadError, SnapshotInfo};

/// The sort key of a listing: newest closed first, then by id.
pub(crate) type OrderKey = (Reverse<DateTime<Utc>>, SessionId);

/// What the catalog knows of one stored snapshot, beside its listing (in
/// `order`) or its error (in `unreadable`).
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// The store's stamp of the bytes it was read from (`None`: unknown).
    stamp: Option<u64>,
    /// When its read began (for the cache's check at the next start).
    read_at: SystemTime,
    /// The refresh that last saw it listed.
    seen: u64,
    /// Its order key's time, if readable.
    closed_at: Option<DateTime<Utc>>,
}

/// A change made by a save or a delete, waiting for a refresh to finish
/// (invariant 2): the snapshot's new listing, or `None` for a delete.
type Pending = (SessionId, Option<SnapshotInfo>);

/// The catalog's state, behind [`Catalog`]'s lock.
#[derive(Debug, Default)]
pub(crate) struct Index {
    entries: HashMap<SessionId, Entry, RandomState>,
    /// The readable entries' listings, in listing order (invariant 1).
    order: BTreeMap<OrderKey, SnapshotInfo>,
    /// The unreadable entries' errors.
    unreadable: BTreeMap<SessionId, LoadError>,
    /// The sessions with a journal, as of the last refresh.
    pub(crate) journals: HashSet<SessionId>,
    /// The current refresh (entries it did not see listed are dropped).
    generation: u64,
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
    /// unreadable cache, or one written under other settings than `codec`'s
    /// and `max_bytes` (or whose seal does not match), is no error: every
    /// snapshot is read instead.
    pub(crate) async fn read_cache(&self, index: &mut Index, codec: &Codec, max_bytes: u64) {
        if index.cache_read {
            return;
        }
        index.cache_read = true;
        let Some(path) = self.cache.clone() else {
            return;
        };
        let codec = codec.clone();
        let cached = tokio::task::spawn_blocking(move || read_cache(&path, &codec, max_bytes))
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
                let read_at = SystemTime::UNIX_EPOCH + Duration::from_nanos(entry.read_at);
                index.insert(entry.id, Some(entry.stamp), read_at, Ok(info));
            }
        }
    }

    /// Writes the cache file when enough snapshots were read since it was
    /// last written; a failure is logged (it is only a cache).
    pub(crate) async fn write_cache_if_due(
        &self,
        index: &mut Index,
        codec: &Codec,
        max_bytes: u64,
    ) {
        let Some(path) = self.cache.clone() else {
            return;
        };
        let due = CACHE_EVERY.max(index.entries.len() / 16);
        if index.reads_since_cache < due {
            return;
        }
        index.reads_since_cache = 0;
        let entries: Vec<CachedEntry> = index
            .order
            .values()
            .filter_map(|info| {
                let entry = index.entries.get(&info.id)?;
                Some(CachedEntry {
                    id: info.id,
                    stamp: entry.stamp?,
                    read_at: nanos_since_epoch(entry.read_at),
                    name: info.name.clone(),
                    project_path: info.project_path.clone(),
                    closed_at: info.closed_at,
                    messages: info.messages,
                })
            })
            .collect();
        let codec = codec.clone();
        let written =
            tokio::task::spawn_blocking(move || write_cache(&path, &entries, &codec, max_bytes))
                .await;
        if let Ok(Err(error)) | Err(error) = written.map_err(std::io::Error::other) {
            tracing::warn!(%error, "could not write the snapshot catalog's cache");
        }
    }
}

impl Index {
    /// Inserts or replaces the entry of `id`: its listing, or why it cannot
    /// be read; `stamp` and `read_at` as [`Entry`] says. Seen by the
    /// current refresh.
    pub(crate) fn insert(
        &mut self,
        id: SessionId,
        stamp: Option<u64>,
        read_at: SystemTime,
        read: Result<SnapshotInfo, LoadError>,
    ) {
        self.remove(id);
        let closed_at = match read {
            Ok(info) => {
                let closed_at = info.closed_at;
                self.order.insert((Reverse(closed_at), id), info);
                Some(closed_at)
            }
            Err(error) => {
                self.unreadable.insert(id, error);
                None
            }
        };
        let entry = Entry {
            stamp,
            read_at,
            seen: self.generation,
            closed_at,
        };
        self.entries.insert(id, entry);
    }

    /// Removes the entry of `id`, if any.
    pub(crate) fn remove(&mut self, id: SessionId) {
        if let Some(entry) = self.entries.remove(&id) {
            self.forget(id, entry);
        }
    }

    fn forget(&mut self, id: SessionId, entry: Entry) {
        match entry.closed_at {
            Some(closed_at) => {
                self.order.remove(&(Reverse(closed_at), id));
            }
            None => {
                self.unreadable.remove(&id);
            }
        }
    }

    fn apply(&mut self, id: SessionId, info: Option<SnapshotInfo>) {
        match info {
            Some(info) => self.insert(id, None, SystemTime::UNIX_EPOCH, Ok(info)),
            None => self.remove(id),
        }
    }

    /// Starts a refresh: entries not [`see`](Self::see)n by its end are
    /// dropped by [`drop_unseen`](Self::drop_unseen).
    pub(crate) fn begin_refresh(&mut self) {
        self.generation += 1;
    }

    /// The store lists `id` with `stamp`: whether its entry was read from
    /// those bytes (else it is to be read again).
    pub(crate) fn see(&mut self, id: SessionId, stamp: Option<u64>) -> bool {
        match self.entries.get_mut(&id) {
            Some(entry) => {
                entry.seen = self.generation;
                stamp.is_some() && entry.stamp == stamp
            }
            None => false,
        }
    }

    /// Drops the entries the store no longer lists.
    pub(crate) fn drop_unseen(&mut self) {
        let generation = self.generation;
        let mut gone = Vec::new();
        self.entries.retain(|id, entry| {
            let keep = entry.seen == generation;
            if !keep {
                gone.push((*id, *entry));
            }
            keep
        });
        for (id, entry) in gone {
            self.forget(id, entry);
        }
    }

    /// When the readable snapshot of `id` closed, as the catalog has it.
    pub(crate) fn closed_at(&self, id: SessionId) -> Option<DateTime<Utc>> {
        self.entries.get(&id)?.closed_at
    }

    /// Whether `id` has a readable snapshot.
    pub(crate) fn is_readable(&self, id: SessionId) -> bool {
        self.closed_at(id).is_some()
    }

    /// The readable snapshots' listings, newest first (reversed: oldest
    /// first).
    pub(crate) fn listings(&self) -> impl DoubleEndedIterator<Item = &SnapshotInfo> {
        self.order.values()
    }

    /// How many snapshots are readable.
    pub(crate) fn readable(&self) -> usize {
        self.order.len()
    }

    /// The unreadable snapshots, by id.
    pub(crate) fn unreadable(&self) -> impl Iterator<Item = (SessionId, &LoadError)> {
        self.unreadable.iter().map(|(id, error)| (*id, error))
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
        debug_assert_eq!(
            self.entries.len(),
            self.order.len() + self.unreadable.len(),
            "invariant 1: every entry listed or unreadable, once"
        );
        debug_assert!(
            self.order.iter().all(|((Reverse(closed_at), id), info)| {
                info.id == *id
                    && info.closed_at == *closed_at
                    && self
                        .entries
                        .get(id)
                        .is_some_and(|entry| entry.closed_at == Some(*closed_at))
            }),
            "invariant 1: a listing without its entry"
        );
        debug_assert!(
            self.unreadable.keys().all(|id| self
                .entries
                .get(id)
                .is_some_and(|entry| entry.closed_at.is_none())),
            "invariant 1: an error without its entry"
        );
    }
}

/// The cache file's format tag.
const CACHE_FORMAT: &str = "jido-snapshot-catalog-2";

/// The cache file's first line; its entries follow, as one JSON array.
#[derive(Serialize, Deserialize)]
struct CacheHeader {
    format: String,
    /// [`Codec::catalog_settings`] when it was written.
    settings: String,
    /// [`Codec::catalog_seal`] of the entries' bytes.
    seal: Option<String>,
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
fn read_cache(path: &Path, codec: &Codec, max_bytes: u64) -> Option<Vec<CachedEntry>> {
    use std::io::Read;
    let file =
        crate::file_store::open_regular(path, std::fs::OpenOptions::new().read(true)).ok()?;
    let mut bytes = Vec::new();
    file.take(MAX_CACHE_BYTES).read_to_end(&mut bytes).ok()?;
    let split = bytes.iter().position(|byte| *byte == b'\n')?;
    let (header, entries) = (&bytes[..split], &bytes[split + 1..]);
    let header: CacheHeader = serde_json::from_slice(header).ok()?;
    if header.format != CACHE_FORMAT
        || header.settings != codec.catalog_settings(max_bytes)
        || !codec.catalog_seal_matches(entries, header.seal.as_deref())
    {
        return None;
    }
    let entries: Vec<CachedEntry> = serde_json::from_slice(entries).ok()?;
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
    Some(entries.into_iter().filter(unchanged).collect())
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
fn write_cache(
    path: &Path,
    entries: &[CachedEntry],
    codec: &Codec,
    max_bytes: u64,
) -> std::io::Result<()> {
    use std::io::Write;
    let entries = serde_json::to_vec(entries)?;
    let header = serde_json::to_vec(&CacheHeader {
        format: CACHE_FORMAT.to_owned(),
        settings: codec.catalog_settings(max_bytes),
        seal: codec.catalog_seal(&entries),
    })?;
    let temporary = path.with_extension("json.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&temporary)?;
    file.write_all(&header)?;
    file.write_all(b"\n")?;
    file.write_all(&entries)?;
    drop(file);
    std::fs::rename(&temporary, path)
}
