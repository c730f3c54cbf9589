//! [`SessionSupervisorBuilder`]: what a [`SessionSupervisor`] is built
//! with.

use std::sync::Arc;
use std::time::Duration;

use jido_registry::{DEFAULT_LIMIT, RegistryBackend};
use jido_store::Persistence;
use jido_store::journal::Durability;

use super::{
    DEFAULT_CHECKPOINT_BYTES, DEFAULT_CHECKPOINT_EVERY, DEFAULT_START_TIMEOUT, SessionSupervisor,
};

use crate::admission::Cluster;
use crate::core::{Core, PersistConfig};
use crate::events::Events;
use crate::session_child::SessionChild;
use crate::session_sup::SessionSup;

/// Configures a [`SessionSupervisor`].
///
/// ```
/// use std::time::Duration;
/// use jido_supervisor::tree::SessionSup;
/// use jido_supervisor::SessionSupervisor;
///
/// let supervisor = SessionSupervisor::builder()
///     .max_sessions(100)
///     .session_child(SessionSup::new())
///     .start_timeout(Duration::from_secs(1))
///     .build();
/// assert_eq!(supervisor.max_children(), 100);
/// ```
#[must_use]
pub struct SessionSupervisorBuilder {
    max_sessions: usize,
    child: Option<Arc<dyn SessionChild>>,
    events: Option<Events>,
    start_timeout: Duration,
    persistence: Option<Persistence>,
    save_on_stop: bool,
    durability: Durability,
    checkpoint_every: u64,
    checkpoint_bytes: u64,
    backend: Option<Arc<dyn RegistryBackend>>,
    adopt: Option<(Duration, usize)>,
}

impl SessionSupervisorBuilder {
    /// Decide admission (the limit, unique ids, unique projects) for a whole
    /// cluster through `backend` — for instance `jido-cluster`'s PostgreSQL
    /// node — instead of in this supervisor's memory alone (the default).
    ///
    /// Each start then claims the session in the backend before its tree
    /// starts (refusals read as the in-memory registry's:
    /// [`StartError::Registry`](crate::StartError::Registry); a backend failure is
    /// [`StartError::Backend`](crate::StartError::Backend)), and each end releases the claim. When the
    /// node loses its lease, every session claimed under it is stopped
    /// (reason `{shutdown, `[`LeaseLost`](crate::cluster::LeaseLost)`}`).
    /// [`max_sessions`](Self::max_sessions) is then the cluster's limit:
    /// give every node the same.
    ///
    /// ```
    /// use jido_supervisor::cluster::MemoryCluster;
    /// use jido_supervisor::{RegistryError, SessionSupervisor, StartError};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let dir = tempfile::tempdir().unwrap();
    /// let cluster = MemoryCluster::new();
    /// let a = SessionSupervisor::builder().backend(cluster.join()).build();
    /// let b = SessionSupervisor::builder().backend(cluster.join()).build();
    ///
    /// let session = a.create_session(dir.path()).await.unwrap();
    /// assert!(matches!(
    ///     b.create_session(dir.path()).await,
    ///     Err(StartError::Registry(RegistryError::DuplicateProject { .. }))
    /// ));
    /// assert_eq!(b.locate(session.id()).await.unwrap().unwrap().node, a.node());
    /// # }
    /// ```
    pub fn backend(self, backend: impl RegistryBackend) -> Self {
        self.backend_arc(Arc::new(backend))
    }

    /// Like [`backend`](Self::backend), for a backend already shared.
    pub fn backend_arc(mut self, backend: Arc<dyn RegistryBackend>) -> Self {
        self.backend = Some(backend);
        self
    }

    /// Where sessions are saved ([`save`](SessionSupervisor::save),
    /// [`resume`](SessionSupervisor::resume), ...): for instance
    /// `Persistence::in_dir(dir)?`, one file per session in `dir`.
    pub fn persistence(mut self, persistence: Persistence) -> Self {
        self.persistence = Some(persistence);
        self
    }

    /// Whether every stop ([`stop_session`](SessionSupervisor::stop_session),
    /// [`shutdown`](SessionSupervisor::shutdown)) saves the session after
    /// its tree ended and before it leaves the registry (default no; needs
    /// [`persistence`](Self::persistence)). Best effort: a failed save is
    /// reported ([`EventKind::SaveFailed`](crate::EventKind::SaveFailed) and
    /// the log) and the stop goes on. Not on crashes, nor when the
    /// supervisor is dropped.
    pub fn save_on_stop(mut self, save: bool) -> Self {
        self.save_on_stop = save;
        self
    }

    /// How durable a change is when the State acknowledges it, with a
    /// [`persistence`](Self::persistence) that journals (as
    /// `Persistence::in_dir` does): [`Durability::Os`], the default, survives
    /// the death of the program; [`Durability::Sync`] also a power loss;
    /// [`Durability::OnStop`] journals nothing (sessions are saved only as
    /// they stop, with [`save_on_stop`](Self::save_on_stop)).
    ///
    /// ```
    /// use jido_supervisor::{Message, Persistence, Role, SessionSupervisor};
    /// use jido_supervisor::store::Durability;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (project, snapshots) = (tempfile::tempdir()?, tempfile::tempdir()?);
    /// let supervisor = SessionSupervisor::builder()
    ///     .persistence(Persistence::in_dir(snapshots.path())?)
    ///     .durability(Durability::Sync)
    ///     .build();
    /// let id = supervisor.create_session(project.path()).await?.id();
    /// // On the disk when it returns: a power cut now loses nothing of it.
    /// supervisor.state(id).unwrap().append_message(Message::new(Role::User, "hello")).await?;
    /// # Ok(()) }
    /// ```
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// How many records a session's journal holds before it is
    /// checkpointed — the session saved, covering them, and the journal cut
    /// — so that journals (and replays) stay short: default
    /// [`DEFAULT_CHECKPOINT_EVERY`]. A session whose snapshot cannot be
    /// saved (over the snapshot limit, say) keeps its journal.
    pub fn checkpoint_every(mut self, records: u64) -> Self {
        self.checkpoint_every = records;
        self
    }

