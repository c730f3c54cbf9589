//! What listing and cleaning up stored snapshots report: [`SnapshotInfo`],
//! [`Listing`], [`CleanupReport`], [`Skipped`].

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use jido_session::SessionId;

use crate::{LoadError, Snapshot, StoreError};

/// One stored snapshot, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SnapshotInfo {
    /// The session's id.
    pub id: SessionId,
    /// Its name.
    pub name: String,
    /// Its project directory, as saved.
    pub project_path: PathBuf,
    /// When it was closed (or saved).
    pub closed_at: DateTime<Utc>,
    /// How many messages its conversation holds.
    pub messages: usize,
    /// `true` for a session whose program died while it was open: its
    /// journal holds changes past its last snapshot (if it has one), and
    /// `closed_at` is when its journal was last written. A resume brings it
    /// back with every acknowledged change.
    pub interrupted: bool,
}

impl From<&Snapshot> for SnapshotInfo {
    fn from(snapshot: &Snapshot) -> Self {
        SnapshotInfo {
            id: snapshot.id(),
            name: snapshot.session.name.clone(),
            project_path: snapshot.session.project_path.clone(),
            closed_at: snapshot.closed_at,
            messages: snapshot.conversation.message_count(),
            interrupted: false,
        }
    }
}

/// The stored snapshots: the readable ones, newest closed first, and those
/// that could not be read, with why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Listing {
    /// Readable snapshots, newest closed first.
    pub snapshots: Vec<SnapshotInfo>,
    /// Snapshots skipped because they could not be read (corrupt, tampered,
    /// too large, ...).
    pub unreadable: Vec<(SessionId, LoadError)>,
}

/// What [`Persistence::cleanup`](crate::Persistence::cleanup) did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CleanupReport {
    /// Snapshots closed longer ago than the maximum age, deleted.
    pub deleted: Vec<SessionId>,
    /// Snapshots kept: too recent, or unreadable (their age is unknown).
    pub skipped: Vec<(SessionId, Skipped)>,
    /// Snapshots old enough whose deletion failed.
    pub failed: Vec<(SessionId, StoreError)>,
}

/// Why [`Persistence::cleanup`](crate::Persistence::cleanup) kept a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Skipped {
    /// Closed within the maximum age.
    Recent {
        /// When it was closed.
        closed_at: DateTime<Utc>,
    },
    /// It could not be read, so its age is unknown.
    Unreadable(LoadError),
}
