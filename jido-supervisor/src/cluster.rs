//! A supervisor's link to its [`RegistryBackend`]: claims before a tree
//! starts, releases after it ended, and the reaction to a lost lease.

use std::sync::{Arc, Weak};

use futures_util::future::join_all;
use jido_registry::{BackendError, Claim, Fence, Lease, NodeId, Placement, RegistryBackend};
use jido_session::{Session, SessionId};
use tokio::sync::watch;

use crate::core::Core;
use crate::{StartError, Term};

/// Why a session was stopped: its node lost its lease, so the session may
/// now run on another node. Its tree's exit reason is
/// `{shutdown, LeaseLost}` ([`ExitReason::ShutdownWith`](crate::ExitReason::ShutdownWith)),
/// reported as [`EventKind::Stopped`](crate::EventKind::Stopped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("this node lost its lease: the session may now run on another node")]
pub struct LeaseLost;

/// The backend, and the lease the supervisor last saw.
pub(crate) struct Cluster {
    backend: Arc<dyn RegistryBackend>,
    lease: watch::Receiver<Lease>,
}

impl Cluster {
    pub(crate) fn new(backend: Arc<dyn RegistryBackend>) -> Self {
        let lease = backend.lease();
        Cluster { backend, lease }
    }

    pub(crate) fn backend(&self) -> &Arc<dyn RegistryBackend> {
        &self.backend
    }

    /// `true` once the node's lease moved past the one `claim` was made
    /// under: the claim is void.
    pub(crate) fn is_void(&self, claim: &Claim) -> bool {
        claim.lease < *self.lease.borrow()
    }

    /// Claims `session` cluster-wide; a refusal reads as the in-memory
    /// registry's.
    pub(crate) async fn claim(&self, session: &Session, limit: usize) -> Result<Claim, StartError> {
        self.backend
            .claim(session, limit)
            .await
            .map_err(|error| match error {
                BackendError::Refused(refused) => StartError::from(refused),
                other => StartError::Backend(other),
            })
    }

    /// Gives the claim up; a failure is logged (a backend retries what it
    /// can — the PostgreSQL node does — or the claim lasts until the node's
    /// lease ends).
    pub(crate) async fn release(&self, id: SessionId, claim: Claim) {
        release(&*self.backend, id, claim).await;
    }

    /// [`release`](Self::release) from code that cannot wait (a drop): on a
    /// task of the current runtime, if there is one (else the claim lasts
    /// until the node's lease ends).
    pub(crate) fn release_later(&self, id: SessionId, claim: Claim) {
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let backend = Arc::clone(&self.backend);
            runtime.spawn(async move { release(&*backend, id, claim).await });
        }
    }
}

async fn release(backend: &dyn RegistryBackend, id: SessionId, claim: Claim) {
    if let Err(error) = backend.release(id, claim.fence).await {
        tracing::warn!(%id, %error, "releasing the session's claim failed");
    }
}

/// Stops, each time the node's lease is lost, every session claimed under
/// an older lease (their tree's reason: `{shutdown, LeaseLost}`). Runs as
/// long as the supervisor.
pub(crate) async fn stop_on_lease_loss(core: Weak<Core>, mut lease: watch::Receiver<Lease>) {
    while lease.changed().await.is_ok() {
        let current = *lease.borrow_and_update();
        let Some(core) = core.upgrade() else { return };
        let void = core.sessions_claimed_before(current);
        if void.is_empty() {
            continue;
        }
        tracing::warn!(
            sessions = void.len(),
            "this node lost its lease; stopping its sessions"
        );
        tokio::spawn(async move {
            join_all(
                void.into_iter()
                    .map(|id| core.stop(id, Some(Term::new(LeaseLost)))),
            )
            .await;
        });
    }
}

impl crate::SessionSupervisor {
    /// This node's id: its [`RegistryBackend`]'s, or (without one) an id of
    /// this supervisor's own.
    pub fn node(&self) -> NodeId {
        self.core.node()
    }

    /// Which node runs session `id`, cluster-wide (without a backend: this
    /// supervisor, if it has the session; the fence is then `Fence(0)`).
    ///
    /// # Errors
    ///
    /// The backend's: unreachable, timed out.
    ///
    /// ```
    /// use jido_supervisor::SessionSupervisor;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let dir = tempfile::tempdir().unwrap();
    /// let supervisor = SessionSupervisor::new();
    /// let id = supervisor.create_session(dir.path()).await.unwrap().id();
    /// let placement = supervisor.locate(id).await.unwrap().unwrap();
    /// assert_eq!(placement.node, supervisor.node());
    /// # }
    /// ```
    pub async fn locate(&self, id: SessionId) -> Result<Option<Placement>, BackendError> {
        match &self.core.cluster {
            Some(cluster) => cluster.backend().locate(id).await,
            None => Ok(self
                .core
                .current_session(id)
                .map(|session| self.local_placement(&session))),
        }
    }

    /// Every session open in the cluster, and where (without a backend:
    /// this supervisor's), in no particular order.
    ///
    /// # Errors
    ///
    /// The backend's: unreachable, timed out.
    pub async fn list_cluster(&self) -> Result<Vec<Placement>, BackendError> {
        match &self.core.cluster {
            Some(cluster) => cluster.backend().list().await,
            None => Ok(self
                .registry()
                .list_all()
                .iter()
                .map(|session| self.local_placement(session))
                .collect()),
        }
    }

    fn local_placement(&self, session: &Session) -> Placement {
        Placement {
            id: session.id(),
            project: session.project_path().as_path().to_path_buf(),
            node: self.node(),
            fence: Fence(0),
        }
    }
}
