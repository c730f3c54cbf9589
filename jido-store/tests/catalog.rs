//! Issue 24: listing through the catalog, which reads only what changed.
//!
//! - **the catalog never lies**: any sequence of saves, deletes, and
//!   changes made behind its back (another store object on the directory
//!   writing, deleting, corrupting or copying files; the program restarted
//!   from the cache file, or with a stale cache file), and every listing —
//!   whole or a page — equals a listing that reads every snapshot;
//! - **the cap**: past `keep_at_most`, the oldest closed sessions go, never
//!   an open, pinned or interrupted one;
//! - **cleanup** deletes what is old, counts what it keeps.

use std::collections::HashMap;
use std::fs;
use std::num::NonZeroUsize;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use jido_session::{Conversation, Message, Role, Session, SessionId};
use jido_store::journal::{Durability, Entry};
use jido_store::{FileStore, Listing, Persistence, Skipped, Snapshot};
use proptest::prelude::*;
use tempfile::TempDir;

/// A pool of projects (one session each), and a store directory.
struct World {
    store: TempDir,
    projects: Vec<TempDir>,
    sessions: Vec<Session>,
}

impl World {
    fn new(size: usize) -> Self {
        let projects: Vec<TempDir> = (0..size).map(|_| tempfile::tempdir().unwrap()).collect();
        let sessions = projects
            .iter()
            .map(|project| Session::new(project.path()).unwrap())
            .collect();
        World {
            store: tempfile::tempdir().unwrap(),
            projects,
            sessions,
        }
    }

    fn persistence(&self) -> Persistence {
        Persistence::in_dir(self.store.path()).unwrap()
    }

    /// Another store object on the same directory, with a catalog of its
    /// own and no cache: what changes files behind the first's back, and
    /// what reads every snapshot (the reference listing).
    fn stranger(&self) -> Persistence {
        Persistence::new(FileStore::new(self.store.path()).unwrap())
    }

    fn snapshot(&self, k: usize, minute: u32, messages: usize) -> Snapshot {
        let mut conversation = Conversation::default();
        for n in 0..messages {
            conversation.push_message(Message::new(Role::User, n.to_string()));
        }
        let mut snapshot = Snapshot::of(&self.sessions[k], conversation);
        snapshot.closed_at = Utc.with_ymd_and_hms(2026, 1, 1, 0, minute, 0).unwrap();
        snapshot
    }

    fn file(&self, k: usize) -> std::path::PathBuf {
        FileStore::new(self.store.path())
            .unwrap()
            .path_of(self.sessions[k].id())
    }
}

#[derive(Debug, Clone)]
enum Op {
    Save {
        k: usize,
        minute: u32,
        messages: usize,
    },
    Delete(usize),
    /// Saved by another store object: the catalog did not see it.
    SaveBehind {
        k: usize,
        minute: u32,
        messages: usize,
    },
    DeleteBehind(usize),
    /// Replaced by bytes that are no snapshot.
    Corrupt(usize),
    /// Edited in place (the same file): seen from the next start on.
    EditInPlace(usize),
    /// Another session's snapshot copied over this one's file.
    CopyOver {
        from: usize,
        to: usize,
    },
    /// The program restarts: a new store object, from the cache file.
    Restart,
    /// The cache file replaced by an old copy of it.
    StaleCache,
    List {
        offset: usize,
        limit: usize,
    },
}

fn op(size: usize) -> impl Strategy<Value = Op> {
    let k = 0..size;
    prop_oneof![
        6 => (k.clone(), 0_u32..60, 0_usize..3)
            .prop_map(|(k, minute, messages)| Op::Save { k, minute, messages }),
        2 => k.clone().prop_map(Op::Delete),
        3 => (k.clone(), 0_u32..60, 0_usize..3)
            .prop_map(|(k, minute, messages)| Op::SaveBehind { k, minute, messages }),
        1 => k.clone().prop_map(Op::DeleteBehind),
        1 => k.clone().prop_map(Op::Corrupt),
        1 => k.clone().prop_map(Op::EditInPlace),
        1 => (k.clone(), k.clone()).prop_map(|(from, to)| Op::CopyOver { from, to }),
        1 => Just(Op::Restart),
        1 => Just(Op::StaleCache),
        3 => (0_usize..4, 1_usize..4).prop_map(|(offset, limit)| Op::List { offset, limit }),
    ]
}

