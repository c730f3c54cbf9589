//! The state a [`SessionSupervisor`](crate::SessionSupervisor) owns, and
//! every change to it, split by a session's lifecycle:
//!
//! - [`table`]: where each session stands ([`SessionSlot`]), the
//!   invariants that hold between the slots, the registry and the events,
//!   and the queries;
//! - [`start`]: registering, starting the tree, committing or rolling back;
//! - [`stop`]: stopping one session or all, saving on stop, the stopper's
//!   `Role`;
//! - [`end`]: a tree's end leaving the registry, whoever reports it, and
//!   the supervisor's own drop;
//! - [`watcher`]: the supervisor's process, which hears every tree's end,
//!   and the lease watcher, which stops the sessions of a lost lease.
//!
//! The handles and contexts the core gives out reach it through narrow
//! crate-private traits ([`SessionOwner`], [`Sessions`]) implemented here,
//! so that they need nothing of the core.

mod end;
mod start;
mod stop;
mod table;
mod watcher;

use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use jido_process::{ExitReason, Pid};
use jido_registry::{NodeId, RegistryView, SessionRegistry, Ticket};
use jido_session::{Session, SessionId};
use jido_store::Persistence;
use jido_store::journal::Durability;
use tokio::sync::Notify;

use crate::admission::Cluster;
use crate::events::SessionOwner;
use crate::events::{EventKind, Events};
use crate::save_locks::SaveLocks;
use crate::session_child::SessionChild;
use crate::session_handle::Sessions;
use crate::tree_handle::TreeHandle;

pub(crate) use start::Restored;
pub(crate) use table::{SessionLocate, SessionSlot};

use table::Lifecycle;
use watcher::Watcher;

/// A session supervisor's state: its table of sessions, what starts their
/// trees, where events go, and its links to persistence and the cluster.
pub(crate) struct Core {
    /// Itself, for the handles and contexts it gives out (which must not
    /// keep it alive).
    me: Weak<Core>,
    /// The sessions and their slots: the table (see [`table`]).
    registry: SessionRegistry<SessionSlot>,
    /// Notified when a slot leaves `Starting` or is removed: wakes stops
    /// waiting for a start, and shutdowns waiting for the last session.
    changed: Notify,
    child: Arc<dyn SessionChild>,
    events: Events,
    /// What each registration's events have said so far (debug builds):
    /// checks invariant 4 of the table.
    lifecycle: Lifecycle,
    start_timeout: Duration,
    /// The supervisor's process, spawned on first use.
    watcher: OnceLock<Watcher>,
    /// Where sessions are saved, if anywhere.
    pub(crate) persistence: Option<PersistConfig>,
    /// One save of a session at a time.
    pub(crate) save_locks: SaveLocks,
    /// The cluster-wide admission, if any (else the registry decides alone).
    pub(crate) cluster: Option<Cluster>,
    /// This node: the backend's, or one of its own.
    node: NodeId,
}

/// The supervisor's persistence settings.
pub(crate) struct PersistConfig {
    pub(crate) persistence: Persistence,
    pub(crate) save_on_stop: bool,
    /// How durable a journaled change is when the State acknowledges it.
    pub(crate) durability: Durability,
    /// How many records a journal holds before it is checkpointed.
    pub(crate) checkpoint_every: u64,
    /// How many bytes of records a journal holds before it is
    /// checkpointed.
    pub(crate) checkpoint_bytes: u64,
}

impl Core {
    pub(crate) fn new(
        max_sessions: usize,
        child: Arc<dyn SessionChild>,
        events: Events,
        start_timeout: Duration,
        persistence: Option<PersistConfig>,
        cluster: Option<Cluster>,
    ) -> Arc<Self> {
        let node = cluster
            .as_ref()
            .map_or_else(NodeId::random, |cluster| cluster.backend().node());
        Arc::new_cyclic(|me| Core {
            me: me.clone(),
            registry: SessionRegistry::bounded(max_sessions),
            changed: Notify::new(),
            child,
            events,
            lifecycle: Lifecycle::default(),
            start_timeout,
            watcher: OnceLock::new(),
            persistence,
            save_locks: SaveLocks::default(),
            cluster,
            node,
        })
    }

    /// This node's id.
    pub(crate) fn node(&self) -> NodeId {
        self.node
    }

    pub(crate) fn events(&self) -> &Events {
        &self.events
    }

    pub(crate) fn registry(&self) -> RegistryView<'_> {
        self.registry.view()
    }

    pub(crate) fn max_sessions(&self) -> usize {
        self.registry.limit()
    }

    /// The supervisor as the handles it gives out reach it.
    pub(crate) fn sessions(&self) -> Weak<dyn Sessions> {
        self.me.clone()
    }

    /// Sends `kind` for the registration `ticket` (checking, in debug
    /// builds, that the lifecycle stays valid: invariant 4 of the table).
    fn emit(&self, ticket: Ticket, kind: EventKind) {
        self.lifecycle.record(ticket, &kind);
        self.events.emit(ticket.id(), kind);
    }
}

impl SessionOwner for Core {
    fn child_event(&self, ticket: Ticket, kind: EventKind) {
        Core::child_event(self, ticket, kind);
    }

    fn current_session(&self, id: SessionId) -> Option<Arc<Session>> {
        Core::current_session(self, id)
    }
}

impl Sessions for Core {
    fn tree_ended(&self, ticket: Ticket, pid: &Pid, reason: &ExitReason) {
        Core::tree_ended(self, ticket, pid, reason);
    }

    fn live_tree(&self, id: SessionId) -> Option<TreeHandle> {
        Core::live_tree(self, id)
    }
}
