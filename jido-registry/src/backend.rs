//! [`RegistryBackend`]: where the cluster-wide admission of sessions is
//! decided (limit, unique id, unique project), and the types it speaks in:
//! [`NodeId`], [`Lease`], [`Fence`], [`Claim`], [`Placement`],
//! [`BackendError`].

use std::fmt;
use std::path::PathBuf;

use async_trait::async_trait;
use jido_session::{Session, SessionId};
use tokio::sync::watch;
use uuid::Uuid;

use crate::RegistryError;

/// Names one node (one program running a session supervisor) of a
/// cluster.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(Uuid);

impl NodeId {
    /// A new, random node id.
    pub fn random() -> Self {
        NodeId(Uuid::new_v4())
    }

    /// The node id `uuid`.
    pub fn from_uuid(uuid: Uuid) -> Self {
        NodeId(uuid)
    }

    /// This id as a UUID.
    pub fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeId({})", self.0)
    }
}

/// One lease of a node: its generation. A node holds one lease at a time;
/// when it loses it (not renewed in time: a crash, a partition, a long
/// pause) every claim made under it is void, and the node's next lease has
/// a higher generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lease(pub u64);

/// A fencing token: a number that grows with every ownership of a session,
/// cluster-wide. A write carries the token of the claim it acts for, and
/// the backend refuses it unless that claim is still the current one under
/// a live lease: a stale owner (one whose lease expired while it was
/// paused) cannot overwrite what a newer owner did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fence(pub u64);

/// What a successful [`RegistryBackend::claim`] grants: the session belongs
/// to this node, under `lease`, with fencing token `fence`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    /// The fencing token of this ownership.
    pub fence: Fence,
    /// The lease the claim lives under: it is void once the node's lease
    /// moves past it.
    pub lease: Lease,
}

/// Where a session runs, cluster-wide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The session.
    pub id: SessionId,
    /// Its project's canonical path, as the owning node resolved it.
    pub project: PathBuf,
    /// The node that runs it.
    pub node: NodeId,
    /// The fencing token of that ownership.
    pub fence: Fence,
}

/// Why a [`RegistryBackend`] call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// The claim was refused (limit, duplicate id, duplicate project), as
    /// the in-memory registry refuses it.
    #[error(transparent)]
    Refused(RegistryError),
    /// This node holds no live lease (it lost it, or has not yet got a new
    /// one): it claims nothing until it has.
    #[error("this node holds no live lease")]
    LeaseLost,
    /// A write carried a fencing token that is no longer the current owner's
    /// under a live lease: it was refused and changed nothing.
    #[error("write for session {id} refused: fencing token {fence:?} is stale")]
    Fenced {
        /// The session written for.
        id: SessionId,
        /// The stale token.
        fence: Fence,
    },
    /// The backend could not be reached or failed.
    #[error("registry backend unavailable: {message}")]
    Unavailable {
        /// What went wrong.
        message: String,
    },
    /// The backend did not answer in time.
    #[error("registry backend call {operation} timed out after {after:?}")]
    Timeout {
        /// The call.
        operation: &'static str,
        /// The timeout.
        after: std::time::Duration,
    },
}

/// Decides, for a whole cluster, which sessions may open: at most `limit`,
/// each id once, each canonical project once — and which node runs each.
///
/// A session supervisor without a backend decides this in memory, for
/// itself (the embedded default: no setup, no I/O). With a backend it still
/// keeps its own trees in memory (processes live on one node), and asks the
/// backend before starting a tree: [`claim`](Self::claim) must decide every
/// check and the insert atomically (never check-then-insert in the client),
/// so of concurrent claims of one project across the cluster exactly one
/// wins.
///
/// Leases: a node's claims live under its current [`Lease`]. The backend
/// renews it in the background; when it cannot (the node was paused or cut
/// off past the lease timeout), the lease is lost, [`lease`](Self::lease)
/// moves to a higher generation, and the supervisor stops every session
/// claimed under the old one. Meanwhile other nodes may claim those
/// sessions' projects; every write of the stale owner carries its
/// [`Fence`] and is refused ([`BackendError::Fenced`]).
///
/// Every call returns within the backend's own timeout
/// ([`BackendError::Timeout`]), never hangs.
///
/// [`MemoryCluster`](crate::MemoryCluster) is an in-process implementation
/// (several supervisors of one program sharing one admission); the
/// PostgreSQL one is in `jido-cluster`.
#[async_trait]
pub trait RegistryBackend: Send + Sync + 'static {
    /// This node's id.
    fn node(&self) -> NodeId;

    /// This node's current lease; it changes (to a higher generation) when
    /// the lease is lost, which voids every claim made under the old one.
    fn lease(&self) -> watch::Receiver<Lease>;

    /// Claims `session` for this node, under its current lease: refused
    /// with [`BackendError::Refused`] if `limit` sessions are open in the
    /// cluster ([`RegistryError::LimitReached`]), or its id
    /// ([`RegistryError::DuplicateId`]) or its canonical project
    /// ([`RegistryError::DuplicateProject`]) is another live claim's; with
    /// [`BackendError::LeaseLost`] if this node holds no live lease. Claims
    /// of nodes whose lease expired do not count.
    async fn claim(&self, session: &Session, limit: usize) -> Result<Claim, BackendError>;

    /// Gives up the claim on `id` made with `fence` by this node. Idempotent:
    /// a claim that is gone (released, expired, taken over) is left alone,
    /// and so is another node's, whatever fence is given (`locate` shows
    /// fences to everyone).
    ///
    /// A backend handle is its supervisor's: the supervisor releases each
    /// claim as its tree ends. Code that keeps a clone of the node a
    /// supervisor uses holds the same capability, and a release it makes of
    /// a claim the supervisor still runs frees that project for another
    /// start while the tree runs on (two trees on one project) — call it
    /// only for claims made yourself, as `SessionSupervisor` does.
    async fn release(&self, id: SessionId, fence: Fence) -> Result<(), BackendError>;

    /// The node whose claim on `id` lapsed (its lease expired), while the
    /// backend still remembers it: for reports of an adoption. Default:
    /// `None`.
    async fn last_owner(&self, id: SessionId) -> Result<Option<NodeId>, BackendError> {
        let _ = id;
        Ok(None)
    }

    /// Which node runs session `id`, if any live claim has it. A backend
    /// may answer from a copy kept current in the background (the
    /// PostgreSQL one does): a change made on another node then shows once
    /// the copy has it; this node's own claims and releases show at once.
    async fn locate(&self, id: SessionId) -> Result<Option<Placement>, BackendError>;

    /// As [`locate`](Self::locate), from the source of truth itself, never
    /// a copy: for a decision that must see another node's change made just
    /// before (a resume after a stop elsewhere). Default: `locate`.
    async fn locate_fresh(&self, id: SessionId) -> Result<Option<Placement>, BackendError> {
        self.locate(id).await
    }

    /// Every live claim in the cluster, in no particular order.
    async fn list(&self) -> Result<Vec<Placement>, BackendError>;
}

impl fmt::Debug for dyn RegistryBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryBackend")
            .field("node", &self.node())
            .finish_non_exhaustive()
    }
}