/// What a listing says, comparable: the shown sessions in order, the total
/// and the unreadable ids.
fn seen(listing: &Listing) -> (Vec<(SessionId, String, usize)>, usize, Vec<SessionId>) {
    (
        listing
            .snapshots
            .iter()
            .map(|info| (info.id, info.closed_at.to_rfc3339(), info.messages))
            .collect(),
        listing.total,
        listing.unreadable.iter().map(|(id, _)| *id).collect(),
    )
}

fn cases() -> u32 {
    std::env::var("JIDO_CATALOG_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(48)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn a_listing_through_the_catalog_equals_one_that_reads_every_snapshot(
        ops in prop::collection::vec(op(5), 1..30),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let world = World::new(5);
            let mut persistence = world.persistence();
            let mut old_cache: Option<Vec<u8>> = None;
            let cache = world.store.path().join("catalog.v1.json");
            for op in &ops {
                match *op {
                    Op::Save { k, minute, messages } => {
                        persistence.save(&world.snapshot(k, minute, messages)).await.unwrap();
                    }
                    Op::Delete(k) => persistence.delete(world.sessions[k].id()).await.unwrap(),
                    Op::SaveBehind { k, minute, messages } => {
                        world.stranger().save(&world.snapshot(k, minute, messages)).await.unwrap();
                    }
                    Op::DeleteBehind(k) => {
                        world.stranger().delete(world.sessions[k].id()).await.unwrap();
                    }
                    Op::Corrupt(k) => {
                        let temporary = world.store.path().join("torn.tmp");
                        fs::write(&temporary, b"{ torn").unwrap();
                        fs::rename(&temporary, world.file(k)).unwrap();
                    }
                    Op::EditInPlace(k) => {
                        if world.file(k).exists() {
                            fs::OpenOptions::new()
                                .write(true)
                                .open(world.file(k))
                                .unwrap()
                                .set_len(5)
                                .unwrap();
                        }
                        drop(persistence);
                        persistence = world.persistence();
                    }
                    Op::CopyOver { from, to } => {
                        if from != to && world.file(from).exists() {
                            // A new file renamed over: the way a save replaces it.
                            let temporary = world.store.path().join("copy.tmp");
                            fs::copy(world.file(from), &temporary).unwrap();
                            fs::rename(&temporary, world.file(to)).unwrap();
                        }
                    }
                    Op::Restart => {
                        drop(persistence);
                        persistence = world.persistence();
                    }
                    Op::StaleCache => {
                        if let Some(old) = &old_cache {
                            fs::write(&cache, old).unwrap();
                            drop(persistence);
                            persistence = world.persistence();
                        }
                        old_cache = fs::read(&cache).ok();
                    }
                    Op::List { offset, limit } => {
                        let page = persistence.list_page(offset, limit).await.unwrap();
                        let reference = world.stranger().list_page(offset, limit).await.unwrap();
                        prop_assert_eq!(seen(&page), seen(&reference), "{:?}", op);
                    }
                }
                let listing = persistence.list().await.unwrap();
                let reference = world.stranger().list().await.unwrap();
                prop_assert_eq!(seen(&listing), seen(&reference), "after {:?}", op);
            }
            drop(world.projects);
            Ok(())
        })?;
    }
}

/// Many snapshots: enough for the cache file to be written, and read back
/// by the next store object with no snapshot read again.
#[tokio::test]
async fn the_cache_file_carries_the_catalog_to_the_next_run() {
    let world = World::new(300);
    let persistence = world.persistence();
    for k in 0..300 {
        persistence
            .save(&world.snapshot(k, (k % 60) as u32, 0))
            .await
            .unwrap();
    }
    assert_eq!(persistence.list().await.unwrap().total, 300);
    let cache = world.store.path().join("catalog.v1.json");
    assert!(cache.exists(), "300 snapshots read: the cache is written");
    drop(persistence);

    // Every snapshot made unreadable behind the catalog's back, in place
    // (same inodes) and with a modification time from before it was read:
    // a listing from the cache reads none of them.
    let before = std::time::SystemTime::now() - Duration::from_secs(60);
    for k in 0..300 {
        let file = fs::OpenOptions::new()
            .write(true)
            .open(world.file(k))
            .unwrap();
        file.set_len(3).unwrap();
        file.set_modified(before).unwrap();
    }
    let again = world.persistence();
    let listing = again.list().await.unwrap();
    assert_eq!(listing.total, 300);
    assert!(listing.unreadable.is_empty(), "read from the cache");
    drop(again);

    // Edited since it was read (a modification time after): read again.
    let file = fs::OpenOptions::new()
        .write(true)
        .open(world.file(7))
        .unwrap();
    file.set_modified(std::time::SystemTime::now()).unwrap();
    let third = world.persistence();
    let listing = third.list().await.unwrap();
    assert_eq!(listing.total, 299);
    assert_eq!(listing.unreadable.len(), 1);
    assert_eq!(listing.unreadable[0].0, world.sessions[7].id());
}

