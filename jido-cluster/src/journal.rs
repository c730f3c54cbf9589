//! [`PgJournal`]: sessions' journals in the cluster's database, each
//! append fenced by the writing node's claim.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use jido_session::SessionId;
use jido_store::StoreError;
use jido_store::journal::{Durability, JournalStore, Read, read};

use crate::bigint::to_i64;
use crate::connection::Connection;

/// A [`JournalStore`] in the cluster's PostgreSQL database (table
/// `jido_journal`, one row per append), made by
/// [`PgNode::journal`](crate::PgNode::journal): every change a session
/// acknowledged on one node is there for the node that resumes it.
///
/// An append is acknowledged once the database has committed it: what it
/// survives is then the server's `synchronous_commit` (on by default: a
/// crash of the server and a power cut too), for [`Durability::Os`] and
/// [`Durability::Sync`] alike; [`Durability::OnStop`] writes nothing.
/// The records are the frames [`jido_store::journal`] defines, checked as
/// on a file when read back. A transaction is never torn, so a journal read
/// back here never has a torn tail.
///
/// Appends are fenced as snapshot writes are: one succeeds only for a
/// session this node claims, under a live lease ([`StoreError::Fenced`]
/// otherwise), so a node that lost its lease cannot append after the
/// session's new owner resumed it. [`delete`](JournalStore::delete) is
/// fenced the same way; of a session this node does not claim, it is
/// refused while a live claim elsewhere holds it.
///
/// Use it through [`PgNode::persistence`](crate::PgNode::persistence), or
/// [`Persistence::with_journal`](jido_store::Persistence::with_journal).
#[derive(Clone)]
pub struct PgJournal {
    pub(crate) connection: Arc<Connection>,
}

impl std::fmt::Debug for PgJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgJournal")
            .field("node", &self.connection.node)
            .finish_non_exhaustive()
    }
}

impl PgJournal {
    /// Every append of session `id`, in order, concatenated.
    async fn frames(&self, operation: &'static str, id: SessionId) -> Result<Vec<u8>, StoreError> {
        let uuid = *id.as_uuid();
        let rows = self
            .connection
            .call(operation, move |client| async move {
                let statement = client
                    .prepare_cached("SELECT frames FROM jido_journal WHERE id = $1 ORDER BY last")
                    .await?;
                client.query(&statement, &[&uuid]).await
            })
            .await?;
        let mut bytes = Vec::new();
        for row in &rows {
            bytes.extend_from_slice(row.get::<_, &[u8]>(0));
        }
        Ok(bytes)
    }
}

#[async_trait]
impl JournalStore for PgJournal {
    async fn append(
        &self,
        id: SessionId,
        frames: Vec<u8>,
        last: u64,
        durability: Durability,
    ) -> Result<(), StoreError> {
        if durability == Durability::OnStop {
            return Ok(());
        }
        let operation = "append to the journal";
        let fence = self
            .connection
            .fence_of(id)
            .ok_or(StoreError::Fenced { operation, id })?;
        let (uuid, token, last) = (*id.as_uuid(), to_i64(fence.0), to_i64(last));
        let written = self
            .connection
            .call(operation, move |client| async move {
                // The claim's row locked (`FOR KEY SHARE`) by the insert:
                // a claim of the session elsewhere, which deletes this
                // expired one first, waits for the append to commit, and an
                // append that runs after it finds no live claim.
                let statement = client
                    .prepare_cached(
                        "INSERT INTO jido_journal (id, last, frames, fence)
                         SELECT $1, $3, $4, $2
                           FROM jido_sessions s
                           JOIN jido_nodes n ON n.node = s.node AND n.lease = s.lease
                          WHERE s.id = $1 AND s.fence = $2
                            AND n.expires_at > clock_timestamp()
                            FOR KEY SHARE OF s",
                    )
                    .await?;
                client
                    .execute(&statement, &[&uuid, &token, &last, &frames])
                    .await
            })
            .await?;
        if written == 1 {
            Ok(())
        } else {
            Err(StoreError::Fenced { operation, id })
        }
    }

    async fn recover(&self, id: SessionId) -> Result<Read, StoreError> {
        // Nothing to cut: a transaction is whole or absent.
        self.read(id).await
    }

    async fn read(&self, id: SessionId) -> Result<Read, StoreError> {
        let bytes = self.frames("read the journal", id).await?;
        read(&bytes).map_err(StoreError::Journal)
    }

    async fn last_written(&self, id: SessionId) -> Result<Option<DateTime<Utc>>, StoreError> {
        let uuid = *id.as_uuid();
        let row = self
            .connection
            .call("read the journal's time", move |client| async move {
                client
                    .query_one(
                        "SELECT (extract(epoch FROM max(written_at)) * 1000000)::bigint
                           FROM jido_journal WHERE id = $1",
                        &[&uuid],
                    )
                    .await
            })
            .await?;
        Ok(row
            .get::<_, Option<i64>>(0)
            .and_then(DateTime::<Utc>::from_timestamp_micros))
    }

    async fn list(&self) -> Result<Vec<SessionId>, StoreError> {
        let rows = self
            .connection
            .call("list journals", |client| async move {
                client
                    .query("SELECT DISTINCT id FROM jido_journal", &[])
                    .await
            })
            .await?;
        Ok(rows
            .iter()
            .filter_map(|row| SessionId::from_uuid(row.get(0)).ok())
            .collect())
    }

    async fn delete(&self, id: SessionId) -> Result<(), StoreError> {
        self.connection
            .fenced_delete("delete the journal", "jido_journal", "TRUE", id)
            .await
    }
}
