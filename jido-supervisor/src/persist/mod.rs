//! Sessions that outlive the program: saving running sessions, listing,
//! resuming, deleting and cleaning up their snapshots, through the
//! supervisor (jido_code's `Session.Persistence`).

mod adopt;
mod error;

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use jido_session::{Session, SessionId};
use jido_store::journal::{self, Read};
use jido_store::{
    CleanupError, CleanupReport, Listing, LoadError, Persistence, ProjectIdentity, Snapshot,
    SnapshotInfo, StoreError,
};

use crate::core::Restored;
use crate::error::StartError;
use crate::session_handle::SessionHandle;
use crate::session_supervisor::SessionSupervisor;
use crate::telemetry;

pub use adopt::Adoption;
pub use error::{PersistError, ResumeError, SaveSessionError};

impl SessionSupervisor {
    fn persistence(&self) -> Option<&Persistence> {
        self.core
            .persistence
            .as_ref()
            .map(|config| &config.persistence)
    }

    /// Saves the open session `id` — its record and its committed
    /// conversation, closed now — replacing its previous snapshot
    /// atomically. One save of a session at a time: a second one while the
    /// first runs is refused ([`SaveSessionError::InProgress`]), never
    /// interleaved.
    ///
    /// ```
    /// use jido_supervisor::{Message, Persistence, Role, SessionSupervisor};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (project, snapshots) = (tempfile::tempdir()?, tempfile::tempdir()?);
    /// let supervisor = SessionSupervisor::builder()
    ///     .persistence(Persistence::in_dir(snapshots.path())?)
    ///     .build();
    /// let id = supervisor.create_session(project.path()).await?.id();
    /// let state = supervisor.state(id).unwrap();
    /// state.append_message(Message::new(Role::User, "hello")).await?;
    ///
    /// let saved = supervisor.save(id).await?;
    /// assert_eq!(saved.messages, 1);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`SaveSessionError::NotConfigured`], [`SaveSessionError::NotFound`],
    /// [`SaveSessionError::InProgress`], [`SaveSessionError::Save`].
    pub async fn save(&self, id: SessionId) -> Result<SnapshotInfo, SaveSessionError> {
        let saved = self.try_save(id).await;
        match &saved {
            Ok(_) => telemetry::saved(true),
            Err(SaveSessionError::Save(_)) => telemetry::saved(false),
            // Refused before anything was written: not a save.
            Err(_) => {}
        }
        saved
    }

    /// [`save`](Self::save)'s work.
    async fn try_save(&self, id: SessionId) -> Result<SnapshotInfo, SaveSessionError> {
        let persistence = self.persistence().ok_or(SaveSessionError::NotConfigured)?;
        let _one_at_a_time = self
            .core
            .save_locks
            .try_lock(id)
            .ok_or(SaveSessionError::InProgress { id })?;
        let handle = self
            .find_session(id)
            .ok_or(SaveSessionError::NotFound { id })?;
        let Some(journal) = handle.tree().journal() else {
            // The handle carries the session as registered now (renames
            // included): one lookup for both.
            let (conversation, seq) = handle.tree().checkpoint();
            let snapshot = Snapshot::of(handle.session(), conversation).covering(seq);
            persistence.save(&snapshot).await?;
            self.core.enforce_cap(persistence).await;
            return Ok(SnapshotInfo::from(&snapshot));
        };
        // A checkpoint: the journal held (no change nor rename meanwhile),
        // the session saved covering it, the journal cut.
        let snapshot = {
            let mut appender = journal.appender().await;
            let (conversation, _) = handle.tree().checkpoint();
            appender.checkpoint(conversation).await?
        };
        self.core.enforce_cap(persistence).await;
        Ok(SnapshotInfo::from(&snapshot))
    }

    /// The saved sessions, newest closed first; snapshots that cannot be
    /// read are listed apart, with why.
    ///
    /// # Errors
    ///
    /// [`PersistError::NotConfigured`], [`PersistError::Store`].
    pub async fn list_persisted(&self) -> Result<Listing, PersistError> {
        let persistence = self.persistence().ok_or(PersistError::NotConfigured)?;
        Ok(persistence.list().await?)
    }

    /// The saved sessions that can be resumed now: those whose id and
    /// project are not open. Newest closed first. See
    /// [`resume`](Self::resume)'s example; [`list_resumable_page`](Self::list_resumable_page)
    /// for a page of many.
    ///
    /// # Errors
    ///
    /// As [`list_persisted`](Self::list_persisted).
    pub async fn list_resumable(&self) -> Result<Vec<SnapshotInfo>, PersistError> {
        Ok(self.list_resumable_page(0, usize::MAX).await?.snapshots)
    }