async fn saved(world: &World, persistence: &Persistence, minutes: &[u32]) -> Vec<SessionId> {
    let mut ids = Vec::new();
    for (k, minute) in minutes.iter().enumerate() {
        persistence
            .save(&world.snapshot(k, *minute, 0))
            .await
            .unwrap();
        ids.push(world.sessions[k].id());
    }
    ids
}

#[tokio::test]
async fn past_the_cap_the_oldest_closed_go_never_an_open_pinned_or_interrupted_one() {
    let world = World::new(7);
    let cap = NonZeroUsize::new(3).unwrap();
    let persistence = world.persistence().keep_at_most(cap);
    // Oldest first: 0 (open), 1 (pinned), 2 (interrupted), 3 (journaled),
    // 4, 5, 6.
    let ids = saved(&world, &persistence, &[1, 2, 3, 4, 5, 6, 7]).await;
    let pinned = persistence.pin(ids[1]).await;
    let journal = persistence.journal().unwrap();
    let mut frames = Vec::new();
    let snapshot = persistence.load(ids[2]).await.unwrap();
    let entry = Entry::Change(jido_session::Change::Prompt("more".into()));
    jido_store::journal::encode(1, &entry.to_payload(), &mut frames).unwrap();
    journal
        .append(ids[2], frames, 1, Durability::Os)
        .await
        .unwrap();
    drop(snapshot);
    // 3: saved covering its journal's one record (a journal a stop could
    // not cut): not interrupted, but journaled — spared too.
    let covered = world.snapshot(3, 4, 0).covering(1);
    persistence.save(&covered).await.unwrap();
    let mut frames = Vec::new();
    jido_store::journal::encode(1, &entry.to_payload(), &mut frames).unwrap();
    journal
        .append(ids[3], frames, 1, Durability::Os)
        .await
        .unwrap();
    let open = ids[0];

    let report = persistence.enforce_cap(&|id| id == open).await.unwrap();
    // 7 listed, cap 3: four to go, but four are spared; 4, 5, 6 go.
    assert_eq!(report.deleted, [ids[4], ids[5], ids[6]]);
    assert!(report.failed.is_empty());
    assert_eq!(report.kept, 4);
    let listing = persistence.list().await.unwrap();
    assert!(
        listing
            .snapshots
            .iter()
            .any(|info| info.id == ids[2] && info.interrupted)
    );
    assert!(
        listing
            .snapshots
            .iter()
            .any(|info| info.id == ids[3] && !info.interrupted)
    );
    let left: Vec<SessionId> = persistence
        .list()
        .await
        .unwrap()
        .snapshots
        .iter()
        .map(|info| info.id)
        .collect();
    assert_eq!(left.len(), 4);
    for spared in [ids[0], ids[1], ids[2], ids[3]] {
        assert!(left.contains(&spared), "{spared} spared");
    }
    drop(pinned);
    // Unpinned, the pinned one is the oldest closed past the cap now.
    let report = persistence.enforce_cap(&|id| id == open).await.unwrap();
    assert_eq!(report.deleted, [ids[1]]);

    // Without a cap, nothing is deleted.
    let uncapped = world.stranger();
    assert!(
        uncapped
            .enforce_cap(&|_| false)
            .await
            .unwrap()
            .deleted
            .is_empty()
    );
}

