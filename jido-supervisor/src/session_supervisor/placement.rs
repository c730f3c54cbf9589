//! Where sessions run: this node, and — with a backend — any node of the
//! cluster.

use jido_registry::{BackendError, Fence, NodeId, Placement};
use jido_session::{Session, SessionId};

use super::SessionSupervisor;

impl SessionSupervisor {
    /// This node's id: its [`RegistryBackend`](crate::cluster::RegistryBackend)'s, or (without one) an id of
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
