//! [`ClusterConfig`]: how a node reaches the database and keeps its lease.

use std::time::Duration;

use jido_registry::NodeId;

/// How long a node's lease lasts unless told otherwise.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(10);

/// How long any one database call may take unless told otherwise.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(3);

/// How long a pooled connection may stay unused before it is closed, unless
/// told otherwise.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// How a [`PgNode`](crate::PgNode) connects and keeps its lease.
///
/// ```
/// use std::time::Duration;
/// use jido_cluster::ClusterConfig;
///
/// let config = ClusterConfig::new("host=127.0.0.1 port=5432 user=jido dbname=jido")
///     .lease(Duration::from_secs(6))
///     .call_timeout(Duration::from_secs(1))
///     .pool_size(4);
/// assert_eq!(config.renew_every(), Duration::from_secs(2));
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct ClusterConfig {
    pub(crate) url: String,
    pub(crate) lease: Duration,
    pub(crate) call_timeout: Duration,
    pub(crate) pool_size: usize,
    pub(crate) idle_timeout: Duration,
    pub(crate) node: Option<NodeId>,
}

impl ClusterConfig {
    /// Connects with `url`, a libpq connection string
    /// (`host=… port=… user=… dbname=…`) or URL (`postgres://user@host/db`);
    /// a lease of [`DEFAULT_LEASE`], calls limited to
    /// [`DEFAULT_CALL_TIMEOUT`], a pool of 8 connections, a new random node
    /// id.
    pub fn new(url: impl Into<String>) -> Self {
        ClusterConfig {
            url: url.into(),
            lease: DEFAULT_LEASE,
            call_timeout: DEFAULT_CALL_TIMEOUT,
            pool_size: 8,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            node: None,
        }
    }

    /// How long the node's lease lasts without renewal: a node that dies
    /// frees its sessions' projects this long after its last renewal, and a
    /// node that cannot renew for this long stops its sessions. Renewed
    /// every third of it. At least three call timeouts make sense (a
    /// renewal may take one).
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How long any one database call (connecting included) may take before
    /// it fails with a timeout.
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// How many connections the node keeps (at least 1).
    pub fn pool_size(mut self, size: usize) -> Self {
        self.pool_size = size.max(1);
        self
    }

    /// How long a pooled connection may stay unused before the node closes
    /// it (default [`DEFAULT_IDLE_TIMEOUT`], 60 s): after a burst, the
    /// connections it opened go back to the server instead of holding its
    /// slots. Checked at every lease renewal, so closed within a third of
    /// the lease after they pass it.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// The node's id (default: a new random one). A node that restarts
    /// under its old id gets a lease of a higher generation: what it
    /// claimed before stays void.
    pub fn node(mut self, node: NodeId) -> Self {
        self.node = Some(node);
        self
    }

    /// How often the lease is renewed: a third of it.
    pub fn renew_every(&self) -> Duration {
        self.lease / 3
    }
}
