//! [`Snapshot`]: what is saved of a session — its record, its conversation,
//! when it closed, and which directory its project was.

use chrono::{DateTime, Utc};
use jido_session::{Conversation, Session, SessionId, SessionRecord};
use serde::{Deserialize, Serialize};

use crate::ProjectIdentity;

/// The snapshot schema this crate writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

/// A saved session (schema version [`SCHEMA_VERSION`]): the session's record
/// (id, name, project path, config, created and updated times), when it was
/// closed (or saved), its whole [`Conversation`] (messages in chronological
/// order, reasoning steps, tool calls, todos with their ids, prompt history,
/// file reads and writes), and the identity of its project directory at save
/// time, so that a resume can tell the same directory from another one at
/// the same path.
///
/// ```
/// use jido_session::{Conversation, Message, Role, Session};
/// use jido_store::Snapshot;
///
/// let dir = tempfile::tempdir()?;
/// let session = Session::new(dir.path())?;
/// let mut conversation = Conversation::default();
/// conversation.push_message(Message::new(Role::User, "hello"));
///
/// let snapshot = Snapshot::of(&session, conversation);
/// assert_eq!(snapshot.id(), session.id());
/// assert!(snapshot.project.is_some()); // device, inode, owner of the directory
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Snapshot {
    /// The session, as plain data (checked again by
    /// [`Session::from_record`] before it can run).
    pub session: SessionRecord,
    /// When the session was closed, or saved while running.
    pub closed_at: DateTime<Utc>,
    /// Its conversation.
    pub conversation: Conversation,
    /// Which directory the project was when saved (`None` where the
    /// platform cannot say).
    pub project: Option<ProjectIdentity>,
    /// The last journal record this snapshot covers (0: none): a replay
    /// applies only the records after it.
    #[serde(default)]
    pub journal_seq: u64,
}

impl Snapshot {
    /// A snapshot of `session` with `conversation`, closed now; the project
    /// directory's identity is read from the file system.
    pub fn of(session: &Session, conversation: Conversation) -> Self {
        Snapshot::of_record(session.to_record(), conversation)
    }

    /// [`of`](Self::of), for a session as plain data.
    pub fn of_record(session: SessionRecord, conversation: Conversation) -> Self {
        let project = ProjectIdentity::of(&session.project_path).ok();
        Snapshot::new(session, conversation, Utc::now(), project)
    }

    /// A snapshot from its parts.
    pub fn new(
        session: SessionRecord,
        conversation: Conversation,
        closed_at: DateTime<Utc>,
        project: Option<ProjectIdentity>,
    ) -> Self {
        Snapshot {
            session,
            closed_at,
            conversation,
            project,
            journal_seq: 0,
        }
    }

    /// The same snapshot, covering the journal up to record `seq`.
    pub fn covering(mut self, seq: u64) -> Self {
        self.journal_seq = seq;
        self
    }

    /// The session's id.
    pub fn id(&self) -> SessionId {
        self.session.id
    }
}