#[tokio::test]
async fn cleanup_spares_the_open_and_refuses_a_zero_age() {
    let world = World::new(3);
    let persistence = world.persistence();
    let ids = saved(&world, &persistence, &[1, 2, 3]).await;
    let now = Utc.with_ymd_and_hms(2026, 1, 2, 0, 0, 0).unwrap();
    assert_eq!(
        persistence.cleanup_at(Duration::ZERO, now).await,
        Err(jido_store::CleanupError::ZeroMaxAge)
    );
    let open = ids[1];
    let report = persistence
        .cleanup_sparing(Duration::from_secs(60), &|id| id == open)
        .await
        .unwrap();
    // Every one is older than a minute (they closed in January 2026).
    assert_eq!(report.deleted, [ids[0], ids[2]]);
    assert_eq!(report.skipped, [(open, Skipped::Open)]);
    assert_eq!(report.kept, 1);
    let counts: HashMap<SessionId, usize> = persistence
        .list()
        .await
        .unwrap()
        .snapshots
        .iter()
        .map(|info| (info.id, info.messages))
        .collect();
    assert_eq!(counts.keys().copied().collect::<Vec<_>>(), [open]);
}

/// Review of issue 24: a cache written under one key is not read under
/// another — the snapshots are read, and refused.
#[cfg(feature = "signing")]
#[tokio::test]
async fn a_cache_written_under_another_key_is_not_read() {
    let world = World::new(300);
    let signed = world.persistence().signed_with(b"first key");
    for k in 0..300 {
        signed.save(&world.snapshot(k, 1, 0)).await.unwrap();
    }
    assert_eq!(signed.list().await.unwrap().total, 300);
    drop(signed);
    assert!(world.store.path().join("catalog.v1.json").exists());
    age_files(&world, 300);

    let other = world.persistence().signed_with(b"another key");
    let listing = other.list().await.unwrap();
    assert_eq!(listing.total, 0);
    assert_eq!(listing.unreadable.len(), 300);
    assert!(
        listing
            .unreadable
            .iter()
            .all(|(_, error)| matches!(error, jido_store::LoadError::BadSignature { .. }))
    );
    // And a cache edited by hand is not read either.
    drop(other);
    let cache = world.store.path().join("catalog.v1.json");
    let same = world.persistence().signed_with(b"first key");
    assert_eq!(same.list().await.unwrap().total, 300);
    drop(same);
    let text = fs::read_to_string(&cache).unwrap();
    // Unedited, it is read (the control for what follows).
    let control = world.persistence().signed_with(b"first key");
    assert_eq!(control.list().await.unwrap().total, 300);
    drop(control);
    fs::write(&cache, text.replacen("\"messages\":0", "\"messages\":9", 1)).unwrap();
    let listing = world
        .persistence()
        .signed_with(b"first key")
        .list()
        .await
        .unwrap();
    assert!(listing.snapshots.iter().all(|info| info.messages == 0));
}

/// A file store with faults: each snapshot's first read fails (an I/O
/// error, not the bytes' fault), or batch deletions wait forever once
/// entered (to cancel a cleanup in the middle of them).
struct Faulty {
    inner: FileStore,
    fail_first_reads: bool,
    failed: std::sync::Mutex<std::collections::HashSet<SessionId>>,
    stuck_deletes: bool,
    /// Notified when a batch deletion is entered.
    entered: tokio::sync::Notify,
}

impl Faulty {
    fn on(world: &World) -> Self {
        Faulty {
            inner: FileStore::new(world.store.path()).unwrap(),
            fail_first_reads: false,
            failed: Default::default(),
            stuck_deletes: false,
            entered: tokio::sync::Notify::new(),
        }
    }
}

#[async_trait::async_trait]
impl jido_store::SnapshotStore for Faulty {
    async fn put(&self, id: SessionId, bytes: Vec<u8>) -> Result<(), jido_store::StoreError> {
        self.inner.put(id, bytes).await
    }
    async fn get(
        &self,
        id: SessionId,
        max_bytes: u64,
    ) -> Result<Option<Vec<u8>>, jido_store::StoreError> {
        if self.fail_first_reads && self.failed.lock().unwrap().insert(id) {
            return Err(jido_store::StoreError::Timeout {
                operation: "read the snapshot",
            });
        }
        self.inner.get(id, max_bytes).await
    }
    async fn list(&self) -> Result<Vec<SessionId>, jido_store::StoreError> {
        self.inner.list().await
    }
    async fn delete(&self, id: SessionId) -> Result<(), jido_store::StoreError> {
        self.inner.delete(id).await
    }
    async fn list_stamped(&self) -> Result<Vec<(SessionId, Option<u64>)>, jido_store::StoreError> {
        self.inner.list_stamped().await
    }
    async fn delete_many(&self, ids: &[SessionId]) -> Vec<(SessionId, jido_store::StoreError)> {
        if self.stuck_deletes {
            self.entered.notify_one();
            std::future::pending::<()>().await;
        }
        self.inner.delete_many(ids).await
    }
}

