//! [`SyncLog`]: group commit for [`Durability::Sync`](super::Durability::Sync)
//! across a directory's journals, in one file.
//!
//! Syncing the journals themselves costs a flush of every file written
//! meanwhile, scattered over the disk: with 64 sessions, about four times
//! what one `fdatasync` of the same bytes in one file costs (measured on
//! ext4: 1.5–2.2 ms against 0.4 ms per batch of 64 records). So a
//! synchronous append is written to its session's journal (`write(2)`, not
//! synced) and then, tagged with the session, to the directory's sync log
//! (`<dir>/sync.log`); one `fdatasync` of the log acknowledges every append
//! written before it began. The log is read only when a store is opened:
//! what it holds past the end of a journal (lost with the page cache, in a
//! power cut) is written back to that journal. When the log grows past its
//! bound, and before a journal it names is deleted, the journals it names
//! are synced and the log emptied.
//!
//! # The log
//!
//! A sequence of journal frames ([`encode`]) numbered from 1
//! since it was last emptied; each payload is a session id (16 bytes) and
//! the records of one append to that session's journal, each as its
//! sequence number (8 bytes, little-endian), its length (4 bytes) and its
//! payload. (Not the journal's frames themselves: a sound frame header
//! inside a torn entry would make the torn tail read as corruption.)
//!
//! # Invariants
//!
//! 1. Every entry of the log was written to its session's journal first: a
//!    program killed loses nothing the log has and the journals lack; the
//!    log matters only when the page cache is lost.
//! 2. An append is acknowledged only after an `fdatasync` of the log that
//!    began after its entry was written (its ticket is at most the count of
//!    entries written when the sync began).
//! 3. The log holds no entry of a session from before that session's
//!    journal was last deleted ([`SyncLog::forget`] empties the log first),
//!    so that opening the store never brings back a deleted journal.
//! 4. Entries are dropped (the log emptied) only after every journal they
//!    name is synced.
//! 5. One `SyncLog` per directory per process: its entries' numbers are one
//!    sequence, and it is emptied by one owner.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{self, Read as _, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Weak};

use jido_session::SessionId;
use tokio::sync::{OwnedMutexGuard, watch};

use super::{JournalError, MAX_PAYLOAD, Record, encode, read};
use crate::StoreError;
use crate::file_store::blocking;

/// The file name of a directory's sync log.
pub(crate) const SYNC_LOG: &str = "sync.log";

/// How large the log grows before it is emptied (its journals synced).
pub(crate) const DEFAULT_SYNC_LOG_BYTES: u64 = 8 * 1024 * 1024;

/// How many turns a sync's leader gives the appends under way at most
/// before it syncs.
const GATHER_TURNS: usize = 64;

/// The bytes of a session id in an entry.
const ID_LEN: usize = 16;

/// The sync logs this process has open, by directory (invariant 5).
static OPEN: LazyLock<parking_lot::Mutex<HashMap<PathBuf, Weak<SyncLog>>>> =
    LazyLock::new(|| parking_lot::Mutex::new(HashMap::new()));

/// One directory's sync log.
pub(crate) struct SyncLog {
    dir: PathBuf,
    /// The log, for syncing (the writer's file, shared).
    file: Arc<File>,
    /// Appends to the log, one at a time.
    writer: Arc<tokio::sync::Mutex<Writer>>,
    /// Entries written so far, ever (tickets; counted under `writer`).
    written: AtomicU64,
    /// Set while a sync of the log runs (by its leader).
    syncing: AtomicBool,
    /// Entries up to this ticket failed to sync: their appends fail.
    failed: AtomicU64,
    /// How many entries are durable: the appends waiting watch it.
    durable: watch::Sender<u64>,
    /// The bound past which the log is emptied.
    limit: u64,
}

struct Writer {
    /// The number of the next entry.
    next: u64,
    /// The log's length.
    len: u64,
    /// The sessions with an entry in the log.
    sessions: HashSet<SessionId>,
    /// A failed write could not be cut off, or a sync of the log failed
    /// (its pages may be gone, and a later sync would not say so): no
    /// entry is acknowledged until the log is emptied, its journals synced.
    poisoned: bool,
}

