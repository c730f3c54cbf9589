//! [`Admission`]: a node's claims and releases, queued and sent to the
//! database together — one call of `jido_admit` (one transaction, one
//! round trip) for everything that queued while the previous call ran.
//!
//! One call is in flight per node at a time: a lone start pays one round
//! trip and the task hop, and under load the batches grow with the queue,
//! so that the database's one serialization point (the admission row) is
//! taken once per batch rather than once per claim.
//!
//! A claim whose asker went away (its future dropped) is still decided;
//! if it was made, it is released (see [`Granted`]). A call that failed
//! after it may have reached the database leaves its claims' outcomes
//! unknown: their attempts are given up in the background, and its
//! releases retried, as before batching.

use std::path::PathBuf;
use std::sync::{Arc, Weak};

use jido_registry::{Fence, Lease};
use jido_session::SessionId;
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::Row;
use uuid::Uuid;

use crate::bigint::{from_i64, to_i64};
use crate::connection::{Abandoned, Connection, Owned, Which};
use crate::error::CallError;
use crate::lease;

/// The most requests one call decides.
const MAX_BATCH: usize = 512;

/// The statement deciding a batch.
const ADMIT: &str = "SELECT * FROM jido_admit($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// The sending end of a node's admission queue.
pub(crate) struct Admission {
    queue: mpsc::UnboundedSender<Request>,
}

/// A claim to decide.
pub(crate) struct ClaimRequest {
    pub(crate) id: SessionId,
    pub(crate) project: PathBuf,
    pub(crate) limit: usize,
    pub(crate) reply: oneshot::Sender<Result<Granted, CallError>>,
}

/// What a node asks the database.
pub(crate) enum Request {
    Claim(ClaimRequest),
    /// Gives up claim `fence` on `id`; `reply`, if any, hears how it went.
    Release {
        id: SessionId,
        fence: Fence,
        reply: Option<oneshot::Sender<Result<(), CallError>>>,
    },
}

/// How the database decided a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Claimed { fence: Fence, lease: Lease },
    LeaseLost,
    Limit { count: u64 },
    DuplicateId,
    DuplicateProject { owner: Uuid },
    Unexpected(String),
}

/// A decided claim on its way to its asker. Should the asker be gone (the
/// reply dropped unread), a claim it made is released: nobody else would.
pub(crate) struct Granted {
    outcome: Option<Outcome>,
    id: SessionId,
    connection: Weak<Connection>,
}

impl Granted {
    /// The outcome, now the asker's to act on.
    pub(crate) fn take(mut self) -> Outcome {
        self.outcome
            .take()
            .unwrap_or_else(|| Outcome::Unexpected("a claim's outcome was taken twice".into()))
    }
}

impl Drop for Granted {
    fn drop(&mut self) {
        let Some(Outcome::Claimed { fence, .. }) = self.outcome.take() else {
            return;
        };
        if let Some(connection) = self.connection.upgrade() {
            connection.forget_claim(self.id, fence);
            connection.admission.release_unasked(self.id, fence);
        }
    }
}

impl Admission {
    /// A queue, and the task deciding it for `connection` (which owns the
    /// queue: the task ends with it).
    pub(crate) fn start() -> (Admission, mpsc::UnboundedReceiver<Request>) {
        let (queue, requests) = mpsc::unbounded_channel();
        (Admission { queue }, requests)
    }

    /// Queues `request`; `false` if the node is gone.
    pub(crate) fn send(&self, request: Request) -> bool {
        self.queue.send(request).is_ok()
    }

    /// Queues a release nobody waits for.
    pub(crate) fn release_unasked(&self, id: SessionId, fence: Fence) {
        let _ = self.queue.send(Request::Release {
            id,
            fence,
            reply: None,
        });
    }
}

/// Decides the queue of the node `connection` until the node is gone.
pub(crate) async fn run(
    connection: Weak<Connection>,
    mut requests: mpsc::UnboundedReceiver<Request>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while requests.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let Some(connection) = connection.upgrade() else {
            return;
        };
        decide(&connection, std::mem::take(&mut batch)).await;
    }
}

