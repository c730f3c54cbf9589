//! Journals in files: what was appended comes back in another instance (as
//! another process would read it), a torn tail is cut so appends go on,
//! corruption is an error, and the durability levels do what they say.

use std::fs::{self, OpenOptions};
use std::io::Write;

use jido_session::SessionId;
use jido_store::StoreError;
use jido_store::journal::{self, Durability, FileJournal, JournalError, JournalStore, Record};

fn frame(seq: u64, payload: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::new();
    journal::encode(seq, payload, &mut bytes).unwrap();
    bytes
}

async fn append_at(
    journals: &FileJournal,
    id: SessionId,
    seq: u64,
    payload: &[u8],
    durability: Durability,
) {
    journals
        .append(id, frame(seq, payload), seq, durability)
        .await
        .unwrap();
}

async fn append(journals: &FileJournal, id: SessionId, seq: u64, payload: &[u8]) {
    append_at(journals, id, seq, payload, Durability::Os).await;
}

fn payloads(read: &journal::Read) -> Vec<(u64, Vec<u8>)> {
    read.records
        .iter()
        .map(|Record { seq, payload }| (*seq, payload.clone()))
        .collect()
}

#[tokio::test]
async fn appended_records_come_back_in_another_instance_at_every_level() {
    for durability in [Durability::Os, Durability::Sync] {
        let dir = tempfile::tempdir().unwrap();
        let id = SessionId::new();
        let journals = FileJournal::new(dir.path()).unwrap();
        for seq in 1..=20 {
            append_at(
                &journals,
                id,
                seq,
                format!("change {seq}").as_bytes(),
                durability,
            )
            .await;
        }
        let again = FileJournal::new(dir.path()).unwrap();
        let read = again.recover(id).await.unwrap();
        assert_eq!(read.records.len(), 20, "{durability:?}");
        assert_eq!(read.records[19].payload, b"change 20");
        assert_eq!(read.torn, None);
        assert_eq!(again.list().await.unwrap(), vec![id]);
    }
}

#[tokio::test]
async fn concurrent_synchronous_appends_to_many_journals_all_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let journals = FileJournal::new(dir.path()).unwrap();
    let ids: Vec<SessionId> = (0..8).map(|_| SessionId::new()).collect();
    let writers = ids.iter().map(|&id| {
        let journals = journals.clone();
        tokio::spawn(async move {
            for seq in 1..=25 {
                append_at(&journals, id, seq, &seq.to_le_bytes(), Durability::Sync).await;
            }
        })
    });
    for writer in writers {
        writer.await.unwrap();
    }
    for id in ids {
        let read = journals.recover(id).await.unwrap();
        let seqs: Vec<u64> = read.records.iter().map(|record| record.seq).collect();
        assert_eq!(seqs, (1..=25).collect::<Vec<_>>());
    }
}

#[tokio::test]
async fn a_torn_tail_is_cut_so_that_appends_go_on_after_the_last_whole_record() {
    let dir = tempfile::tempdir().unwrap();
    let id = SessionId::new();
    let journals = FileJournal::new(dir.path()).unwrap();
    append(&journals, id, 1, b"one").await;
    append(&journals, id, 2, b"two").await;
    // A write cut short by a kill: half of record 3.
    let torn = frame(3, b"three");
    OpenOptions::new()
        .append(true)
        .open(journals.path_of(id))
        .unwrap()
        .write_all(&torn[..torn.len() / 2])
        .unwrap();

    let again = FileJournal::new(dir.path()).unwrap();
    let read = again.recover(id).await.unwrap();
    assert_eq!(
        payloads(&read),
        vec![(1, b"one".to_vec()), (2, b"two".to_vec())]
    );
    assert_eq!(read.torn.unwrap().len, (torn.len() / 2) as u64);
    append(&again, id, 3, b"three again").await;
    let read = again.recover(id).await.unwrap();
    assert_eq!(read.torn, None);
    assert_eq!(read.records[2].payload, b"three again");
}

#[tokio::test]
async fn a_journal_first_appended_to_in_this_process_is_recovered_first() {
    let dir = tempfile::tempdir().unwrap();
    let id = SessionId::new();
    let journals = FileJournal::new(dir.path()).unwrap();
    append(&journals, id, 1, b"one").await;
    let torn = frame(2, b"two");
    OpenOptions::new()
        .append(true)
        .open(journals.path_of(id))
        .unwrap()
        .write_all(&torn[..5])
        .unwrap();
    // Another instance appends without recovering explicitly.
    let again = FileJournal::new(dir.path()).unwrap();
    append(&again, id, 2, b"two").await;
    let read = again.recover(id).await.unwrap();
    assert_eq!(
        payloads(&read),
        vec![(1, b"one".to_vec()), (2, b"two".to_vec())]
    );
}

#[tokio::test]
async fn a_corrupt_journal_is_an_error_not_a_shorter_conversation() {
    let dir = tempfile::tempdir().unwrap();
    let id = SessionId::new();
    let journals = FileJournal::new(dir.path()).unwrap();
    append(&journals, id, 1, b"one").await;
    append(&journals, id, 2, b"two").await;
    let path = journals.path_of(id);
    let mut bytes = fs::read(&path).unwrap();
    bytes[journal::HEADER_LEN] ^= 0xFF; // the first record's payload
    fs::write(&path, &bytes).unwrap();
    assert!(matches!(
        journals.recover(id).await,
        Err(StoreError::Journal(JournalError::Corrupt { offset: 0, .. }))
    ));
    // Nothing was cut.
    assert_eq!(fs::read(&path).unwrap(), bytes);
}

#[tokio::test]
async fn on_stop_only_journals_nothing_and_a_missing_journal_reads_empty() {
    let dir = tempfile::tempdir().unwrap();
    let id = SessionId::new();
    let journals = FileJournal::new(dir.path()).unwrap();
    append_at(&journals, id, 1, b"one", Durability::OnStop).await;
    assert!(!journals.path_of(id).exists());
    assert_eq!(
        journals.recover(id).await.unwrap(),
        journal::Read::default()
    );
    assert!(journals.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_deleted_journal_is_gone_and_deleting_again_is_fine() {
    let dir = tempfile::tempdir().unwrap();
    let id = SessionId::new();
    let journals = FileJournal::new(dir.path()).unwrap();
    append(&journals, id, 1, b"one").await;
    journals.delete(id).await.unwrap();
    journals.delete(id).await.unwrap();
    assert!(!journals.path_of(id).exists());
    assert!(journals.list().await.unwrap().is_empty());
    // Appending again starts a new journal.
    append(&journals, id, 1, b"new").await;
    assert_eq!(journals.recover(id).await.unwrap().records.len(), 1);
}