impl SyncLog {
    /// The sync log of `dir` for this process: shared if open already;
    /// otherwise opened, and what it holds past the end of a journal written
    /// back to that journal, then emptied.
    pub(crate) fn open(dir: &Path, limit: u64) -> io::Result<Arc<SyncLog>> {
        let dir = dir.canonicalize()?;
        let mut open = OPEN.lock();
        if let Some(log) = open.get(&dir).and_then(Weak::upgrade) {
            return Ok(log);
        }
        let path = dir.join(SYNC_LOG);
        let mut options = OpenOptions::new();
        options.read(true).append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = crate::file_store::open_regular(&path, &mut options)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        if !bytes.is_empty() {
            let named = write_back(&dir, &bytes)?;
            // Invariant 4: a journal not written back may still hold its
            // records only in the page cache (the program was killed, the
            // machine was not): synced before the log lets them go.
            sync_journals(&dir, &named).map_err(|error| io::Error::other(error.to_string()))?;
            file.set_len(0)?;
            file.sync_data()?;
        }
        let log = Arc::new(SyncLog {
            dir: dir.clone(),
            file: Arc::new(file),
            writer: Arc::new(tokio::sync::Mutex::new(Writer {
                next: 1,
                len: 0,
                sessions: HashSet::new(),
                poisoned: false,
            })),
            written: AtomicU64::new(0),
            syncing: AtomicBool::new(false),
            failed: AtomicU64::new(0),
            durable: watch::Sender::new(0),
            limit,
        });
        open.retain(|_, log| log.strong_count() > 0);
        open.insert(dir, Arc::downgrade(&log));
        Ok(log)
    }

    /// Whether an append of `frames` fits in one entry (one that does not
    /// is synced in its journal instead).
    pub(crate) fn fits(frames: &[u8]) -> bool {
        (frames.len() + ID_LEN) as u64 <= u64::from(MAX_PAYLOAD)
    }

    /// Writes the append `frames` of session `id` (already written to its
    /// journal: invariant 1) to the log, and returns once it is durable.
    pub(crate) async fn append(
        self: &Arc<Self>,
        id: SessionId,
        frames: &[u8],
    ) -> Result<(), StoreError> {
        let ticket = {
            let mut writer = Arc::clone(&self.writer).lock_owned().await;
            if writer.poisoned {
                // Emptied first: once the journals are synced, the log
                // starts afresh (numbered from 1 again).
                writer = self.empty(writer).await?;
            }
            let payload = entry_payload(id, frames)?;
            let mut entry = Vec::new();
            encode(writer.next, &payload, &mut entry).map_err(StoreError::Journal)?;
            if let Err(error) = (&*self.file).write_all(&entry) {
                // Whatever part of it was written is a torn tail no later
                // entry may follow: cut off, or no more entries.
                if self.file.set_len(writer.len).is_err() {
                    writer.poisoned = true;
                }
                return Err(StoreError::io("append to the sync log", &error));
            }
            writer.next += 1;
            writer.len = writer.len.saturating_add(entry.len() as u64);
            writer.sessions.insert(id);
            self.written.fetch_add(1, Ordering::AcqRel) + 1
        };
        self.synced(ticket).await
    }

