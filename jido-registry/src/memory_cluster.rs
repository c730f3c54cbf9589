//! [`MemoryCluster`]: a [`RegistryBackend`] in this program's memory —
//! several session supervisors of one program sharing one admission (one
//! limit, each id and project once), with leases a test can take away.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use jido_session::{Session, SessionId};
use parking_lot::Mutex;
use tokio::sync::watch;

use crate::{BackendError, Claim, Fence, Lease, NodeId, Placement, RegistryBackend, RegistryError};

/// An in-memory cluster: every [`MemoryNode`] joined to it shares one
/// table of claims, decided under one lock.
///
/// ```
/// use jido_registry::{MemoryCluster, RegistryBackend, RegistryError, BackendError};
/// use jido_session::Session;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let dir = tempfile::tempdir().unwrap();
/// let cluster = MemoryCluster::new();
/// let (a, b) = (cluster.join(), cluster.join());
///
/// let first = Session::new(dir.path()).unwrap();
/// let claim = a.claim(&first, 10).await.unwrap();
/// assert!(matches!(
///     b.claim(&Session::new(dir.path()).unwrap(), 10).await,
///     Err(BackendError::Refused(RegistryError::DuplicateProject { .. }))
/// ));
/// assert_eq!(b.locate(first.id()).await.unwrap().unwrap().node, a.node());
///
/// // Only the node that made a claim releases it, with its fence.
/// b.release(first.id(), claim.fence).await.unwrap();
/// assert!(b.locate(first.id()).await.unwrap().is_some());
/// a.release(first.id(), claim.fence).await.unwrap();
/// assert!(b.claim(&Session::new(dir.path()).unwrap(), 10).await.is_ok());
/// # }
/// ```
#[derive(Clone, Default)]
pub struct MemoryCluster {
    table: Arc<Mutex<Table>>,
}

#[derive(Default)]
struct Table {
    claims: HashMap<SessionId, Row>,
    projects: HashMap<PathBuf, SessionId>,
    next_fence: u64,
}

struct Row {
    project: PathBuf,
    node: NodeId,
    fence: Fence,
}

impl Table {
    fn remove(&mut self, id: SessionId) {
        if let Some(row) = self.claims.remove(&id) {
            self.projects.remove(&row.project);
        }
    }

    fn placement(id: SessionId, row: &Row) -> Placement {
        Placement {
            id,
            project: row.project.clone(),
            node: row.node,
            fence: row.fence,
        }
    }
}

impl MemoryCluster {
    /// An empty cluster.
    pub fn new() -> Self {
        Self::default()
    }

    /// A new node of this cluster, with a live lease.
    pub fn join(&self) -> MemoryNode {
        let (lease, _) = watch::channel(Lease(1));
        MemoryNode {
            cluster: self.clone(),
            node: NodeId::random(),
            lease: Arc::new(lease),
        }
    }
}

impl std::fmt::Debug for MemoryCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryCluster")
            .field("claims", &self.table.lock().claims.len())
            .finish()
    }
}

/// One node of a [`MemoryCluster`].
#[derive(Clone, Debug)]
pub struct MemoryNode {
    cluster: MemoryCluster,
    node: NodeId,
    lease: Arc<watch::Sender<Lease>>,
}

impl MemoryNode {
    /// Takes this node's lease away, as an expiry would: every claim it
    /// holds is void at once (others may claim those projects), and the
    /// node goes on under a new lease.
    pub fn lose_lease(&self) {
        let mut table = self.cluster.table.lock();
        let mine: Vec<SessionId> = table
            .claims
            .iter()
            .filter(|(_, row)| row.node == self.node)
            .map(|(id, _)| *id)
            .collect();
        for id in mine {
            table.remove(id);
        }
        self.lease.send_modify(|lease| lease.0 += 1);
    }
}

#[async_trait]
impl RegistryBackend for MemoryNode {
    fn node(&self) -> NodeId {
        self.node
    }

    fn lease(&self) -> watch::Receiver<Lease> {
        self.lease.subscribe()
    }

    async fn claim(&self, session: &Session, limit: usize) -> Result<Claim, BackendError> {
        let mut table = self.cluster.table.lock();
        let project = session.project_path().as_path();
        let refused = if table.claims.len() >= limit {
            Some(RegistryError::LimitReached {
                count: table.claims.len(),
                limit,
            })
        } else if table.claims.contains_key(&session.id()) {
            Some(RegistryError::DuplicateId { id: session.id() })
        } else {
            table
                .projects
                .get(project)
                .map(|owner| RegistryError::DuplicateProject {
                    path: session.project_path().clone(),
                    owner: *owner,
                })
        };
        if let Some(refused) = refused {
            return Err(BackendError::Refused(refused));
        }
        table.next_fence += 1;
        let fence = Fence(table.next_fence);
        table.projects.insert(project.to_path_buf(), session.id());
        table.claims.insert(
            session.id(),
            Row {
                project: project.to_path_buf(),
                node: self.node,
                fence,
            },
        );
        Ok(Claim {
            fence,
            lease: *self.lease.borrow(),
        })
    }

    async fn release(&self, id: SessionId, fence: Fence) -> Result<(), BackendError> {
        let mut table = self.cluster.table.lock();
        // Only this node's own claim: a fence read off `locate` by another
        // node releases nothing.
        if table
            .claims
            .get(&id)
            .is_some_and(|row| row.fence == fence && row.node == self.node)
        {
            table.remove(id);
        }
        Ok(())
    }

    async fn locate(&self, id: SessionId) -> Result<Option<Placement>, BackendError> {
        let table = self.cluster.table.lock();
        Ok(table.claims.get(&id).map(|row| Table::placement(id, row)))
    }

    async fn list(&self) -> Result<Vec<Placement>, BackendError> {
        let table = self.cluster.table.lock();
        Ok(table
            .claims
            .iter()
            .map(|(id, row)| Table::placement(*id, row))
            .collect())
    }
}
