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

/// The stored snapshots: the readable ones, newest closed first (all of
/// them, or a page), and those that could not be read, with why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Listing {
    /// Readable snapshots, newest closed first: every one, or the page
    /// asked for.
    pub snapshots: Vec<SnapshotInfo>,
    /// How many sessions the listing holds in all — readable snapshots and
    /// interrupted sessions; for [`list_where`](crate::Persistence::list_where),
    /// those it keeps — of which a page holds at most its limit.
    pub total: usize,
    /// Snapshots skipped because they could not be read (corrupt, tampered,
    /// too large, ...), by id.
    pub unreadable: Vec<(SessionId, LoadError)>,
}

/// What [`Persistence::cleanup`](crate::Persistence::cleanup) (and the cap,
/// [`Persistence::enforce_cap`](crate::Persistence::enforce_cap)) did. Only
/// what it deleted, skipped or failed to delete is listed: the sessions it
/// kept because they are recent are counted, so that a cleanup costs what
/// it deletes, not what it keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CleanupReport {
    /// Sessions deleted (snapshot and journal): closed longer ago than the
    /// maximum age, or the oldest closed past the cap, oldest first.
    pub deleted: Vec<SessionId>,
    /// How many readable sessions are kept.
    pub kept: usize,
    /// Sessions old enough that were kept, and those the cap chose that
    /// turned out pinned, with why; and those that could not be read (their
    /// age is unknown). The cap passes over open and journaled sessions
    /// without listing them here.
    pub skipped: Vec<(SessionId, Skipped)>,
    /// Sessions whose deletion failed.
    pub failed: Vec<(SessionId, StoreError)>,
}

/// Why a cleanup kept a session it could otherwise have deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Skipped {
    /// It is open (the caller said so, or it is
    /// [pinned](crate::Persistence::pin)), or — for the cap — it has a
    /// journal: interrupted sessions and journaled open ones are never
    /// evicted.
    Open,
    /// It could not be read, so its age is unknown.
    Unreadable(LoadError),
}