    /// Returns once entry number `ticket` is durable (invariant 2). Whoever
    /// finds no sync running leads one, covering every entry written by
    /// then; the others wait for the durable count to move (all woken at
    /// once) and find themselves covered, or lead the next.
    async fn synced(self: &Arc<Self>, ticket: u64) -> Result<(), StoreError> {
        let mut durable = self.durable.subscribe();
        loop {
            if *durable.borrow_and_update() >= ticket {
                return Ok(());
            }
            if self.failed.load(Ordering::Acquire) >= ticket {
                return Err(StoreError::Io {
                    operation: "sync the sync log",
                    kind: None,
                    message: "a sync of the sync log failed".to_owned(),
                });
            }
            if self
                .syncing
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                let mut leading = Leading {
                    log: self,
                    durable: None,
                };
                let upto = self.gathered().await;
                let file = Arc::clone(&self.file);
                let synced = blocking("sync the sync log", move || {
                    file.sync_data()
                        .map_err(|error| StoreError::io("sync the sync log", &error))
                })
                .await;
                if let Err(error) = synced {
                    // Every entry not yet durable fails, now and until the
                    // log is emptied: a retried sync could succeed over
                    // pages the failed one lost.
                    self.failed
                        .store(self.written.load(Ordering::Acquire), Ordering::Release);
                    self.writer.lock().await.poisoned = true;
                    drop(leading);
                    return Err(error);
                }
                leading.durable = Some(upto);
                drop(leading);
                let writer = Arc::clone(&self.writer).lock_owned().await;
                if writer.len > self.limit
                    && let Err(error) = self.empty(writer).await
                {
                    // This append is durable: the log merely stays longer.
                    tracing::warn!(dir = %self.dir.display(), %error, "could not empty the sync log");
                }
                continue;
            }
            if durable.changed().await.is_err() {
                // Unreachable: `self` holds the sender.
                return Err(StoreError::Io {
                    operation: "sync the sync log",
                    kind: None,
                    message: "the sync log was closed".to_owned(),
                });
            }
        }
    }

    /// The count of entries written once the appends under way have had
    /// their turn (the leader yields while each turn brings more, up to
    /// [`GATHER_TURNS`]): with many sessions appending, one sync covers
    /// most of them instead of the first alone; with one, it costs a turn.
    async fn gathered(&self) -> u64 {
        let mut written = self.written.load(Ordering::Acquire);
        for _ in 0..GATHER_TURNS {
            tokio::task::yield_now().await;
            let now = self.written.load(Ordering::Acquire);
            if now == written {
                break;
            }
            written = now;
        }
        written
    }

    /// Deletes session `id`'s journal by `remove` (on the blocking pool),
    /// holding the log so that no entry of it is written meanwhile; if the
    /// log has an entry of it, the log is emptied first (invariant 3).
    pub(crate) async fn forget(
        self: &Arc<Self>,
        id: SessionId,
        remove: impl FnOnce() -> Result<(), StoreError> + Send + 'static,
    ) -> Result<(), StoreError> {
        let mut writer = Arc::clone(&self.writer).lock_owned().await;
        if writer.sessions.contains(&id) {
            writer = self.empty(writer).await?;
        }
        blocking("delete the journal", move || {
            let removed = remove();
            drop(writer);
            removed
        })
        .await
    }

    /// Syncs every journal the log names, then empties the log
    /// (invariant 4). Called holding `writer`, so that nothing is written
    /// meanwhile; a sync of the log running meanwhile acknowledges only
    /// entries whose journals are synced here or by it.
    async fn empty(
        self: &Arc<Self>,
        mut writer: OwnedMutexGuard<Writer>,
    ) -> Result<OwnedMutexGuard<Writer>, StoreError> {
        let log = Arc::clone(self);
        // The writer — and the log itself, so that no other `SyncLog` of
        // the directory can be opened meanwhile — held until the log is
        // emptied, even if the caller gives up waiting.
        blocking("empty the sync log", move || {
            let (dir, file) = (&log.dir, &log.file);
            sync_journals(dir, &writer.sessions)?;
            file.set_len(0)
                .and_then(|()| file.sync_data())
                .map_err(|error| StoreError::io("empty the sync log", &error))?;
            writer.sessions.clear();
            writer.next = 1;
            writer.len = 0;
            writer.poisoned = false;
            Ok(writer)
        })
        .await
    }
}