/// Review of issue 24: a read that failed for a passing reason is tried
/// again at the next listing, not kept as unreadable.
#[tokio::test]
async fn a_passing_read_failure_is_tried_again() {
    let world = World::new(1);
    world
        .stranger()
        .save(&world.snapshot(0, 1, 2))
        .await
        .unwrap();
    let flaky = Persistence::new(Faulty {
        fail_first_reads: true,
        ..Faulty::on(&world)
    });
    let first = flaky.list().await.unwrap();
    assert_eq!((first.total, first.unreadable.len()), (0, 1));
    let second = flaky.list().await.unwrap();
    assert_eq!((second.total, second.unreadable.len()), (1, 0));
}

/// Review of issue 24: pins hold across the handles of one process on one
/// directory, and a journaled session that is not interrupted is spared by
/// age.
#[tokio::test]
async fn pins_hold_across_handles_and_age_spares_a_journaled_session() {
    let world = World::new(3);
    let first = world.persistence();
    let second = world.persistence();
    let ids = saved(&world, &first, &[1, 2, 3]).await;
    let _pinned = first.pin(ids[0]).await;
    // 1: its journal's one record is covered by its snapshot.
    first
        .save(&world.snapshot(1, 2, 0).covering(1))
        .await
        .unwrap();
    let mut frames = Vec::new();
    let entry = Entry::Change(jido_session::Change::Prompt("more".into()));
    jido_store::journal::encode(1, &entry.to_payload(), &mut frames).unwrap();
    first
        .journal()
        .unwrap()
        .append(ids[1], frames, 1, Durability::Os)
        .await
        .unwrap();

    let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
    let report = second
        .cleanup_at(Duration::from_secs(60), now)
        .await
        .unwrap();
    assert_eq!(report.deleted, [ids[2]]);
    assert!(
        report.skipped.contains(&(ids[0], Skipped::Open)),
        "pinned through the other handle"
    );
    assert!(
        report.skipped.contains(&(ids[1], Skipped::Open)),
        "journaled"
    );
}

/// Review of issue 24: a cleanup dropped in the middle of its deletions
/// leaves nothing marked: a pin of what it was deleting does not wait.
#[tokio::test]
async fn a_cleanup_dropped_half_way_leaves_nothing_marked() {
    let world = World::new(1);
    world
        .stranger()
        .save(&world.snapshot(0, 1, 0))
        .await
        .unwrap();
    let store = std::sync::Arc::new(Faulty {
        stuck_deletes: true,
        ..Faulty::on(&world)
    });
    let persistence = Persistence::from_store(store.clone());
    let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
    let cleanup = tokio::spawn({
        let persistence = persistence.clone();
        async move { persistence.cleanup_at(Duration::from_secs(60), now).await }
    });
    store.entered.notified().await;
    cleanup.abort();
    assert!(cleanup.await.unwrap_err().is_cancelled());
    // Bounded, so that a regression fails instead of hanging.
    let pinned = tokio::time::timeout(
        Duration::from_secs(30),
        persistence.pin(world.sessions[0].id()),
    )
    .await;
    assert!(
        pinned.is_ok(),
        "the pin waited for a deletion that had been dropped"
    );
}

/// Review of issue 24: nor is a cache written under another size limit.
#[tokio::test]
async fn a_cache_written_under_another_size_limit_is_not_read() {
    let world = World::new(300);
    let persistence = world.persistence();
    for k in 0..300 {
        persistence.save(&world.snapshot(k, 1, 0)).await.unwrap();
    }
    assert_eq!(persistence.list().await.unwrap().total, 300);
    drop(persistence);
    age_files(&world, 300);
    let strict = world.persistence().max_snapshot_bytes(10);
    let listing = strict.list().await.unwrap();
    assert_eq!((listing.total, listing.unreadable.len()), (0, 300));
}

/// Sets the modification time of the first `count` snapshots a minute back:
/// the cache's entries, read since, pass its check against the files.
fn age_files(world: &World, count: usize) {
    let before = std::time::SystemTime::now() - Duration::from_secs(60);
    for k in 0..count {
        let file = fs::OpenOptions::new()
            .write(true)
            .open(world.file(k))
            .unwrap();
        file.set_modified(before).unwrap();
    }
}
