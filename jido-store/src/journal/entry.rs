//! [`Entry`]: what one journal record says, and [`replay`], a session
//! rebuilt from its checkpoint and its journal.

use jido_session::{Change, Conversation, SessionRecord};
use serde::{Deserialize, Serialize};

use super::{JournalError, Read};
use crate::Snapshot;

/// What one record of a session's journal says: the session's record as it
/// is now (at its start, and after every rename or config change), or one
/// change of its conversation. Serialized as JSON, tagged, so that a new
/// kind of entry is new data, not a new frame format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "entry", content = "of", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Entry {
    /// The session's record, replacing the one before.
    Session(SessionRecord),
    /// A change of its conversation.
    Change(Change),
}

/// [`Entry`], borrowed: the same bytes, without a copy of what it holds.
#[derive(Serialize)]
#[serde(tag = "entry", content = "of", rename_all = "snake_case")]
enum EntryRef<'a> {
    Session(&'a SessionRecord),
    Change(&'a Change),
}

impl Entry {
    /// The record payload of this entry.
    pub fn to_payload(&self) -> Vec<u8> {
        match self {
            Entry::Session(record) => payload(&EntryRef::Session(record)),
            Entry::Change(change) => payload(&EntryRef::Change(change)),
        }
    }

    /// The payload of [`Entry::Change`]`(change)`, without moving `change`.
    pub fn change_payload(change: &Change) -> Vec<u8> {
        payload(&EntryRef::Change(change))
    }

    /// The payload of [`Entry::Session`]`(record)`, without moving `record`.
    pub fn session_payload(record: &SessionRecord) -> Vec<u8> {
        payload(&EntryRef::Session(record))
    }

    /// The entry a record payload holds.
    ///
    /// # Errors
    ///
    /// [`JournalError::Payload`] for bytes that are no entry this library
    /// knows (an entry of a newer kind, say).
    pub fn from_payload(seq: u64, payload: &[u8]) -> Result<Entry, JournalError> {
        serde_json::from_slice(payload).map_err(|error| JournalError::Payload {
            seq,
            reason: error.to_string(),
        })
    }
}

fn payload(entry: &EntryRef<'_>) -> Vec<u8> {
    // An entry is plain data (strings, numbers, maps with string keys, JSON
    // values): its serialization cannot fail.
    serde_json::to_vec(entry).unwrap_or_default()
}

/// A session rebuilt from its last checkpoint and its journal.
#[derive(Debug, Clone, PartialEq)]
pub struct Replayed {
    /// The session's record, as last journaled.
    pub session: SessionRecord,
    /// Its conversation, with every journaled change applied in order.
    pub conversation: Conversation,
    /// The sequence number of the last change it holds (the checkpoint's,
    /// if the journal adds nothing).
    pub seq: u64,
    /// How many journal records were applied on top of the checkpoint.
    pub replayed: usize,
}

/// Rebuilds a session: the `checkpoint` (a snapshot, covering the journal up
/// to its [`journal_seq`](Snapshot::journal_seq)), then every record of
/// `journal` after it, in order. `None` when there is neither a checkpoint
/// nor a journaled session record.
///
/// # Errors
///
/// [`JournalError::Payload`] for a record that is no entry;
/// [`JournalError::SequenceGap`] when the journal does not go on from the
/// checkpoint (records missing between them). A change the conversation
/// refuses (an update of an unknown tool call) was refused live too, and is
/// never journaled: it is skipped.
pub fn replay(
    checkpoint: Option<&Snapshot>,
    journal: &Read,
) -> Result<Option<Replayed>, JournalError> {
    let covered = checkpoint.map_or(0, |snapshot| snapshot.journal_seq);
    let mut session = checkpoint.map(|snapshot| snapshot.session.clone());
    let mut conversation = checkpoint
        .map(|snapshot| snapshot.conversation.clone())
        .unwrap_or_default();
    let mut seq = covered;
    let mut replayed = 0;
    for record in journal.records.iter().filter(|record| record.seq > covered) {
        if record.seq != seq + 1 {
            return Err(JournalError::SequenceGap {
                offset: 0,
                expected: seq + 1,
                found: record.seq,
            });
        }
        match Entry::from_payload(record.seq, &record.payload)? {
            Entry::Session(record) => session = Some(record),
            Entry::Change(change) => {
                let _ = conversation.apply(change);
            }
        }
        seq = record.seq;
        replayed += 1;
    }
    Ok(session.map(|session| Replayed {
        session,
        conversation,
        seq,
        replayed,
    }))
}
