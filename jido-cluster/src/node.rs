//! [`PgNode`]: one node of a cluster whose session registry is a
//! PostgreSQL database — connection pool, lease, claims.

use std::collections::HashMap;
use std::os::unix::ffi::OsStrExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use jido_registry::{
    BackendError, Claim, Fence, Lease, NodeId, Placement, RegistryBackend, RegistryError,
};
use jido_session::{Session, SessionId};
use jido_store::Persistence;
use parking_lot::Mutex;
use tokio::sync::watch;
use tokio_postgres::{NoTls, Row};
use uuid::Uuid;

use crate::bigint::{from_i64, to_i64};
use crate::connection::{Abandoned, Connection, Which};
use crate::error::CallError;
use crate::{ClusterConfig, ClusterError, PgJournal, PgSnapshotStore, lease, schema};

/// A node of a cluster sharing one PostgreSQL database: a
/// [`RegistryBackend`] for a `jido_supervisor::SessionSupervisor`
/// (claims decided by the database: limit, unique id, unique canonical
/// project, in one transaction under an advisory lock), and the source of
/// [`PgSnapshotStore`]s on the same database.
///
/// [`connect`](Self::connect) creates the tables on first use, registers
/// the node with a lease and renews it in the background (every third of
/// the lease). A node that cannot renew in time — the database answered
/// that the lease expired, or the lease ran out while the node could not
/// reach it — loses its lease: [`lease`](RegistryBackend::lease) moves on
/// (the supervisor then stops every session claimed under the old one) and
/// the node registers again under a new lease. Every write for a session
/// (release, snapshot put and delete) carries the fencing token of its
/// claim, and the database refuses it unless that claim is still live.
///
/// A claim whose answer is lost (its future dropped, or the call failed
/// after it may have reached the database) is given up by the node in the
/// background: each attempt carries its own id, and giving it up — under
/// the claims' lock — deletes that attempt's claim if it was made and
/// leaves a tombstone that refuses it if it arrives later.
///
/// Cloning is cheap: clones are one node. When the last clone is dropped
/// the renewals stop and the lease expires; [`leave`](Self::leave) ends it
/// at once.
///
/// ```no_run
/// use jido_cluster::{ClusterConfig, PgNode};
/// use jido_supervisor::SessionSupervisor;
///
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let node = PgNode::connect(ClusterConfig::new("host=db.internal user=jido dbname=jido")).await?;
/// let supervisor = SessionSupervisor::builder()
///     .backend(node.clone())
///     .persistence(node.persistence())
///     .max_sessions(100) // for the whole cluster
///     .build();
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PgNode {
    pub(crate) connection: Arc<Connection>,
}

/// Records a claim attempt as abandoned unless its answer was read.
struct Abandon<'a> {
    connection: &'a Connection,
    id: SessionId,
    attempt: Uuid,
    started: tokio::time::Instant,
    answered: bool,
}

impl<'a> Abandon<'a> {
    fn new(connection: &'a Connection, id: SessionId) -> Self {
        Abandon {
            connection,
            id,
            attempt: Uuid::new_v4(),
            started: tokio::time::Instant::now(),
            answered: false,
        }
    }

    fn answered(mut self) {
        self.answered = true;
    }
}

impl Drop for Abandon<'_> {
    fn drop(&mut self) {
        if !self.answered {
            self.connection.abandoned.lock().push(Abandoned {
                id: self.id,
                which: Which::Attempt(self.attempt),
                // At once: the tombstone refuses the attempt should it run
                // later still.
                not_before: self.started,
            });
        }
    }
}

impl std::fmt::Debug for PgNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgNode")
            .field("node", &self.connection.node)
            .field("lease", &*self.connection.lease.borrow())
            .field("live", &self.connection.live.load(Ordering::Acquire))
            .finish_non_exhaustive()
    }
}