/// Syncs the journals of `sessions` in `dir`. On Linux, one `syncfs` of
/// the directory's file system (a fourth of what syncing 64 journals one by
/// one costs, measured on ext4); elsewhere, each journal.
fn sync_journals(dir: &Path, sessions: &HashSet<SessionId>) -> Result<(), StoreError> {
    #[cfg(target_os = "linux")]
    {
        let _ = sessions;
        let dir = File::open(dir).map_err(|error| StoreError::io("sync the journals", &error))?;
        rustix::fs::syncfs(&dir).map_err(|errno| StoreError::io("sync the journals", &errno.into()))
    }
    #[cfg(not(target_os = "linux"))]
    {
        for &id in sessions {
            match File::open(super::file::path_of(dir, id)) {
                Ok(journal) => journal
                    .sync_data()
                    .map_err(|error| StoreError::io("sync a journal", &error))?,
                // Deleted meanwhile by hand: nothing to keep.
                Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                Err(error) => return Err(StoreError::io("sync a journal", &error)),
            }
        }
        // Journals created meanwhile: their names too.
        File::open(dir)
            .and_then(|dir| dir.sync_all())
            .map_err(|error| StoreError::io("sync the journals", &error))
    }
}

/// The leader of a sync of the log, until dropped (also when its caller
/// gives up waiting): then no sync runs, and the waiters are woken — after
/// the flag is cleared, so that one that found the sync running leads the
/// next — with the durable count moved to what it made durable.
struct Leading<'a> {
    log: &'a SyncLog,
    durable: Option<u64>,
}

impl Drop for Leading<'_> {
    fn drop(&mut self) {
        self.log.syncing.store(false, Ordering::Release);
        let made = self.durable;
        self.log.durable.send_modify(|durable| {
            if let Some(made) = made {
                *durable = (*durable).max(made);
            }
        });
    }
}

