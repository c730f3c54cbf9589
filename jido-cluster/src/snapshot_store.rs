//! [`PgSnapshotStore`]: session snapshots in the cluster's database, each
//! write fenced by the writing node's claim.

use std::sync::Arc;

use async_trait::async_trait;
use jido_session::SessionId;
use jido_store::{SnapshotStore, StoreError};

use crate::bigint::to_i64;
use crate::connection::Connection;

/// A [`SnapshotStore`] in the cluster's PostgreSQL database (table
/// `jido_snapshots`), made by [`PgNode::snapshot_store`](crate::PgNode::snapshot_store):
/// a session saved on one node resumes on another.
///
/// Writes are fenced: [`put`](SnapshotStore::put) succeeds only for a
/// session this node claims, under a live lease, and never overwrites a
/// snapshot written under a newer claim (a higher fencing token); so a node
/// that was paused past its lease cannot save over what the session's new
/// owner saved ([`StoreError::Fenced`]). [`delete`](SnapshotStore::delete)
/// of a session this node claims is fenced the same way; of any other, it
/// is refused while a live claim elsewhere holds the session.
///
/// Use it through [`Persistence::new`](jido_store::Persistence::new).
#[derive(Clone)]
pub struct PgSnapshotStore {
    pub(crate) connection: Arc<Connection>,
}

impl std::fmt::Debug for PgSnapshotStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgSnapshotStore")
            .field("node", &self.connection.node)
            .finish_non_exhaustive()
    }
}

/// A live claim on `$1` with fence `$2`.
pub(crate) const OWNED: &str =
    "EXISTS (SELECT 1 FROM jido_live_sessions s WHERE s.id = $1 AND s.fence = $2)";

/// Any live claim on `$1`.
pub(crate) const CLAIMED: &str = "EXISTS (SELECT 1 FROM jido_live_sessions s WHERE s.id = $1)";

#[async_trait]
impl SnapshotStore for PgSnapshotStore {
    async fn put(&self, id: SessionId, bytes: Vec<u8>) -> Result<(), StoreError> {
        let operation = "put";
        let fence = self
            .connection
            .fence_of(id)
            .ok_or(StoreError::Fenced { operation, id })?;
        let uuid = *id.as_uuid();
        let token = to_i64(fence.0);
        let written = self
            .connection
            .call(operation, move |client| async move {
                let statement = client
                    .prepare_cached(&format!(
                        "INSERT INTO jido_snapshots (id, bytes, fence)
                         SELECT $1, $3, $2 WHERE {OWNED}
                         ON CONFLICT (id) DO UPDATE
                            SET bytes = EXCLUDED.bytes, fence = EXCLUDED.fence,
                                saved_at = clock_timestamp()
                          WHERE jido_snapshots.fence <= EXCLUDED.fence"
                    ))
                    .await?;
                client.execute(&statement, &[&uuid, &token, &bytes]).await
            })
            .await?;
        if written == 1 {
            Ok(())
        } else {
            Err(StoreError::Fenced { operation, id })
        }
    }

    async fn get(&self, id: SessionId, max_bytes: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let uuid = *id.as_uuid();
        let limit = to_i64(max_bytes);
        let row = self
            .connection
            .call("get", move |client| async move {
                let statement = client
                    .prepare_cached(
                        "SELECT octet_length(bytes)::bigint,
                                CASE WHEN octet_length(bytes)::bigint <= $2::bigint THEN bytes END
                           FROM jido_snapshots WHERE id = $1",
                    )
                    .await?;
                client.query_opt(&statement, &[&uuid, &limit]).await
            })
            .await?;
        let Some(row) = row else { return Ok(None) };
        match row.get::<_, Option<Vec<u8>>>(1) {
            Some(bytes) => Ok(Some(bytes)),
            None => Err(StoreError::TooLarge {
                size: u64::try_from(row.get::<_, i64>(0)).unwrap_or(u64::MAX),
                limit: max_bytes,
            }),
        }
    }

    async fn list(&self) -> Result<Vec<SessionId>, StoreError> {
        let rows = self
            .connection
            .call("list", |client| async move {
                client.query("SELECT id FROM jido_snapshots", &[]).await
            })
            .await?;
        // A row whose id is no session id is no snapshot of ours: skipped.
        Ok(rows
            .iter()
            .filter_map(|row| SessionId::from_uuid(row.get(0)).ok())
            .collect())
    }

    async fn delete(&self, id: SessionId) -> Result<(), StoreError> {
        self.connection
            .fenced_delete("delete", "jido_snapshots", "fence <= $2", id)
            .await
    }
}
