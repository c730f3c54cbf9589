//! The task keeping a node's [`Placements`] current: its own connection
//! (outside the pool), `LISTEN jido_sessions`, one consistent load, then
//! every announced change in order.
//!
//! The copy stops answering (`locate` asks the database) whenever it may
//! be behind: the connection broke, a change was missed, or a check — every
//! renewal interval, the database's version read on this connection, which
//! the copy must reach within a call timeout — failed. The task then
//! connects (or loads) again, after a pause that doubles up to a second.

use std::sync::Arc;
use std::time::Duration;

use jido_registry::{Fence, NodeId};
use jido_session::SessionId;
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::{AsyncMessage, Client, IsolationLevel, NoTls};

use crate::bigint::from_i64;
use crate::error::CallError;
use crate::placements::{Cached, NodeLease, Placements, Table, local_micros};

/// The first pause before listening again, doubled after each attempt
/// that did not load the copy, back to this once one did.
const FIRST_PAUSE: Duration = Duration::from_millis(10);

/// The longest pause between attempts to listen again.
const MAX_PAUSE: Duration = Duration::from_secs(1);

/// What the listening task needs.
pub(crate) struct Listener {
    pub(crate) config: tokio_postgres::Config,
    pub(crate) placements: Arc<Placements>,
    pub(crate) call_timeout: Duration,
    pub(crate) check_every: Duration,
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Listener {
    /// Listens until `stop` fires (or its sender is dropped: the node is
    /// gone).
    pub(crate) async fn run(self, mut stop: oneshot::Receiver<()>) {
        let mut pause = FIRST_PAUSE;
        loop {
            tokio::select! {
                _ = &mut stop => break,
                ended = self.listen(&mut pause) => {
                    tracing::debug!(?ended, "the placements' listener stopped; listening again");
                }
            }
            self.placements.unload();
            tokio::select! {
                _ = &mut stop => break,
                () = tokio::time::sleep(pause) => {}
            }
            pause = (pause * 2).min(MAX_PAUSE);
        }
        self.placements.unload();
    }

    /// One connection's life: connect, listen, load, apply; returns why it
    /// ended.
    async fn listen(&self, pause: &mut Duration) -> CallError {
        let after = self.call_timeout;
        let connected = tokio::time::timeout(after, self.config.connect(NoTls)).await;
        let (mut client, mut connection) = match connected {
            Ok(Ok(pair)) => pair,
            Ok(Err(error)) => return CallError::db("listen", &error),
            Err(_) => {
                return CallError::Timeout {
                    operation: "listen",
                    after,
                };
            }
        };
        let (notices, mut notified) = mpsc::unbounded_channel::<String>();
        // The connection's messages: notifications forwarded, the rest (the
        // client's answers) handled by the connection itself.
        let _driver = AbortOnDrop(tokio::spawn(async move {
            while let Some(message) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                match message {
                    Ok(AsyncMessage::Notification(notification)) => {
                        if notices.send(notification.payload().to_owned()).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => return,
                }
            }
        }));
        let db = |error: tokio_postgres::Error| CallError::db("listen", &error);
        let timed = |operation| CallError::Timeout { operation, after };
        match tokio::time::timeout(after, client.batch_execute("LISTEN jido_sessions")).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => return db(error),
            Err(_) => return timed("listen"),
        }
        match tokio::time::timeout(after, load(&mut client)).await {
            Ok(Ok(table)) => self.placements.load(table),
            Ok(Err(error)) => return db(error),
            Err(_) => return timed("load the placements"),
        }
        *pause = FIRST_PAUSE;
        // `interval` refuses a zero period.
        let mut check = tokio::time::interval(self.check_every.max(Duration::from_millis(1)));
        check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        check.tick().await;
        loop {
            tokio::select! {
                payload = notified.recv() => {
                    let Some(payload) = payload else {
                        return CallError::Unavailable {
                            operation: "listen",
                            message: "the listening connection closed".into(),
                        };
                    };
                    if let Err(gap) = self.placements.apply(&payload) {
                        tracing::debug!(?gap, "the placements missed a change; loading them again");
                        match tokio::time::timeout(after, load(&mut client)).await {
                            Ok(Ok(table)) => self.placements.load(table),
                            Ok(Err(error)) => return db(error),
                            Err(_) => return timed("load the placements"),
                        }
                    }
                }
                _ = check.tick() => {
                    if let Err(error) = self.check(&client, &mut notified).await {
                        return error;
                    }
                }
            }
        }
    }

