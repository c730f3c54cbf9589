//! [`SessionJournal`]: one session's journal, as its tree writes it.

use std::sync::Arc;

use jido_session::{Change, Conversation, ConversationLimits, SessionId, SessionRecord};
use jido_store::journal::{self, Durability, Entry, JournalStore};
use jido_store::{Persistence, SaveError, Snapshot, StoreError};
use tokio::sync::{Mutex, MutexGuard};

/// One session's journal: every change its State commits is appended here
/// before the State answers. Appends are serialized (one at a time, in
/// sequence-number order, which is the order the State answered in).
pub(crate) struct SessionJournal {
    store: Arc<dyn JournalStore>,
    id: SessionId,
    durability: Durability,
    /// Where checkpoints go, and how many records a journal holds before
    /// one.
    checkpoints: Checkpoints,
    written: Mutex<Written>,
    /// The conversation limits the journal last recorded (see
    /// [`ConversationStore`](crate::session::ConversationStore)): here, not
    /// in the store, so that a session that is not journaled does not
    /// carry them.
    limits: parking_lot::Mutex<Option<ConversationLimits>>,
}

/// When and where a journal is checkpointed: its session saved (covering
/// every record) and the journal cut, after `every` records or
/// `every_bytes` bytes of them, whichever comes first.
pub(crate) struct Checkpoints {
    pub(crate) persistence: Persistence,
    pub(crate) every: u64,
    pub(crate) every_bytes: u64,
}

struct Written {
    /// The last record appended (0: none yet).
    last: u64,
    /// The session's record as last journaled (or, before the journal's
    /// first append, as it will be: it goes first, so that a journal alone
    /// can bring the session back). A checkpoint saves this record: the
    /// journal's, never a stale copy.
    record: SessionRecord,
    /// `record` is not written yet.
    record_pending: bool,
    /// An append failed: the journal may hold part of it, or all of it.
    /// Recovered (torn tail cut, last record read back) before the next.
    unsure: bool,
    /// The record after which the next checkpoint is due...
    checkpoint_after: u64,
    /// ...unless as many bytes as a checkpoint waits for come first: the
    /// bytes appended since the last one (or since the last try).
    bytes: u64,
}

impl SessionJournal {
    /// The journal of session `id` in `store`, going on after record `last`,
    /// for the session `record`; written first if `pending` (the journal
    /// has nothing of the session yet).
    pub(crate) fn new(
        store: Arc<dyn JournalStore>,
        id: SessionId,
        durability: Durability,
        checkpoints: Checkpoints,
        last: u64,
        record: SessionRecord,
        pending: bool,
    ) -> Self {
        let checkpoint_after = last.saturating_add(checkpoints.every);
        SessionJournal {
            store,
            id,
            durability,
            checkpoints,
            written: Mutex::new(Written {
                last,
                record,
                record_pending: pending,
                unsure: false,
                checkpoint_after,
                bytes: 0,
            }),
            limits: parking_lot::Mutex::new(None),
        }
    }

    /// The conversation limits last journaled, if any.
    pub(crate) fn journaled_limits(&self) -> Option<ConversationLimits> {
        *self.limits.lock()
    }

    /// Records that the journal holds `limits` (journaled, or restored with
    /// a conversation replayed from it).
    pub(crate) fn set_journaled_limits(&self, limits: ConversationLimits) {
        *self.limits.lock() = Some(limits);
    }

    /// The journal, held: appends through it are the only ones until it is
    /// dropped (so that a change of the session's record can be journaled
    /// and then made, with nothing in between).
    pub(crate) async fn appender(&self) -> Appender<'_> {
        Appender {
            journal: self,
            written: self.written.lock().await,
        }
    }
}

/// The journal of one session, held for appending.
pub(crate) struct Appender<'a> {
    journal: &'a SessionJournal,
    written: MutexGuard<'a, Written>,
}