    /// At most `limit` of the sessions [`list_resumable`](Self::list_resumable)
    /// lists, from the `offset`-th (0 is the newest), with how many there
    /// are in all ([`Listing::total`]) and the unreadable ones. At 100,000
    /// saved sessions a page costs one read of the store's directory, the
    /// reads of the snapshots saved since the last listing (see
    /// [`Persistence::list_page`]), and a hash lookup per saved session to
    /// leave out the open ones.
    ///
    /// ```
    /// use jido_supervisor::{Persistence, SessionSupervisor};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (projects, store) = (tempfile::tempdir()?, tempfile::tempdir()?);
    /// let supervisor = SessionSupervisor::builder()
    ///     .persistence(Persistence::in_dir(store.path())?)
    ///     .save_on_stop(true)
    ///     .build();
    /// for name in ["a", "b", "c"] {
    ///     let project = projects.path().join(name);
    ///     std::fs::create_dir(&project)?;
    ///     let id = supervisor.create_session(&project).await?.id();
    ///     supervisor.stop_session(id).await?;
    /// }
    /// let page = supervisor.list_resumable_page(0, 2).await?;
    /// assert_eq!((page.snapshots.len(), page.total), (2, 3));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`list_persisted`](Self::list_persisted).
    pub async fn list_resumable_page(
        &self,
        offset: usize,
        limit: usize,
    ) -> Result<Listing, PersistError> {
        let persistence = self.persistence().ok_or(PersistError::NotConfigured)?;
        let registry = self.registry();
        // The open projects, once: a saved path is canonical, so a set of
        // paths answers for each listed session without the file system.
        let open: HashSet<PathBuf> = registry
            .list_all()
            .iter()
            .map(|session| session.project_path().as_path().to_path_buf())
            .collect();
        Ok(persistence
            .list_where(offset, limit, |info| {
                !registry.contains(info.id) && !open.contains(&info.project_path)
            })
            .await?)
    }

    /// Resumes every interrupted session — one whose program died with
    /// changes journaled past its last save, as
    /// [`list_resumable`](Self::list_resumable) marks it — oldest first,
    /// as at the start of a program after a crash. Each is resumed as
    /// [`resume`](Self::resume) does, and its outcome reported: one that
    /// cannot be resumed (its project gone, the limit reached) is left as
    /// it was, still listed. Sessions saved by a graceful stop are not
    /// resumed. With a cluster backend the listing is the database's:
    /// every interrupted session not open on any node.
    ///
    /// ```
    /// use jido_supervisor::{Message, Persistence, Role, SessionSupervisor};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (project, store) = (tempfile::tempdir()?, tempfile::tempdir()?);
    /// let build = || -> std::io::Result<SessionSupervisor> {
    ///     Ok(SessionSupervisor::builder().persistence(Persistence::in_dir(store.path())?).build())
    /// };
    /// let supervisor = build()?;
    /// let id = supervisor.create_session(project.path()).await?.id();
    /// supervisor.state(id).unwrap().append_message(Message::new(Role::User, "hello")).await?;
    /// drop(supervisor); // the program dies: nothing stopped, nothing saved
    ///
    /// let again = build()?;
    /// let resumed = again.resume_interrupted().await?;
    /// assert_eq!(resumed.len(), 1);
    /// assert_eq!(resumed[0].0, id);
    /// assert!(resumed[0].1.is_ok());
    /// assert_eq!(again.state(id).unwrap().message_count().await?, 1);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`list_resumable`](Self::list_resumable); a session that cannot
    /// be resumed is an outcome, not an error.
    pub async fn resume_interrupted(
        &self,
    ) -> Result<Vec<(SessionId, Result<SessionHandle, ResumeError>)>, PersistError> {
        let mut interrupted: Vec<SnapshotInfo> = self
            .list_resumable()
            .await?
            .into_iter()
            .filter(|info| info.interrupted)
            .collect();
        interrupted.sort_by_key(|info| info.closed_at);
        let mut outcomes = Vec::with_capacity(interrupted.len());
        for info in interrupted {
            let outcome = self.resume(info.id).await;
            if let Err(error) = &outcome {
                tracing::warn!(id = %info.id, %error, "could not resume an interrupted session");
            }
            outcomes.push((info.id, outcome));
        }
        Ok(outcomes)
    }

