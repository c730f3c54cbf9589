//! A node's lease: registered on connect, renewed every third of its
//! length (a failed renewal tried again at once, and again while the lease
//! is valid by the node's clock), lost when the database says it expired or
//! when the node could not renew it in time, then registered again under a
//! new generation.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

use jido_registry::Lease;
use tokio::time::Instant;

use crate::bigint::to_i64;
use crate::connection::{Abandoned, Connection, Which};
use crate::error::CallError;

/// How long the keeper waits before trying a failed renewal again.
const RETRY_PAUSE: std::time::Duration = std::time::Duration::from_millis(50);

/// Registers the node's next lease (a generation higher than any it held)
/// and returns it.
pub(crate) async fn register(connection: &Connection) -> Result<Lease, CallError> {
    let node = *connection.node.as_uuid();
    let seconds = connection.config.lease.as_secs_f64();
    let row = connection
        .call("register lease", move |client| async move {
            client
                .query_one(
                    "INSERT INTO jido_nodes (node, lease, expires_at)
                     VALUES ($1, 1, clock_timestamp() + make_interval(secs => $2))
                     ON CONFLICT (node) DO UPDATE
                        SET lease = jido_nodes.lease + 1, expires_at = EXCLUDED.expires_at
                     RETURNING lease",
                    &[&node, &seconds],
                )
                .await
        })
        .await?;
    Ok(Lease(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0)))
}

/// Extends the lease `lease` if it is still live; `false` if the database
/// says it is not (expired, or superseded).
async fn renew(connection: &Connection, lease: Lease) -> Result<bool, CallError> {
    let node = *connection.node.as_uuid();
    let generation = to_i64(lease.0);
    let seconds = connection.config.lease.as_secs_f64();
    let renewed = connection
        .call("renew lease", move |client| async move {
            let statement = client
                .prepare_cached(
                    "UPDATE jido_nodes
                        SET expires_at = clock_timestamp() + make_interval(secs => $3)
                      WHERE node = $1 AND lease = $2 AND expires_at > clock_timestamp()",
                )
                .await?;
            client
                .execute(&statement, &[&node, &generation, &seconds])
                .await
        })
        .await?;
    Ok(renewed == 1)
}

/// Marks the lease lost: every claim under it is void from now on.
pub(crate) fn lose(connection: &Connection, why: &str) {
    if connection.live.swap(false, Ordering::AcqRel) {
        connection.lease.send_modify(|lease| lease.0 += 1);
        tracing::warn!(node = %connection.node, why, "lease lost");
    }
}

/// Keeps the node's lease, registered when `registered` (the instant the
/// registration was sent), for as long as the node exists.
///
/// The node counts its lease as valid until `lease` after it *sent* the
/// last successful renewal: never later than the database does (the
/// database's clock starts when it receives the renewal). Past that, with
/// no answer, the lease is lost.
pub(crate) async fn keep(node: Weak<Connection>, registered: Instant) {
    let Some(connection) = node.upgrade() else {
        return;
    };
    let lease_length = connection.config.lease;
    let every = connection.config.renew_every();
    let mut valid_until = registered + lease_length;
    drop(connection);
    let mut next = Instant::now() + every;
    let mut live = true;
    loop {
        // Wake for the next renewal, or when a live lease runs out.
        let wake = if live { next.min(valid_until) } else { next };
        tokio::time::sleep_until(wake).await;
        let Some(connection) = node.upgrade() else {
            return;
        };
        if connection.left.load(Ordering::Acquire) {
            return;
        }
        let now = Instant::now();
        let mut retry = false;
        if connection.live.load(Ordering::Acquire) {
            if now >= valid_until {
                lose(&connection, "not renewed in time");
            } else {
                let lease = *connection.lease.borrow();
                let sent = now;
                // A renewal may not outlast the lease it renews.
                match tokio::time::timeout_at(valid_until, renew(&connection, lease)).await {
                    Ok(Ok(true)) => valid_until = sent + lease_length,
                    Ok(Ok(false)) => lose(&connection, "the database says it expired"),
                    Ok(Err(error)) => {
                        // Tried again at once (after a short pause, so that
                        // a database refusing at once is not spun on), and
                        // again while the lease is valid by this node's
                        // clock: waiting a whole interval could reach the
                        // lease's end.
                        tracing::warn!(node = %connection.node, ?error, "renewing the lease failed; retrying");
                        retry = true;
                    }
                    Err(_) => lose(&connection, "not renewed in time"),
                }
            }
        }
        if !connection.live.load(Ordering::Acquire) {
            let sent = Instant::now();
            match register(&connection).await {
                // A node that left while this was in flight stays out.
                Ok(_) if connection.left.load(Ordering::Acquire) => return,
                Ok(granted) => {
                    valid_until = sent + lease_length;
                    connection
                        .lease
                        .send_modify(|lease| *lease = (*lease).max(granted));
                    connection.live.store(true, Ordering::Release);
                    tracing::info!(node = %connection.node, lease = granted.0, "new lease");
                }
                Err(error) => {
                    tracing::warn!(node = %connection.node, ?error, "registering a new lease failed; retrying");
                }
            }
        }
        // Connections unused for the idle timeout go back to the server.
        let idle = connection.config.idle_timeout;
        connection
            .pool
            .retain(|_, metrics| metrics.last_used() < idle);
        // On its own task: its calls may each take a call timeout, and the
        // renewals must not wait for them.
        if !connection.sweeping.swap(true, Ordering::AcqRel) {
            tokio::spawn(give_up_abandoned(Arc::clone(&connection)));
        }
        live = connection.live.load(Ordering::Acquire);
        next = Instant::now() + if retry { RETRY_PAUSE.min(every) } else { every };
        drop::<Arc<Connection>>(connection);
    }
}