impl Appender<'_> {
    /// The last record appended.
    pub(crate) fn last(&self) -> u64 {
        self.written.last
    }

    /// Whether the journal holds as many records, or bytes, as a
    /// checkpoint waits for.
    pub(crate) fn checkpoint_due(&self) -> bool {
        self.written.last >= self.written.checkpoint_after
            || self.written.bytes >= self.journal.checkpoints.every_bytes
    }

    /// Saves `conversation` — with every record appended (the caller holds
    /// the journal, so nothing is appended meanwhile) — and the session's
    /// record as journaled, as a checkpoint covering the journal, then cuts
    /// the journal. A crash
    /// between the two leaves a snapshot and the records it covers, which a
    /// replay skips. If the snapshot cannot be saved (too large, say), the
    /// journal is kept whole, and the next try comes after as many records
    /// again.
    pub(crate) async fn checkpoint(
        &mut self,
        conversation: Conversation,
    ) -> Result<Snapshot, SaveError> {
        let journal = self.journal;
        let snapshot = Snapshot::of_record(self.written.record.clone(), conversation)
            .covering(self.written.last);
        self.written.checkpoint_after = self.written.last.saturating_add(journal.checkpoints.every);
        self.written.bytes = 0;
        journal.checkpoints.persistence.save(&snapshot).await?;
        if let Err(error) = journal.store.delete(journal.id).await {
            // Harmless: a replay skips what the snapshot covers.
            tracing::warn!(id = %journal.id, %error, "could not cut the checkpointed journal");
        }
        Ok(snapshot)
    }

    /// Appends `change` (after the session's record, the first time).
    pub(crate) async fn change(&mut self, change: &Change) -> Result<u64, StoreError> {
        self.append(&Entry::change_payload(change)).await
    }

    /// Appends the session's record as it is now.
    pub(crate) async fn record(&mut self, record: SessionRecord) -> Result<u64, StoreError> {
        // It replaces a record not yet written.
        self.written.record_pending = false;
        let seq = self.append(&Entry::session_payload(&record)).await;
        if seq.is_ok() {
            self.written.record = record;
        } else {
            self.written.record_pending = self.written.last == 0;
        }
        seq
    }

    async fn append(&mut self, payload: &[u8]) -> Result<u64, StoreError> {
        let journal = self.journal;
        let written = &mut *self.written;
        if written.unsure {
            let read = journal.store.recover(journal.id).await?;
            written.last = read
                .records
                .last()
                .map_or(written.last, |record| record.seq);
            written.unsure = false;
        }
        let mut frames = Vec::new();
        let mut seq = written.last;
        if written.record_pending {
            let record = &written.record;
            seq += 1;
            journal::encode(seq, &Entry::session_payload(record), &mut frames)
                .map_err(StoreError::Journal)?;
        }
        seq += 1;
        journal::encode(seq, payload, &mut frames).map_err(StoreError::Journal)?;
        let len = frames.len() as u64;
        if let Err(error) = journal
            .store
            .append(journal.id, frames, seq, journal.durability)
            .await
        {
            written.unsure = true;
            return Err(error);
        }
        written.record_pending = false;
        written.last = seq;
        written.bytes = written.bytes.saturating_add(len);
        Ok(seq)
    }
}

#[cfg(test)]
mod tests {
    use jido_session::{Message, Role, Session};
    use jido_store::journal::FileJournal;

    use super::*;

    /// Found by the crash property: a State still running as its program
    /// died checkpointed with the session's record as its context last saw
    /// it (the supervisor gone: the record from its start), so a rename
    /// acknowledged before was lost. A checkpoint saves the record the
    /// journal holds.
    #[tokio::test]
    async fn a_checkpoint_saves_the_record_the_journal_holds() {
        let (store, project) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let persistence = Persistence::in_dir(store.path()).unwrap();
        let mut session = Session::new(project.path()).unwrap();
        let journal = SessionJournal::new(
            Arc::new(FileJournal::new(store.path()).unwrap()),
            session.id(),
            Durability::Os,
            Checkpoints {
                persistence: persistence.clone(),
                every: 100,
                every_bytes: u64::MAX,
            },
            0,
            session.to_record(),
            true,
        );
        let mut appender = journal.appender().await;
        let change = Change::Message(Message::new(Role::User, "hello"));
        appender.change(&change).await.unwrap();
        session.rename("renamed").unwrap();
        appender.record(session.to_record()).await.unwrap();
        let mut conversation = Conversation::default();
        conversation.apply(change).unwrap();
        let snapshot = appender.checkpoint(conversation).await.unwrap();
        assert_eq!(snapshot.session.name, "renamed");
        assert_eq!(snapshot.journal_seq, 3);
        assert_eq!(persistence.load(session.id()).await.unwrap(), snapshot);
    }
}
