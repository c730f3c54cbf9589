//! The sync log: synchronous appends acknowledged by one `fdatasync` of one
//! file. What it holds past the end of a journal — the journal's unsynced
//! tail, lost in a power cut (simulated: the journal cut at every byte
//! offset, or gone) — is written back when the store is opened; its own
//! torn last entry is dropped; it never brings back a deleted journal; it
//! stays within its bound.

use std::fs;
use std::path::Path;

use jido_session::SessionId;
use jido_store::journal::{self, Durability, FileJournal, JournalStore};

fn frame(seq: u64, payload: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::new();
    journal::encode(seq, payload, &mut bytes).unwrap();
    bytes
}

fn payload(seq: u64) -> Vec<u8> {
    format!("change {seq}").into_bytes()
}

/// Appends records `from..=to` to `id`'s journal, one synchronous append
/// each, and returns the journal's length before each append.
async fn append_sync(journals: &FileJournal, id: SessionId, from: u64, to: u64) -> Vec<u64> {
    let mut lengths = Vec::new();
    for seq in from..=to {
        lengths.push(fs::metadata(journals.path_of(id)).map_or(0, |m| m.len()));
        journals
            .append(id, frame(seq, &payload(seq)), seq, Durability::Sync)
            .await
            .unwrap();
    }
    lengths
}

async fn seqs(journals: &FileJournal, id: SessionId) -> Vec<u64> {
    let read = journals.recover(id).await.unwrap();
    for record in &read.records {
        assert_eq!(record.payload, payload(record.seq));
    }
    read.records.iter().map(|record| record.seq).collect()
}

fn cut(path: &Path, len: u64) {
    fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len)
        .unwrap();
}

#[tokio::test]
async fn a_journal_that_lost_its_unsynced_tail_is_written_back_whole_at_every_offset() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (SessionId::new(), SessionId::new());
    let journals = FileJournal::new(dir.path()).unwrap();
    append_sync(&journals, a, 1, 12).await;
    append_sync(&journals, b, 1, 3).await;
    let (path_a, path_b) = (journals.path_of(a), journals.path_of(b));
    drop(journals);
    let (whole_a, whole_b) = (fs::read(&path_a).unwrap(), fs::read(&path_b).unwrap());
    let log = fs::read(dir.path().join("sync.log")).unwrap();
    assert!(
        !log.is_empty(),
        "the acknowledged appends are in the sync log"
    );

    for offset in 0..=whole_a.len() as u64 {
        // The power went: a's journal kept `offset` bytes, b's none.
        fs::write(&path_a, &whole_a).unwrap();
        cut(&path_a, offset);
        fs::remove_file(&path_b).unwrap();
        fs::write(dir.path().join("sync.log"), &log).unwrap();

        let journals = FileJournal::new(dir.path()).unwrap();
        assert_eq!(
            seqs(&journals, a).await,
            (1..=12).collect::<Vec<_>>(),
            "cut at {offset}"
        );
        assert_eq!(seqs(&journals, b).await, [1, 2, 3], "cut at {offset}");
        assert_eq!(fs::read(&path_a).unwrap(), whole_a, "cut at {offset}");
        assert_eq!(fs::read(&path_b).unwrap(), whole_b);
        assert_eq!(fs::metadata(dir.path().join("sync.log")).unwrap().len(), 0);
        // Appends go on after the written-back records.
        append_sync(&journals, a, 13, 13).await;
        assert_eq!(seqs(&journals, a).await.last(), Some(&13));
        drop(journals);
    }
}

#[tokio::test]
async fn a_torn_last_entry_of_the_sync_log_was_never_acknowledged_and_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let id = SessionId::new();
    let journals = FileJournal::new(dir.path()).unwrap();
    let lengths = append_sync(&journals, id, 1, 5).await;
    let path = journals.path_of(id);
    drop(journals);
    let whole = fs::read(&path).unwrap();
    let log = fs::read(dir.path().join("sync.log")).unwrap();
    // The last entry: the bytes written after the log held four.
    let entry = (log.len() - (log.len() / 5))..log.len();
    for offset in entry {
        // Power cut mid-append 5: the journal lost it, the log tore it.
        fs::write(&path, &whole[..lengths[4] as usize]).unwrap();
        fs::write(dir.path().join("sync.log"), &log[..offset]).unwrap();
        let journals = FileJournal::new(dir.path()).unwrap();
        assert_eq!(
            seqs(&journals, id).await,
            [1, 2, 3, 4],
            "log cut at {offset}"
        );
        drop(journals);
    }
}

