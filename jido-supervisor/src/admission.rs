//! A supervisor's link to its [`RegistryBackend`] ([`Cluster`]): claims
//! before a tree starts, releases after it ended, the lease they were made
//! under; and [`LeaseLost`], why the sessions of a lost lease stop.

use std::sync::Arc;

use jido_registry::{BackendError, Claim, Lease, RegistryBackend};
use jido_session::{Session, SessionId};
use tokio::sync::watch;

use crate::error::StartError;

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