/// Writes back to each journal what the log `bytes` hold past its end
/// (synced), and returns every session the log names. A journal that
/// cannot take its records — it reads as corrupt, or the log's records do
/// not follow its last one — is left as it is and the log kept aside
/// (`sync.log.unapplied-<uuid>`, reported), so that one damaged journal
/// neither stops the store from opening nor loses what the log held.
fn write_back(dir: &Path, bytes: &[u8]) -> io::Result<HashSet<SessionId>> {
    let invalid = |error: JournalError| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "the sync log {} is corrupt: {error}",
                dir.join(SYNC_LOG).display()
            ),
        )
    };
    // A torn last entry was never acknowledged: dropped.
    let log = read(bytes).map_err(invalid)?;
    let mut appends: HashMap<SessionId, Vec<Record>> = HashMap::new();
    let mut order = Vec::new();
    for entry in log.records {
        let (id, frames) = entry.payload.split_at(ID_LEN.min(entry.payload.len()));
        let id = <[u8; ID_LEN]>::try_from(id)
            .ok()
            .and_then(|id| SessionId::from_uuid(uuid::Uuid::from_bytes(id)).ok())
            .ok_or_else(|| {
                invalid(JournalError::Payload {
                    seq: entry.seq,
                    reason: "no session id".to_owned(),
                })
            })?;
        let records = records_of(frames).ok_or_else(|| {
            invalid(JournalError::Payload {
                seq: entry.seq,
                reason: "a record cut short".to_owned(),
            })
        })?;
        if !appends.contains_key(&id) {
            order.push(id);
        }
        appends.entry(id).or_default().extend(records);
    }
    let named: HashSet<SessionId> = order.iter().copied().collect();
    let mut created = false;
    let mut unapplied = false;
    for id in order {
        let path = super::file::path_of(dir, id);
        created |= !path.exists();
        let records = appends.remove(&id).unwrap_or_default();
        if let Err(reason) = write_back_one(&path, records) {
            tracing::error!(%id, %reason, "could not write the sync log back to a journal; the log is kept aside");
            unapplied = true;
        }
    }
    if created {
        File::open(dir)?.sync_all()?;
    }
    if unapplied {
        let aside = dir.join(format!(
            "{SYNC_LOG}.unapplied-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let mut kept = File::create(&aside)?;
        kept.write_all(bytes)?;
        kept.sync_all()?;
        File::open(dir)?.sync_all()?;
    }
    Ok(named)
}

/// Appends to the journal at `path` those of `records` past its last one,
/// if they follow it (or it is empty: cut at a checkpoint), and syncs it.
fn write_back_one(path: &Path, records: Vec<Record>) -> Result<(), String> {
    let (mut journal, held) =
        super::file::open_recovered(path, true).map_err(|error| error.to_string())?;
    let last = held.records.last().map_or(0, |record| record.seq);
    let mut missing = Vec::new();
    let mut expected = None;
    for record in records.into_iter().filter(|record| record.seq > last) {
        let next = expected.unwrap_or(if last == 0 { record.seq } else { last + 1 });
        if record.seq != next {
            return Err(format!(
                "the log's record {} does not follow the journal's {}",
                record.seq,
                next - 1
            ));
        }
        expected = Some(next + 1);
        encode(record.seq, &record.payload, &mut missing).map_err(|error| error.to_string())?;
    }
    if !missing.is_empty() {
        tracing::warn!(path = %path.display(), bytes = missing.len(), "writing back to a journal what the sync log held past its end");
        journal
            .write_all(&missing)
            .and_then(|()| journal.sync_data())
            .map_err(|error| error.to_string())?;
    }
    Ok(())
}

/// The payload of an entry: `id`, then each record of the append `frames`.
fn entry_payload(id: SessionId, frames: &[u8]) -> Result<Vec<u8>, StoreError> {
    let appended = read(frames).map_err(StoreError::Journal)?;
    if appended.torn.is_some() {
        return Err(StoreError::Journal(JournalError::Payload {
            seq: appended.records.last().map_or(0, |record| record.seq),
            reason: "an append of a partial record".to_owned(),
        }));
    }
    let mut payload = Vec::with_capacity(ID_LEN + frames.len());
    payload.extend_from_slice(id.as_uuid().as_bytes());
    for record in appended.records {
        payload.extend_from_slice(&record.seq.to_le_bytes());
        // At most MAX_PAYLOAD: read refuses longer.
        let len = u32::try_from(record.payload.len()).unwrap_or(u32::MAX);
        payload.extend_from_slice(&len.to_le_bytes());
        payload.extend_from_slice(&record.payload);
    }
    Ok(payload)
}

/// The records an entry's payload holds after its id; `None` if one is cut
/// short.
fn records_of(mut bytes: &[u8]) -> Option<Vec<Record>> {
    let mut records = Vec::new();
    while !bytes.is_empty() {
        let seq = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?);
        let len = u32::from_le_bytes(bytes.get(8..12)?.try_into().ok()?) as usize;
        let payload = bytes.get(12..12 + len)?.to_vec();
        records.push(Record { seq, payload });
        bytes = &bytes[12 + len..];
    }
    Some(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_append_that_does_not_fit_one_entry_is_told() {
        assert!(SyncLog::fits(&[0; 100]));
        assert!(!SyncLog::fits(&vec![0; MAX_PAYLOAD as usize]));
    }

    #[test]
    fn an_entry_holds_the_records_of_its_append() {
        let id = SessionId::new();
        let mut frames = Vec::new();
        encode(7, b"seven", &mut frames).unwrap();
        encode(8, b"", &mut frames).unwrap();
        let payload = entry_payload(id, &frames).unwrap();
        assert_eq!(&payload[..ID_LEN], id.as_uuid().as_bytes());
        let records = records_of(&payload[ID_LEN..]).unwrap();
        assert_eq!(
            records,
            vec![
                Record {
                    seq: 7,
                    payload: b"seven".to_vec()
                },
                Record {
                    seq: 8,
                    payload: Vec::new()
                },
            ]
        );
        assert_eq!(records_of(&payload[ID_LEN..payload.len() - 1]), None);
        assert!(entry_payload(id, &frames[..frames.len() - 1]).is_err());
    }

    #[test]
    fn one_log_per_directory_per_process() {
        let dir = tempfile::tempdir().unwrap();
        let a = SyncLog::open(dir.path(), DEFAULT_SYNC_LOG_BYTES).unwrap();
        let b = SyncLog::open(dir.path(), DEFAULT_SYNC_LOG_BYTES).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert!(dir.path().join(SYNC_LOG).exists());
    }
}
