//! A session rebuilt from its checkpoint and its journal: the checkpoint,
//! then exactly the records after it, in order; never a silently shorter
//! conversation.

use jido_session::{Change, Conversation, Message, Role, Session};
use jido_store::Snapshot;
use jido_store::journal::{self, Entry, JournalError, replay};

fn journal_of(entries: &[(u64, Entry)]) -> journal::Read {
    let mut bytes = Vec::new();
    for (seq, entry) in entries {
        journal::encode(*seq, &entry.to_payload(), &mut bytes).unwrap();
    }
    journal::read(&bytes).unwrap()
}

fn message(text: &str) -> Change {
    Change::Message(Message::new(Role::User, text))
}

fn texts(conversation: &Conversation) -> Vec<String> {
    conversation
        .iter_messages()
        .map(|message| message.content.clone())
        .collect()
}

#[test]
fn a_journal_alone_rebuilds_the_session_and_its_conversation() {
    let dir = tempfile::tempdir().unwrap();
    let mut session = Session::new(dir.path()).unwrap();
    let mut entries = vec![(1, Entry::Session(session.to_record()))];
    entries.push((2, Entry::Change(message("one"))));
    session.rename("renamed").unwrap();
    entries.push((3, Entry::Session(session.to_record())));
    entries.push((4, Entry::Change(message("two"))));

    let replayed = replay(None, &journal_of(&entries)).unwrap().unwrap();
    assert_eq!(replayed.session, session.to_record());
    assert_eq!(texts(&replayed.conversation), ["one", "two"]);
    assert_eq!((replayed.seq, replayed.replayed), (4, 4));
}

#[test]
fn a_checkpoint_is_followed_by_exactly_the_records_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let session = Session::new(dir.path()).unwrap();
    let mut checkpointed = Conversation::default();
    checkpointed.apply(message("one")).unwrap();
    checkpointed.apply(message("two")).unwrap();
    let checkpoint = Snapshot::of(&session, checkpointed).covering(3);
    // The journal was not cut yet: it still holds what the checkpoint covers.
    let entries = [
        (1, Entry::Session(session.to_record())),
        (2, Entry::Change(message("one"))),
        (3, Entry::Change(message("two"))),
        (4, Entry::Change(message("three"))),
    ];
    let replayed = replay(Some(&checkpoint), &journal_of(&entries))
        .unwrap()
        .unwrap();
    assert_eq!(texts(&replayed.conversation), ["one", "two", "three"]);
    assert_eq!((replayed.seq, replayed.replayed), (4, 1));
    // Cut: the journal goes on from the checkpoint.
    let replayed = replay(Some(&checkpoint), &journal_of(&entries[3..]))
        .unwrap()
        .unwrap();
    assert_eq!(texts(&replayed.conversation), ["one", "two", "three"]);
    // Nothing after it: the checkpoint alone.
    let replayed = replay(Some(&checkpoint), &journal::Read::default())
        .unwrap()
        .unwrap();
    assert_eq!((replayed.seq, replayed.replayed), (3, 0));
}

#[test]
fn records_missing_between_the_checkpoint_and_the_journal_are_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let session = Session::new(dir.path()).unwrap();
    let checkpoint = Snapshot::of(&session, Conversation::default()).covering(2);
    let entries = [(5, Entry::Change(message("five")))];
    assert!(matches!(
        replay(Some(&checkpoint), &journal_of(&entries)),
        Err(JournalError::SequenceGap {
            expected: 3,
            found: 5,
            ..
        })
    ));
}

#[test]
fn a_record_that_is_no_entry_is_an_error_and_nothing_without_a_session_is_none() {
    let mut bytes = Vec::new();
    journal::encode(1, b"{\"entry\":\"from_the_future\"}", &mut bytes).unwrap();
    assert!(matches!(
        replay(None, &journal::read(&bytes).unwrap()),
        Err(JournalError::Payload { seq: 1, .. })
    ));
    let entries = [(1, Entry::Change(message("orphan")))];
    assert_eq!(replay(None, &journal_of(&entries)).unwrap(), None);
}