/// Gives up the abandoned attempts and failed releases that are due (what
/// fails is tried again on the next tick), then sweeps the claims that
/// lapsed a lease ago.
async fn give_up_abandoned(connection: Arc<Connection>) {
    if !connection.abandoned.lock().is_empty() {
        sweep(&connection).await;
    }
    sweep_lapsed(&connection).await;
    connection.sweeping.store(false, Ordering::Release);
}

/// Deletes the claims whose node's lease expired more than a lease ago (or
/// was replaced by a newer one): until then `last_owner` names their node.
async fn sweep_lapsed(connection: &Connection) {
    let grace = connection.config.lease.as_secs_f64();
    let swept = connection
        .call("sweep lapsed claims", move |client| async move {
            let statement = client
                .prepare_cached("SELECT jido_sweep(make_interval(secs => $1))")
                .await?;
            let row = client.query_one(&statement, &[&grace]).await?;
            Ok(row.get::<_, i64>(0))
        })
        .await;
    match swept {
        Ok(0) => {}
        Ok(swept) => tracing::debug!(node = %connection.node, swept, "swept lapsed claims"),
        Err(error) => {
            tracing::debug!(node = %connection.node, ?error, "sweeping lapsed claims failed")
        }
    }
}

async fn sweep(connection: &Connection) {
    let now = Instant::now();
    let due: Vec<Abandoned> = {
        let mut abandoned = connection.abandoned.lock();
        let (due, later) = std::mem::take(&mut *abandoned)
            .into_iter()
            .partition(|entry: &Abandoned| entry.not_before <= now);
        *abandoned = later;
        due
    };
    let node = *connection.node.as_uuid();
    for entry in due {
        let id = *entry.id.as_uuid();
        let which = match entry.which {
            Which::Attempt(attempt) => Ok(attempt),
            Which::Fence(fence) => Err(to_i64(fence.0)),
        };
        let deleted = connection
            .call("give up an abandoned claim", move |client| async move {
                match which {
                    Ok(attempt) => {
                        let row = client
                            .query_one("SELECT jido_give_up($1, $2)", &[&id, &attempt])
                            .await?;
                        Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
                    }
                    Err(fence) => {
                        // Under the admission row, as every writer of the
                        // claims.
                        client
                            .execute(
                                "SELECT FROM jido_admit($3, 0, '{}', '{}', '{}', '{}', '{}',
                                                        ARRAY[$1::uuid], ARRAY[$2::bigint])",
                                &[&id, &fence, &node],
                            )
                            .await
                    }
                }
            })
            .await;
        match deleted {
            Ok(n) => {
                if n > 0 {
                    tracing::info!(id = %entry.id, "gave up a claim whose answer was lost");
                }
            }
            Err(error) => {
                tracing::warn!(id = %entry.id, ?error, "giving up an abandoned claim failed; retrying");
                connection.abandoned.lock().push(entry);
            }
        }
    }
}