    /// Resumes the saved or interrupted session `id`: loads its snapshot
    /// (if it has one) and replays its journal after it (every change
    /// acknowledged since, in order), checks that its project directory
    /// still exists, is a directory, and is the same directory (device,
    /// inode and owner, not just the same path, where the snapshot says),
    /// and starts the session with its conversation restored. What runs is
    /// read once the session is registered here (and claimed in the
    /// cluster), when nothing else can run, change or save it: a resume
    /// overtaken by another (which ran the session and saved it again)
    /// runs what that one saved, not what it had read before. Nothing is
    /// deleted: the snapshot and the journal go on as the running session's
    /// checkpoint, so a program that dies after a resume loses nothing. If
    /// anything fails before the session runs, nothing runs; if the tree
    /// cannot take the conversation, the session is stopped again.
    ///
    /// ```
    /// use jido_supervisor::{Message, Persistence, Role, SessionSupervisor};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (project, snapshots) = (tempfile::tempdir()?, tempfile::tempdir()?);
    /// let supervisor = SessionSupervisor::builder()
    ///     .persistence(Persistence::in_dir(snapshots.path())?)
    ///     .save_on_stop(true)
    ///     .build();
    /// let id = supervisor.create_session(project.path()).await?.id();
    /// supervisor.state(id).unwrap().append_message(Message::new(Role::User, "hello")).await?;
    /// supervisor.stop_session(id).await?; // saved as it stops
    ///
    /// assert_eq!(supervisor.list_resumable().await?[0].id, id);
    /// supervisor.resume(id).await?;
    /// let page = supervisor.state(id).unwrap().messages(0, None).await?;
    /// assert_eq!(page.items[0].content, "hello");
    /// assert!(supervisor.list_resumable().await?.is_empty()); // open again
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// A [`ResumeError`] for each refusal.
    pub async fn resume(&self, id: SessionId) -> Result<SessionHandle, ResumeError> {
        let persistence = self.persistence().ok_or(ResumeError::NotConfigured)?;
        if self.registry().contains(id) {
            return Err(ResumeError::AlreadyOpen { id });
        }
        // Kept from cleanup and the cap until it runs (then it is
        // registered, which spares it).
        let _pinned = persistence.pin(id).await;
        // Cluster-wide, first: a session another node runs is refused
        // before anything is read.
        if let Some(cluster) = &self.core.cluster
            && cluster
                .backend()
                .locate_fresh(id)
                .await
                .map_err(|error| ResumeError::Start(StartError::Backend(error)))?
                .is_some()
        {
            return Err(ResumeError::AlreadyOpen { id });
        }
        // Read once to learn which session and project to register (and
        // claim), then again once they are ours: what runs is what was read
        // when nothing else could run, change or save the session.
        let (session, _) = read_to_resume(persistence, id, Owned::No).await?;
        let project = session.project_path().clone();
        let handle = self
            .core
            .start_restoring(session, async {
                let (session, restored) = read_to_resume(persistence, id, Owned::Yes).await?;
                if *session.project_path() != project {
                    // A session's project never changes: a store that says
                    // otherwise holds something else under this id.
                    return Err(ResumeError::Load(LoadError::Corrupt {
                        id,
                        reason: "the session's project changed between two reads".to_owned(),
                    }));
                }
                Ok(Some((session, restored)))
            })
            .await?;
        if handle.supervisor().is_none() {
            tracing::warn!(%id, "the resumed session's tree keeps no conversation; stopping it");
            let _ = self.stop_session(id).await;
            return Err(ResumeError::RestoreFailed { id });
        }
        // The snapshot and the journal stay: they are the session's
        // checkpoint and what follows it until its next save, so that a
        // program that dies now loses nothing.
        Ok(handle)
    }

    /// Deletes the snapshot of session `id`; succeeds if there is none.
    ///
    /// # Errors
    ///
    /// [`PersistError::NotConfigured`], [`PersistError::Store`].
    pub async fn delete_persisted(&self, id: SessionId) -> Result<(), PersistError> {
        let persistence = self.persistence().ok_or(PersistError::NotConfigured)?;
        Ok(persistence.delete(id).await?)
    }