    /// Reads the database's version on the listening connection and applies
    /// notifications until the copy reaches it, within a call timeout: a
    /// connection that silently stopped delivering fails here.
    async fn check(
        &self,
        client: &Client,
        notified: &mut mpsc::UnboundedReceiver<String>,
    ) -> Result<(), CallError> {
        let after = self.call_timeout;
        let timed = CallError::Timeout {
            operation: "check the placements",
            after,
        };
        let deadline = tokio::time::Instant::now() + after;
        let asked = local_micros();
        let version = match tokio::time::timeout_at(
            deadline,
            client.query_one(
                "SELECT version, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
                   FROM jido_admission",
                &[],
            ),
        )
        .await
        {
            Ok(Ok(row)) => {
                let answered = local_micros();
                self.placements
                    .set_clock_offset(clock_offset(row.get(1), asked, answered));
                from_i64(row.get(0))
            }
            Ok(Err(error)) => return Err(CallError::db("check the placements", &error)),
            Err(_) => return Err(timed),
        };
        let mut applied = self.placements.applied();
        while *applied.borrow_and_update() < version {
            let payload = match tokio::time::timeout_at(deadline, notified.recv()).await {
                Ok(Some(payload)) => payload,
                Ok(None) | Err(_) => return Err(timed),
            };
            if self.placements.apply(&payload).is_err() {
                return Err(CallError::Unavailable {
                    operation: "check the placements",
                    message: "a change was missed".into(),
                });
            }
        }
        Ok(())
    }
}

/// One consistent read of the claims, the nodes' leases and the version.
async fn load(client: &mut Client) -> Result<Table, tokio_postgres::Error> {
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let asked = local_micros();
    let head = tx
        .query_one(
            "SELECT version, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
               FROM jido_admission",
            &[],
        )
        .await?;
    let answered = local_micros();
    let sessions = tx
        .query(
            "SELECT id, project, node, lease, fence FROM jido_sessions",
            &[],
        )
        .await?;
    let nodes = tx
        .query(
            "SELECT node, lease, (extract(epoch FROM expires_at) * 1000000)::bigint
               FROM jido_nodes",
            &[],
        )
        .await?;
    tx.commit().await?;
    let mut table = Table {
        version: from_i64(head.get(0)),
        clock_offset: clock_offset(head.get(1), asked, answered),
        ..Table::default()
    };
    for row in &sessions {
        let Ok(id) = SessionId::from_uuid(row.get(0)) else {
            continue;
        };
        let project: Vec<u8> = row.get(1);
        table.sessions.insert(
            id,
            Cached {
                project: Some(std::os::unix::ffi::OsStrExt::from_bytes(project.as_slice()))
                    .map(|bytes: &std::ffi::OsStr| bytes.into()),
                node: NodeId::from_uuid(row.get(2)),
                lease: from_i64(row.get(3)),
                fence: Fence(from_i64(row.get(4))),
            },
        );
    }
    for row in &nodes {
        table.nodes.insert(
            NodeId::from_uuid(row.get(0)),
            NodeLease {
                lease: from_i64(row.get(1)),
                expires: row.get(2),
            },
        );
    }
    Ok(table)
}

/// The database's clock minus this node's, in microseconds: the database's
/// reading `database` against the midpoint of the round trip that brought
/// it (asked and answered by this node's clock).
fn clock_offset(database: i64, asked: i64, answered: i64) -> i64 {
    let midpoint = asked.saturating_add(answered.saturating_sub(asked) / 2);
    database.saturating_sub(midpoint)
}
