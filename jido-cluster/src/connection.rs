//! [`Connection`]: what a node, its lease and its snapshot stores share —
//! the connection pool, the configuration, the node's lease and claims —
//! and [`call`](Connection::call), every database call within the call
//! timeout.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use deadpool_postgres::{Object, Pool};
use jido_registry::{Fence, Lease, NodeId};
use jido_session::SessionId;
use parking_lot::Mutex;
use tokio::sync::{oneshot, watch};
use uuid::Uuid;

use crate::ClusterConfig;
use crate::admission::Admission;
use crate::error::CallError;
use crate::placements::Placements;

/// One node's connection to the cluster's database and the state kept
/// with it: shared (behind an `Arc`) by the [`PgNode`](crate::PgNode), the
/// task keeping its lease and its [`PgSnapshotStore`](crate::PgSnapshotStore)s.
pub(crate) struct Connection {
    pub(crate) pool: Pool,
    pub(crate) config: ClusterConfig,
    pub(crate) node: NodeId,
    /// The current lease's generation (moves on when it is lost).
    pub(crate) lease: watch::Sender<Lease>,
    /// Whether the current lease is live (registered, not expired).
    pub(crate) live: AtomicBool,
    /// This node's claims: the fence each session's writes carry, and what
    /// `locate` answers for them.
    pub(crate) claims: Mutex<HashMap<SessionId, Owned>>,
    /// The queue of claims and releases, decided in batches.
    pub(crate) admission: Admission,
    /// The cluster's claims, copied here for `locate`.
    pub(crate) placements: Arc<Placements>,
    /// Dropped with the node: stops the task keeping `placements`.
    pub(crate) _stop_listening: oneshot::Sender<()>,
    /// Set by `leave`: the lease is not renewed nor registered again.
    pub(crate) left: AtomicBool,
    /// Claims to delete still: attempts whose outcome is unknown, releases
    /// that failed.
    pub(crate) abandoned: Mutex<Vec<Abandoned>>,
    /// Set while a task gives abandoned claims up.
    pub(crate) sweeping: AtomicBool,
}

/// A claim this node made.
#[derive(Debug, Clone)]
pub(crate) struct Owned {
    pub(crate) fence: Fence,
    /// The lease it was made under: void once the node's lease moved on.
    pub(crate) lease: Lease,
    pub(crate) project: PathBuf,
}

/// A claim to delete in the background: an attempt whose answer was never
/// read (the call was dropped, or failed after it may have reached the
/// database), or a release that failed.
pub(crate) struct Abandoned {
    pub(crate) id: SessionId,
    pub(crate) which: Which,
    /// Not before then (a release is retried on the next tick).
    pub(crate) not_before: tokio::time::Instant,
}

/// Which claim of a session an [`Abandoned`] names.
pub(crate) enum Which {
    /// The claim made by this attempt, if it was made.
    Attempt(Uuid),
    /// The claim with this fencing token.
    Fence(Fence),
}

impl Connection {
    /// Runs `work` on a pooled connection, within the call timeout.
    pub(crate) async fn call<T, F, Fut>(
        &self,
        operation: &'static str,
        work: F,
    ) -> Result<T, CallError>
    where
        F: FnOnce(Object) -> Fut,
        Fut: Future<Output = Result<T, tokio_postgres::Error>>,
    {
        let after = self.config.call_timeout;
        let attempt = async {
            let client = self
                .pool
                .get()
                .await
                .map_err(|error| CallError::pool(operation, after, &error))?;
            work(client)
                .await
                .map_err(|error| CallError::db(operation, &error))
        };
        tokio::time::timeout(after, attempt)
            .await
            .unwrap_or(Err(CallError::Timeout { operation, after }))
    }

    /// The fence of this node's claim on `id`, if it has one.
    pub(crate) fn fence_of(&self, id: SessionId) -> Option<Fence> {
        self.claims.lock().get(&id).map(|owned| owned.fence)
    }

    /// Forgets this node's claim `fence` on `id` (released), if it is the
    /// one recorded.
    pub(crate) fn forget_claim(&self, id: SessionId, fence: Fence) {
        let mut claims = self.claims.lock();
        if claims.get(&id).is_some_and(|owned| owned.fence == fence) {
            claims.remove(&id);
        }
    }
}

impl Connection {
    /// Deletes session `id`'s rows of `table`, fenced: for a session this
    /// node claims, only while that claim is live (and only rows meeting
    /// `owned_rows`, over `$1` the id and `$2` the fence); for any other,
    /// only while no live claim elsewhere holds it.
    /// [`StoreError::Fenced`](jido_store::StoreError::Fenced) if rows were there and none could go.
    pub(crate) async fn fenced_delete(
        &self,
        operation: &'static str,
        table: &'static str,
        owned_rows: &'static str,
        id: SessionId,
    ) -> Result<(), jido_store::StoreError> {
        use crate::bigint::to_i64;
        use crate::snapshot_store::{CLAIMED, OWNED};
        let uuid = *id.as_uuid();
        let token = self.fence_of(id).map(|fence| to_i64(fence.0));
        let row = self
            .call(operation, move |client| async move {
                let which = match token {
                    Some(_) => format!("{owned_rows} AND {OWNED}"),
                    None => format!("NOT {CLAIMED}"),
                };
                let sql = format!(
                    "WITH deleted AS (DELETE FROM {table} WHERE id = $1 AND {which} RETURNING 1)
                     SELECT (SELECT count(*) FROM deleted),
                            EXISTS (SELECT 1 FROM {table} WHERE id = $1)"
                );
                match token {
                    Some(token) => client.query_one(&sql, &[&uuid, &token]).await,
                    None => client.query_one(&sql, &[&uuid]).await,
                }
            })
            .await?;
        let deleted: i64 = row.get(0);
        let existed: bool = row.get(1);
        if existed && deleted == 0 {
            Err(jido_store::StoreError::Fenced { operation, id })
        } else {
            Ok(())
        }
    }
}
