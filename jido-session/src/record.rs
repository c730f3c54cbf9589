//! [`SessionRecord`]: a session as stored or received, not yet trusted.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Session, SessionConfig, SessionId, ValidationErrors};

/// A session as it is stored or received: plain data, not yet checked
/// against anything. The serialized form of a [`Session`] deserializes into
/// this, never into a `Session`; [`Session::from_record`] (or `try_into`)
/// turns it into one after the same canonicalization and file-system checks
/// as [`Session::new`].
///
/// ```
/// use jido_session::{Session, SessionError, SessionRecord};
///
/// let dir = tempfile::tempdir()?;
/// let session = Session::new(dir.path())?;
/// let json = serde_json::to_string(&session)?;
///
/// let record: SessionRecord = serde_json::from_str(&json)?;
/// let restored = Session::from_record(record.clone())?;
/// assert_eq!(restored, session);
///
/// // A record naming a directory that is gone is refused.
/// drop(dir);
/// let errors = Session::from_record(record).unwrap_err();
/// assert!(matches!(errors.first(), SessionError::PathNotFound { .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// The session's id.
    pub id: SessionId,
    /// Its display name.
    pub name: String,
    /// The project directory, as stored (canonicalized again on load).
    pub project_path: PathBuf,
    /// The LLM settings.
    pub config: SessionConfig,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<SessionRecord> for Session {
    type Error = ValidationErrors;

    /// [`Session::from_record`].
    fn try_from(record: SessionRecord) -> Result<Self, Self::Error> {
        Session::from_record(record)
    }
}

impl From<&Session> for SessionRecord {
    /// [`Session::to_record`].
    fn from(session: &Session) -> Self {
        session.to_record()
    }
}