impl PgNode {
    /// Connects, creates or upgrades the tables, registers this node with a
    /// lease and starts renewing it.
    ///
    /// # Errors
    ///
    /// [`ClusterError::Config`] for a bad connection string,
    /// [`ClusterError::Unreachable`] when the database refuses (with the
    /// server's reason: "sorry, too many clients already", "role … does not
    /// exist") or cannot be reached ("Connection refused"),
    /// [`ClusterError::Timeout`] when it does not answer within the call
    /// timeout (connecting included),
    /// [`ClusterError::Database`] when a migration fails.
    pub async fn connect(config: ClusterConfig) -> Result<PgNode, ClusterError> {
        let mut pg: tokio_postgres::Config =
            config
                .url
                .parse()
                .map_err(|error: tokio_postgres::Error| ClusterError::Config {
                    message: error.to_string(),
                })?;
        pg.connect_timeout(config.call_timeout);
        pg.options(format!(
            "-c statement_timeout={}",
            config.call_timeout.as_millis()
        ));
        let manager = Manager::from_config(
            pg,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let timeout = Some(config.call_timeout);
        let pool = Pool::builder(manager)
            .max_size(config.pool_size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(timeout)
            .create_timeout(timeout)
            .recycle_timeout(timeout)
            .build()
            .map_err(|error| ClusterError::Config {
                message: error.to_string(),
            })?;
        let after = config.call_timeout;
        let mut client =
            pool.get()
                .await
                .map_err(|error| match CallError::pool("connect", after, &error) {
                    CallError::Timeout { operation, after } => {
                        ClusterError::Timeout { operation, after }
                    }
                    CallError::Unavailable { message, .. } => ClusterError::Unreachable { message },
                })?;
        tokio::time::timeout(after, schema::migrate(&mut client))
            .await
            .map_err(|_| ClusterError::Timeout {
                operation: "migrate",
                after,
            })??;
        drop(client);
        let node = config.node.unwrap_or_else(NodeId::random);
        let connection = Arc::new(Connection {
            pool,
            config,
            node,
            lease: watch::Sender::new(Lease(0)),
            live: AtomicBool::new(false),
            claims: Mutex::new(HashMap::new()),
            left: AtomicBool::new(false),
            abandoned: Mutex::new(Vec::new()),
            sweeping: AtomicBool::new(false),
        });
        let registered = tokio::time::Instant::now();
        let granted = lease::register(&connection).await?;
        connection.lease.send_replace(granted);
        connection.live.store(true, Ordering::Release);
        tokio::spawn(lease::keep(Arc::downgrade(&connection), registered));
        tracing::info!(node = %node, lease = granted.0, "node joined the cluster");
        Ok(PgNode { connection })
    }

    /// A snapshot store on this node's database, its writes fenced by this
    /// node's claims: sessions saved on one node resume on another.
    pub fn snapshot_store(&self) -> PgSnapshotStore {
        PgSnapshotStore {
            connection: Arc::clone(&self.connection),
        }
    }

    /// A journal store on this node's database, its appends fenced by this
    /// node's claims: every change a session acknowledged here can be
    /// resumed on another node.
    pub fn journal(&self) -> PgJournal {
        PgJournal {
            connection: Arc::clone(&self.connection),
        }
    }

    /// Snapshots ([`snapshot_store`](Self::snapshot_store)) and journals
    /// ([`journal`](Self::journal)) on this node's database: the
    /// [`Persistence`] of a supervisor using this node, so that a session
    /// survives the death of its node with every change it acknowledged.
    ///
    /// ```no_run
    /// use jido_cluster::{ClusterConfig, PgNode};
    /// use jido_supervisor::SessionSupervisor;
    ///
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let node = PgNode::connect(ClusterConfig::new("host=db.internal user=jido dbname=jido")).await?;
    /// let supervisor = SessionSupervisor::builder()
    ///     .backend(node.clone())
    ///     .persistence(node.persistence())
    ///     .build();
    /// # Ok(()) }
    /// ```
    pub fn persistence(&self) -> Persistence {
        Persistence::new(self.snapshot_store()).with_journal(self.journal())
    }

    /// How long this node's lease lasts without renewal.
    pub fn lease_timeout(&self) -> Duration {
        self.connection.config.lease
    }

    /// Whether this node holds a live lease now.
    pub fn has_lease(&self) -> bool {
        self.connection.live.load(Ordering::Acquire)
    }

    /// Ends this node's lease now: its claims are void at once (other nodes
    /// may open their projects) and it claims nothing more. A supervisor
    /// using this node stops its sessions as for any lost lease (their
    /// releases are then no-ops). Under the same [`NodeId`] a node that
    /// connects again gets a lease of a higher generation: nothing claimed
    /// before comes back.
    ///
    /// # Errors
    ///
    /// When the database cannot be reached (the lease then expires by
    /// itself).
    pub async fn leave(&self) -> Result<(), ClusterError> {
        let node = *self.connection.node.as_uuid();
        self.connection.left.store(true, Ordering::Release);
        self.connection.live.store(false, Ordering::Release);
        self.connection.lease.send_modify(|lease| lease.0 += 1);
        self.connection
            .call("leave", move |client| async move {
                // The row stays, expired, so that the generation only grows.
                client
                    .execute(
                        "UPDATE jido_nodes SET lease = lease + 1, expires_at = clock_timestamp()
                          WHERE node = $1",
                        &[&node],
                    )
                    .await?;
                client
                    .execute("DELETE FROM jido_sessions WHERE node = $1", &[&node])
                    .await
            })
            .await?;
        Ok(())
    }
}

fn session_id(uuid: Uuid) -> Result<SessionId, BackendError> {
    SessionId::from_uuid(uuid).map_err(|error| BackendError::Unavailable {
        message: format!("the database holds an invalid session id: {error}"),
    })
}

fn placement(row: &Row) -> Result<Placement, BackendError> {
    let project: Vec<u8> = row.get(1);
    Ok(Placement {
        id: session_id(row.get(0))?,
        project: std::ffi::OsStr::from_bytes(&project).into(),
        node: NodeId::from_uuid(row.get(2)),
        fence: Fence(from_i64(row.get(3))),
    })
}

/// The live claims (their node's lease current and unexpired).
const LIVE_CLAIMS: &str = "SELECT s.id, s.project, s.node, s.fence FROM jido_live_sessions s";

#[async_trait]
impl RegistryBackend for PgNode {
    fn node(&self) -> NodeId {
        self.connection.node
    }

    fn lease(&self) -> watch::Receiver<Lease> {
        self.connection.lease.subscribe()
    }

    async fn claim(&self, session: &Session, limit: usize) -> Result<Claim, BackendError> {
        if !self.has_lease() {
            return Err(BackendError::LeaseLost);
        }
        let lease = *self.connection.lease.borrow();
        let id = *session.id().as_uuid();
        let path = session.project_path().as_path();
        let project = path.as_os_str().as_bytes().to_vec();
        let text = path.to_string_lossy().into_owned();
        let node = *self.connection.node.as_uuid();
        let params = (to_i64(lease.0), to_i64(limit as u64));
        // Until the answer is read, the outcome is unknown: if this future
        // is dropped or the call fails, the attempt is given up later.
        let attempt = Abandon::new(&self.connection, session.id());
        let attempt_id = attempt.attempt;
        let row = self
            .connection
            .call("claim", move |client| async move {
                let statement = client
                    .prepare_cached("SELECT * FROM jido_claim($1, $2, $3, $4, $5, $6, $7)")
                    .await?;
                client
                    .query_one(
                        &statement,
                        &[
                            &id,
                            &project,
                            &text,
                            &node,
                            &params.0,
                            &params.1,
                            &attempt_id,
                        ],
                    )
                    .await
            })
            .await?;
        attempt.answered();
        let outcome: &str = row.get(0);
        let refused = |error| Err(BackendError::Refused(error));
        match outcome {
            "claimed" => {
                let fence = Fence(from_i64(row.get(1)));
                self.connection.claims.lock().insert(session.id(), fence);
                Ok(Claim { fence, lease })
            }
            "lease_lost" => {
                // Only the lease this claim was made under (a newer one may
                // have been granted meanwhile).
                if *self.connection.lease.borrow() == lease {
                    lease::lose(&self.connection, "the database says it expired");
                }
                Err(BackendError::LeaseLost)
            }
            "limit" => refused(RegistryError::LimitReached {
                count: usize::try_from(row.get::<_, i64>(3)).unwrap_or(usize::MAX),
                limit,
            }),
            "duplicate_id" => refused(RegistryError::DuplicateId { id: session.id() }),
            "duplicate_project" => refused(RegistryError::DuplicateProject {
                path: session.project_path().clone(),
                owner: session_id(row.get(2))?,
            }),
            other => Err(BackendError::Unavailable {
                message: format!("unexpected claim outcome {other:?}"),
            }),
        }
    }

    async fn release(&self, id: SessionId, fence: Fence) -> Result<(), BackendError> {
        let uuid = *id.as_uuid();
        let token = to_i64(fence.0);
        let node = *self.connection.node.as_uuid();
        // Only this node's own claim (another node's fence, read off
        // `locate`, releases nothing).
        let released = self
            .connection
            .call("release", move |client| async move {
                let statement = client
                    .prepare_cached(
                        "DELETE FROM jido_sessions WHERE id = $1 AND fence = $2 AND node = $3",
                    )
                    .await?;
                client.execute(&statement, &[&uuid, &token, &node]).await
            })
            .await;
        if let Err(error) = released {
            // Else the claim would hold the project as long as this node
            // renews its lease: retried in the background.
            self.connection.abandoned.lock().push(Abandoned {
                id,
                which: Which::Fence(fence),
                not_before: tokio::time::Instant::now(),
            });
            return Err(error.into());
        }
        let mut claims = self.connection.claims.lock();
        if claims.get(&id) == Some(&fence) {
            claims.remove(&id);
        }
        Ok(())
    }

    async fn last_owner(&self, id: SessionId) -> Result<Option<NodeId>, BackendError> {
        let uuid = *id.as_uuid();
        // A lapsed claim stays until the next claim anywhere sweeps it.
        let row = self
            .connection
            .call("last owner", move |client| async move {
                client
                    .query_opt(
                        "SELECT s.node FROM jido_sessions s
                          WHERE s.id = $1
                            AND NOT EXISTS (SELECT 1 FROM jido_live_sessions l WHERE l.id = s.id)",
                        &[&uuid],
                    )
                    .await
            })
            .await?;
        Ok(row.map(|row| NodeId::from_uuid(row.get(0))))
    }

    async fn locate(&self, id: SessionId) -> Result<Option<Placement>, BackendError> {
        let uuid = *id.as_uuid();
        let row = self
            .connection
            .call("locate", move |client| async move {
                let statement = client
                    .prepare_cached(&format!("{LIVE_CLAIMS} WHERE s.id = $1"))
                    .await?;
                client.query_opt(&statement, &[&uuid]).await
            })
            .await?;
        row.as_ref().map(placement).transpose()
    }

    async fn list(&self) -> Result<Vec<Placement>, BackendError> {
        let rows = self
            .connection
            .call("list", |client| async move {
                let statement = client.prepare_cached(LIVE_CLAIMS).await?;
                client.query(&statement, &[]).await
            })
            .await?;
        rows.iter().map(placement).collect()
    }
}