    /// How many bytes of records a session's journal holds before it is
    /// checkpointed, whichever of this and
    /// [`checkpoint_every`](Self::checkpoint_every) comes first: default
    /// [`DEFAULT_CHECKPOINT_BYTES`] (32 MiB), so that a session of large
    /// changes (tool results, files read) replays as fast as one of small
    /// ones.
    ///
    /// ```
    /// use jido_supervisor::{Message, Persistence, Role, SessionSupervisor};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (project, store) = (tempfile::tempdir()?, tempfile::tempdir()?);
    /// let persistence = Persistence::in_dir(store.path())?;
    /// let supervisor = SessionSupervisor::builder()
    ///     .persistence(persistence.clone())
    ///     .checkpoint_every_bytes(64 * 1024)
    ///     .build();
    /// let id = supervisor.create_session(project.path()).await?.id();
    /// let state = supervisor.state(id).unwrap();
    /// state.append_message(Message::new(Role::Tool, "x".repeat(40_000))).await?;
    /// assert!(persistence.load(id).await.is_err()); // journaled only
    /// state.append_message(Message::new(Role::Tool, "x".repeat(40_000))).await?;
    /// // Past 64 KiB of journal: checkpointed, the session saved.
    /// assert_eq!(persistence.load(id).await?.conversation.message_count(), 2);
    /// # Ok(()) }
    /// ```
    pub fn checkpoint_every_bytes(mut self, bytes: u64) -> Self {
        self.checkpoint_bytes = bytes;
        self
    }

    /// Failover: every `every`, adopt up to `at_most` orphans of the
    /// cluster — the sessions of nodes that died, once their leases have
    /// expired — as [`adopt_orphans`](SessionSupervisor::adopt_orphans)
    /// does, each announced by [`EventKind::Adopted`](crate::EventKind::Adopted).
    /// Off by default; the claim decides between survivors adopting at
    /// once. Give it a third of the lease, say: a dead node's sessions then
    /// run again within the lease and a third.
    pub fn adopt_orphans_every(mut self, every: Duration, at_most: usize) -> Self {
        self.adopt = Some((every.max(Duration::from_millis(1)), at_most));
        self
    }

    /// The most sessions open at once (default 10).
    pub fn max_sessions(mut self, limit: usize) -> Self {
        self.max_sessions = limit;
        self
    }

    /// What starts each session's tree (default: [`SessionSup::new()`]):
    /// the real tree with your children, or a stub or a mock from
    /// `jido-testkit` (Elixir's `:supervisor_module`).
    pub fn session_child(self, child: impl SessionChild) -> Self {
        self.session_child_arc(Arc::new(child))
    }

    /// Like [`session_child`](Self::session_child), for a child already
    /// shared.
    pub fn session_child_arc(mut self, child: Arc<dyn SessionChild>) -> Self {
        self.child = Some(child);
        self
    }

    /// Where lifecycle events go (default: a new channel).
    pub fn events(mut self, events: Events) -> Self {
        self.events = Some(events);
        self
    }

    /// How long a tree may take to start (default 5 s).
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// The supervisor. Inside a tokio runtime its own process (which
    /// receives its trees' exits) starts now; outside one, with the first
    /// session: no runtime is needed to build one.
    pub fn build(self) -> SessionSupervisor {
        let core = Core::new(
            self.max_sessions,
            self.child.unwrap_or_else(|| Arc::new(SessionSup::new())),
            self.events.unwrap_or_default(),
            self.start_timeout,
            self.persistence.map(|persistence| PersistConfig {
                persistence,
                save_on_stop: self.save_on_stop,
                durability: self.durability,
                checkpoint_every: self.checkpoint_every.max(1),
                checkpoint_bytes: self.checkpoint_bytes.max(1),
            }),
            self.backend.map(Cluster::new),
        );
        if tokio::runtime::Handle::try_current().is_ok() {
            core.start_process();
            if let Some((every, at_most)) = self.adopt {
                tokio::spawn(adopt_periodically(Arc::downgrade(&core), every, at_most));
            }
        }
        SessionSupervisor { core }
    }
}

impl SessionSupervisor {
    /// A builder, to choose the child, the limit, the timeout.
    pub fn builder() -> SessionSupervisorBuilder {
        SessionSupervisorBuilder {
            max_sessions: DEFAULT_LIMIT,
            child: None,
            events: None,
            start_timeout: DEFAULT_START_TIMEOUT,
            persistence: None,
            save_on_stop: false,
            durability: Durability::default(),
            checkpoint_every: DEFAULT_CHECKPOINT_EVERY,
            checkpoint_bytes: DEFAULT_CHECKPOINT_BYTES,
            backend: None,
            adopt: None,
        }
    }
}

/// Adopts orphans every `every` while the supervisor lives.
async fn adopt_periodically(core: std::sync::Weak<Core>, every: Duration, at_most: usize) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(core) = core.upgrade() else { return };
        let supervisor = SessionSupervisor { core };
        if let Err(error) = supervisor.adopt_orphans(at_most).await {
            tracing::warn!(%error, "adopting orphans failed; trying again");
        }
    }
}