    /// Deletes the sessions closed more than `max_age` ago
    /// ([`DEFAULT_MAX_AGE`](crate::store::DEFAULT_MAX_AGE), 30 days, upstream)
    /// and, past the store's cap
    /// ([`Persistence::keep_at_most`]), the oldest closed ones; never a
    /// session open here. Reports what it deleted, skipped and failed to
    /// delete, and counts what it kept.
    ///
    /// ```
    /// use std::time::Duration;
    /// use jido_supervisor::{PersistError, Persistence, SessionSupervisor};
    /// use jido_supervisor::store::DEFAULT_MAX_AGE;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (project, store) = (tempfile::tempdir()?, tempfile::tempdir()?);
    /// let supervisor = SessionSupervisor::builder()
    ///     .persistence(Persistence::in_dir(store.path())?)
    ///     .save_on_stop(true)
    ///     .build();
    /// let id = supervisor.create_session(project.path()).await?.id();
    /// supervisor.stop_session(id).await?;
    /// let report = supervisor.cleanup(DEFAULT_MAX_AGE).await?;
    /// assert_eq!((report.deleted.len(), report.kept), (0, 1)); // closed just now: kept
    /// assert_eq!(supervisor.cleanup(Duration::ZERO).await, Err(PersistError::ZeroMaxAge));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`PersistError::NotConfigured`], [`PersistError::ZeroMaxAge`] (nothing
    /// is deleted), [`PersistError::Store`].
    pub async fn cleanup(&self, max_age: Duration) -> Result<CleanupReport, PersistError> {
        let persistence = self.persistence().ok_or(PersistError::NotConfigured)?;
        let registry = self.registry();
        persistence
            .cleanup_sparing(max_age, &|id| registry.contains(id))
            .await
            .map_err(|error| match error {
                CleanupError::ZeroMaxAge => PersistError::ZeroMaxAge,
                CleanupError::Store(error) => PersistError::Store(error),
                other => PersistError::Store(StoreError::Io {
                    operation: "clean up",
                    kind: None,
                    message: other.to_string(),
                }),
            })
    }
}

/// Whether a read of a session to resume is its owner's.
#[derive(Clone, Copy, PartialEq)]
enum Owned {
    /// Registered here and claimed: the read may cut a torn journal tail,
    /// to append after it.
    Yes,
    /// Not yet: the read changes nothing (another owner may be appending).
    No,
}

/// Reads the session `id` to resume: its snapshot (if it has one), its
/// journal replayed after it, its project checked; the session and what
/// its tree restores.
async fn read_to_resume(
    persistence: &Persistence,
    id: SessionId,
    owned: Owned,
) -> Result<(Session, Restored), ResumeError> {
    let snapshot = match persistence.load(id).await {
        Ok(snapshot) => Some(snapshot),
        // A session that was never saved may have a journal.
        Err(LoadError::NotFound { .. }) if persistence.journal().is_some() => None,
        Err(error) => return Err(error.into()),
    };
    let journal = match persistence.journal() {
        Some(journal) => match owned {
            Owned::Yes => journal.recover(id).await,
            Owned::No => journal.read(id).await,
        }
        .map_err(|error| ResumeError::Journal { id, error })?,
        None => Read::default(),
    };
    let replayed = journal::replay(snapshot.as_ref(), &journal)
        .map_err(|error| ResumeError::Journal {
            id,
            error: StoreError::Journal(error),
        })?
        .ok_or(ResumeError::Load(LoadError::NotFound { id }))?;
    check_project(
        &replayed.session.project_path,
        snapshot.and_then(|snapshot| snapshot.project),
    )?;
    let session = Session::from_record(replayed.session).map_err(ResumeError::InvalidSession)?;
    let restored = Restored {
        conversation: Arc::new(replayed.conversation),
        seq: replayed.seq,
    };
    Ok((session, restored))
}

/// The saved project directory `path` is still there, a directory, and —
/// where its identity was saved — the same one.
fn check_project(path: &Path, saved: Option<ProjectIdentity>) -> Result<(), ResumeError> {
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Err(ResumeError::ProjectMissing {
                path: path.to_path_buf(),
            });
        }
        Err(error) => {
            return Err(ResumeError::ProjectUnreadable {
                path: path.to_path_buf(),
                message: error.to_string(),
            });
        }
    };
    if !metadata.is_dir() {
        return Err(ResumeError::ProjectNotADirectory {
            path: path.to_path_buf(),
        });
    }
    if let Some(saved) = saved
        && let Ok(found) = ProjectIdentity::of(path)
        && found != saved
    {
        return Err(ResumeError::ProjectReplaced {
            path: path.to_path_buf(),
            saved,
            found,
        });
    }
    Ok(())
}