#[tokio::test]
async fn a_deleted_journal_is_not_brought_back_by_the_sync_log() {
    let dir = tempfile::tempdir().unwrap();
    let (gone, kept) = (SessionId::new(), SessionId::new());
    let journals = FileJournal::new(dir.path()).unwrap();
    append_sync(&journals, gone, 1, 4).await;
    append_sync(&journals, kept, 1, 2).await;
    journals.delete(gone).await.unwrap();
    drop(journals);

    let journals = FileJournal::new(dir.path()).unwrap();
    assert_eq!(journals.list().await.unwrap(), vec![kept]);
    assert!(seqs(&journals, gone).await.is_empty());
    assert_eq!(seqs(&journals, kept).await, [1, 2]);
    // After a cut, the numbering goes on in a new journal.
    append_sync(&journals, gone, 5, 6).await;
    drop(journals);
    let journals = FileJournal::new(dir.path()).unwrap();
    assert_eq!(seqs(&journals, gone).await, [5, 6]);
}

#[tokio::test]
async fn the_sync_log_is_emptied_past_its_bound() {
    let dir = tempfile::tempdir().unwrap();
    let id = SessionId::new();
    let bound = 1024;
    let journals = FileJournal::with_sync_log_bytes(dir.path(), bound).unwrap();
    let log = dir.path().join("sync.log");
    let mut largest = 0;
    for seq in 1..=200 {
        append_sync(&journals, id, seq, seq).await;
        largest = largest.max(fs::metadata(&log).unwrap().len());
    }
    let entry = 24 + 16 + 12 + payload(200).len() as u64;
    assert!(largest <= bound + entry, "the log grew to {largest}");
    assert_eq!(seqs(&journals, id).await, (1..=200).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_sync_log_corrupt_before_its_end_is_an_error_when_the_store_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    let id = SessionId::new();
    let journals = FileJournal::new(dir.path()).unwrap();
    append_sync(&journals, id, 1, 3).await;
    drop(journals);
    let path = dir.path().join("sync.log");
    let mut log = fs::read(&path).unwrap();
    log[30] ^= 0x40; // inside the first entry; whole entries follow
    fs::write(&path, &log).unwrap();
    let error = FileJournal::new(dir.path()).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
    assert!(error.to_string().contains("sync log"), "{error}");
    // Nothing was changed: the log is there to look at.
    assert_eq!(fs::read(&path).unwrap(), log);
}

/// Found by review: a journal that lost a record the log does not hold (an
/// append whose log entry failed) would have had the log's later records
/// written after the gap, and no longer read. Those records are not
/// written back, the journal stays readable, and the log is kept aside.
#[tokio::test]
async fn records_that_do_not_follow_a_journal_are_not_written_back_and_the_log_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (id, other) = (SessionId::new(), SessionId::new());
    let journals = FileJournal::new(dir.path()).unwrap();
    let lengths = append_sync(&journals, id, 1, 4).await;
    append_sync(&journals, other, 1, 2).await;
    let path = journals.path_of(id);
    drop(journals);
    // Power cut: the journal lost records 3 and 4; the log lost 3.
    cut(&path, lengths[2]);
    let log = fs::read(dir.path().join("sync.log")).unwrap();
    let entries = journal::read(&log).unwrap().records;
    let mut kept = Vec::new();
    for (n, entry) in entries.iter().enumerate() {
        if n != 2 {
            journal::encode(kept_seq(&kept), &entry.payload, &mut kept).unwrap();
        }
    }
    fs::write(dir.path().join("sync.log"), &kept).unwrap();

    let journals = FileJournal::new(dir.path()).unwrap();
    assert_eq!(seqs(&journals, id).await, [1, 2], "4 does not follow 2");
    assert_eq!(seqs(&journals, other).await, [1, 2]);
    let aside: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("sync.log.unapplied-"))
        .collect();
    assert_eq!(aside.len(), 1, "the log is kept aside");
    assert_eq!(fs::read(dir.path().join(&aside[0])).unwrap(), kept);
}

/// The number the next entry of a log being rebuilt takes.
fn kept_seq(kept: &[u8]) -> u64 {
    journal::read(kept).unwrap().records.len() as u64 + 1
}

#[tokio::test]
async fn a_corrupt_journal_named_by_the_sync_log_does_not_stop_the_store_from_opening() {
    let dir = tempfile::tempdir().unwrap();
    let (id, other) = (SessionId::new(), SessionId::new());
    let journals = FileJournal::new(dir.path()).unwrap();
    append_sync(&journals, id, 1, 3).await;
    append_sync(&journals, other, 1, 3).await;
    let path = journals.path_of(id);
    drop(journals);
    let mut damaged = fs::read(&path).unwrap();
    damaged[30] ^= 0x40; // the first record's payload; whole records follow
    fs::write(&path, &damaged).unwrap();
    let journals = FileJournal::new(dir.path()).unwrap();
    assert_eq!(seqs(&journals, other).await, [1, 2, 3]);
    assert!(
        journals.recover(id).await.is_err(),
        "still an error, not a shorter journal"
    );
    assert_eq!(fs::read(&path).unwrap(), damaged, "left as it was");
}