/// One call of `jido_admit` for `batch`, and its answers.
async fn decide(connection: &Arc<Connection>, batch: Vec<Request>) {
    let mut claims = Vec::new();
    let mut releases = Vec::new();
    for request in batch {
        match request {
            Request::Claim(claim) if claim.reply.is_closed() => {
                // Nobody waits: not even made.
                drop(claim);
            }
            Request::Claim(claim) => claims.push((claim, Uuid::new_v4())),
            Request::Release { id, fence, reply } => releases.push((id, fence, reply)),
        }
    }
    let lease = *connection.lease.borrow();
    let live = connection.live.load(std::sync::atomic::Ordering::Acquire);
    if !live {
        // Decided here: no claim is made without a live lease.
        for (claim, _) in claims.drain(..) {
            reply(connection, claim, Ok(Outcome::LeaseLost));
        }
        if releases.is_empty() {
            return;
        }
    }
    let node = *connection.node.as_uuid();
    let ids: Vec<Uuid> = claims.iter().map(|(c, _)| *c.id.as_uuid()).collect();
    let projects: Vec<Vec<u8>> = claims
        .iter()
        .map(|(c, _)| {
            use std::os::unix::ffi::OsStrExt;
            c.project.as_os_str().as_bytes().to_vec()
        })
        .collect();
    let texts: Vec<String> = claims
        .iter()
        .map(|(c, _)| c.project.to_string_lossy().into_owned())
        .collect();
    let attempts: Vec<Uuid> = claims.iter().map(|(_, attempt)| *attempt).collect();
    let limits: Vec<i64> = claims.iter().map(|(c, _)| to_i64(c.limit as u64)).collect();
    let release_ids: Vec<Uuid> = releases.iter().map(|(id, _, _)| *id.as_uuid()).collect();
    let release_fences: Vec<i64> = releases.iter().map(|(_, f, _)| to_i64(f.0)).collect();
    let generation = to_i64(lease.0);
    let answer = connection
        .call("admit", move |client| async move {
            let statement = client.prepare_cached(ADMIT).await?;
            client
                .query(
                    &statement,
                    &[
                        &node,
                        &generation,
                        &ids,
                        &projects,
                        &texts,
                        &attempts,
                        &limits,
                        &release_ids,
                        &release_fences,
                    ],
                )
                .await
        })
        .await;
    match answer {
        Ok(rows) => {
            let mut outcomes: Vec<Option<Outcome>> = vec![None; claims.len()];
            for row in &rows {
                let index: i32 = row.get(0);
                let slot = usize::try_from(index)
                    .ok()
                    .and_then(|index| index.checked_sub(1))
                    .and_then(|index| outcomes.get_mut(index));
                if let Some(slot) = slot {
                    *slot = Some(outcome(row, lease));
                }
            }
            if outcomes.contains(&Some(Outcome::LeaseLost)) && *connection.lease.borrow() == lease {
                // Only the lease these claims were made under (a newer one
                // may have been granted meanwhile).
                lease::lose(connection, "the database says it expired");
            }
            for ((claim, _), outcome) in claims.into_iter().zip(outcomes) {
                let outcome =
                    outcome.unwrap_or_else(|| Outcome::Unexpected("no answer for a claim".into()));
                reply(connection, claim, Ok(outcome));
            }
            for (id, fence, reply) in releases {
                connection.forget_claim(id, fence);
                if let Some(reply) = reply {
                    let _ = reply.send(Ok(()));
                }
            }
        }
        Err(error) => {
            // The outcome is unknown: each attempt is given up (deleted if
            // it was made, refused if it runs later), each release retried.
            let now = tokio::time::Instant::now();
            {
                let mut abandoned = connection.abandoned.lock();
                for (claim, attempt) in &claims {
                    abandoned.push(Abandoned {
                        id: claim.id,
                        which: Which::Attempt(*attempt),
                        not_before: now,
                    });
                }
                for (id, fence, _) in &releases {
                    // Given up either way: no longer this node's to answer
                    // for (`locate`) or to write under.
                    connection.forget_claim(*id, *fence);
                    abandoned.push(Abandoned {
                        id: *id,
                        which: Which::Fence(*fence),
                        not_before: now,
                    });
                }
            }
            for (claim, _) in claims {
                let _ = claim.reply.send(Err(error.clone()));
            }
            for (_, _, reply) in releases {
                if let Some(reply) = reply {
                    let _ = reply.send(Err(error.clone()));
                }
            }
        }
    }
}

/// Records a claim made, then answers its asker (who may be gone: then
/// [`Granted`] releases it).
fn reply(connection: &Arc<Connection>, claim: ClaimRequest, outcome: Result<Outcome, CallError>) {
    if let Ok(Outcome::Claimed { fence, lease }) = &outcome {
        connection.claims.lock().insert(
            claim.id,
            Owned {
                fence: *fence,
                lease: *lease,
                project: claim.project.clone(),
            },
        );
    }
    let granted = outcome.map(|outcome| Granted {
        outcome: Some(outcome),
        id: claim.id,
        connection: Arc::downgrade(connection),
    });
    // Unread, the grant drops and releases what it made.
    let _ = claim.reply.send(granted);
}

/// One row of `jido_admit`'s answer.
fn outcome(row: &Row, lease: Lease) -> Outcome {
    let outcome: &str = row.get(1);
    match outcome {
        "claimed" => Outcome::Claimed {
            fence: Fence(from_i64(row.get(2))),
            lease,
        },
        "lease_lost" => Outcome::LeaseLost,
        "limit" => Outcome::Limit {
            count: from_i64(row.get::<_, Option<i64>>(4).unwrap_or(i64::MAX)),
        },
        "duplicate_id" => Outcome::DuplicateId,
        "duplicate_project" => match row.get::<_, Option<Uuid>>(3) {
            Some(owner) => Outcome::DuplicateProject { owner },
            None => Outcome::Unexpected("a project held by nobody".into()),
        },
        other => Outcome::Unexpected(format!("unexpected claim outcome {other:?}")),
    }
}
