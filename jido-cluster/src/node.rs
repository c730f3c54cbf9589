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
use tokio::sync::{oneshot, watch};
use tokio_postgres::{NoTls, Row};
use uuid::Uuid;

use crate::admission::{self, Admission, ClaimRequest, Outcome, Request};
use crate::bigint::from_i64;
use crate::connection::Connection;
use crate::error::CallError;
use crate::listener::Listener;
use crate::placements::{Answer, Placements};
use crate::{ClusterConfig, ClusterError, PgJournal, PgSnapshotStore, lease, schema};

/// A node of a cluster sharing one PostgreSQL database: a
/// [`RegistryBackend`] for a `jido_supervisor::SessionSupervisor`
/// (claims decided by the database: limit, unique id, unique canonical
/// project), and the source of [`PgSnapshotStore`]s and [`PgJournal`]s on
/// the same database.
///
/// [`connect`](Self::connect) creates the tables on first use, registers
/// the node with a lease and renews it in the background (every third of
/// the lease). A node that cannot renew in time — the database answered
/// that the lease expired, or the lease ran out while the node could not
/// reach it — loses its lease: [`lease`](RegistryBackend::lease) moves on
/// (the supervisor then stops every session claimed under the old one) and
/// the node registers again under a new lease. Every write for a session
/// (release, snapshot put and delete, journal append) carries the fencing
/// token of its claim, and the database refuses it unless that claim is
/// still live.
///
/// **Admission.** Claims and releases queue on the node and go to the
/// database together: one call (one transaction, one round trip) decides
/// everything that queued while the previous call ran. In the database,
/// claims are decided one transaction at a time under one row (a counter
/// of the claims and of their changes): the limit is a comparison with
/// that counter, the id and the project are index probes, and lapsed
/// claims (their node's lease expired) are swept when they stand in the
/// way, or a lease after they lapsed.
///
/// **`locate`** is answered from this node's copy of the cluster's claims,
/// kept current by the database's notifications (`LISTEN`): a local read.
/// The copy applies the database's numbered changes in order and stops
/// answering (asking the database instead) whenever it may be behind: a
/// missed change, a broken connection, a periodic check that failed. It
/// never mixes two versions of the claims table, this node's own claims
/// and releases show at once, and another node's once its announcement
/// arrives; [`sync_placements`](Self::sync_placements) waits for every
/// change committed before it.
///
/// A claim whose answer is lost is given up by the node in the
/// background: one whose asker went away (its future dropped) is released
/// once it is made; for a call that failed after it may have reached the
/// database, each attempt carries its own id, and giving it up — under the
/// claims' lock — deletes that attempt's claim if it was made and leaves a
/// tombstone that refuses it if it arrives later.
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
        let mut listening = pg.clone();
        listening.application_name("jido listener");
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
        let (admission, requests) = Admission::start();
        let placements = Arc::new(Placements::default());
        let (stop_listening, listen_until) = oneshot::channel();
        let listener = Listener {
            config: listening,
            placements: Arc::clone(&placements),
            call_timeout: config.call_timeout,
            check_every: config.renew_every(),
        };
        let connection = Arc::new(Connection {
            pool,
            config,
            node,
            lease: watch::Sender::new(Lease(0)),
            live: AtomicBool::new(false),
            claims: Mutex::new(HashMap::new()),
            admission,
            placements,
            _stop_listening: stop_listening,
            left: AtomicBool::new(false),
            abandoned: Mutex::new(Vec::new()),
            sweeping: AtomicBool::new(false),
        });
        tokio::spawn(admission::run(Arc::downgrade(&connection), requests));
        tokio::spawn(listener.run(listen_until));
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
                    .execute("SELECT jido_release_node($1)", &[&node])
                    .await
            })
            .await?;
        Ok(())
    }

    /// Waits until [`locate`](RegistryBackend::locate) on this node
    /// reflects every claim and release committed anywhere in the cluster
    /// before this call: a barrier for code that must read another node's
    /// change at once (a test, or a resume right after a stop elsewhere).
    /// Without it, a change made elsewhere shows here once its announcement
    /// arrives (typically within a millisecond); this node's own changes
    /// show at once.
    ///
    /// # Errors
    ///
    /// [`ClusterError::Timeout`] when the copy is not loaded at that
    /// version within the call timeout (the listening connection cannot be
    /// made, say: `locate` then asks the database); [`ClusterError::Database`]
    /// when the database cannot be read.
    ///
    /// ```no_run
    /// use jido_cluster::{ClusterConfig, PgNode};
    /// use jido_registry::RegistryBackend;
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let id = jido_session::SessionId::new();
    /// let node = PgNode::connect(ClusterConfig::new("host=db.internal user=jido dbname=jido")).await?;
    /// node.sync_placements().await?;
    /// let placement = node.locate(id).await?; // as of the call above, at least
    /// # Ok(()) }
    /// ```
    pub async fn sync_placements(&self) -> Result<(), ClusterError> {
        let row = self
            .connection
            .call("sync the placements", |client| async move {
                client
                    .query_one("SELECT version FROM jido_admission", &[])
                    .await
            })
            .await?;
        let version = from_i64(row.get(0));
        let placements = &self.connection.placements;
        let mut applied = placements.applied();
        let after = self.connection.config.call_timeout;
        let caught_up = tokio::time::timeout(after, async {
            // Loaded and at the version at least: a copy being loaded
            // (after a gap or a new connection) may come up from a read
            // older than the version, so "not loaded" is no answer either.
            loop {
                if placements.is_ready() && *applied.borrow_and_update() >= version {
                    break;
                }
                if applied.changed().await.is_err() {
                    break;
                }
            }
        })
        .await;
        match caught_up {
            Ok(()) => Ok(()),
            Err(_) => Err(ClusterError::Timeout {
                operation: "sync the placements",
                after,
            }),
        }
    }

    /// The placement of `id` as the database has it now (not this node's
    /// copy).
    async fn locate_in_database(&self, id: SessionId) -> Result<Option<Placement>, BackendError> {
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
        let (reply, answer) = oneshot::channel();
        let queued = self.connection.admission.send(Request::Claim(ClaimRequest {
            id: session.id(),
            project: session.project_path().as_path().to_path_buf(),
            limit,
            reply,
        }));
        let gone = || BackendError::Unavailable {
            message: "claim: the node is shutting down".into(),
        };
        if !queued {
            return Err(gone());
        }
        let outcome = answer.await.map_err(|_| gone())??.take();
        let refused = |error| Err(BackendError::Refused(error));
        match outcome {
            Outcome::Claimed { fence, lease } => Ok(Claim { fence, lease }),
            Outcome::LeaseLost => Err(BackendError::LeaseLost),
            Outcome::Limit { count } => refused(RegistryError::LimitReached {
                count: usize::try_from(count).unwrap_or(usize::MAX),
                limit,
            }),
            Outcome::DuplicateId => refused(RegistryError::DuplicateId { id: session.id() }),
            Outcome::DuplicateProject { owner } => refused(RegistryError::DuplicateProject {
                path: session.project_path().clone(),
                owner: session_id(owner)?,
            }),
            Outcome::Unexpected(message) => Err(BackendError::Unavailable { message }),
        }
    }

    async fn release(&self, id: SessionId, fence: Fence) -> Result<(), BackendError> {
        // Only this node's own claim (another node's fence, read off
        // `locate`, releases nothing). A release that fails is retried in
        // the background: else the claim would hold the project as long as
        // this node renews its lease.
        let (reply, answer) = oneshot::channel();
        let queued = self.connection.admission.send(Request::Release {
            id,
            fence,
            reply: Some(reply),
        });
        let gone = || BackendError::Unavailable {
            message: "release: the node is shutting down".into(),
        };
        if !queued {
            return Err(gone());
        }
        answer
            .await
            .map_err(|_| gone())?
            .map_err(BackendError::from)
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
        // This node's own claims, from its own record: current at once.
        if let Some(owned) = self.connection.claims.lock().get(&id) {
            let live = self.has_lease() && *self.connection.lease.borrow() == owned.lease;
            return Ok(live.then(|| Placement {
                id,
                project: owned.project.clone(),
                node: self.connection.node,
                fence: owned.fence,
            }));
        }
        match self.connection.placements.answer(id, self.connection.node) {
            Answer::Known(placement) => Ok(placement),
            Answer::AskTheDatabase => self.locate_in_database(id).await,
        }
    }

    async fn locate_fresh(&self, id: SessionId) -> Result<Option<Placement>, BackendError> {
        self.locate_in_database(id).await
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
