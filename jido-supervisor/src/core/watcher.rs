//! The supervisor's own process, which hears every tree's end (a `Down`),
//! and the lease watcher, which stops the sessions of a lost lease.

use std::sync::{Arc, Weak};

use futures_util::future::join_all;
use jido_process::{Down, ExitReason, Inbox, Mailbox, Pid, Term, mailbox, spawn};
use jido_registry::{Lease, Ticket};
use tokio::sync::{oneshot, watch};

use super::Core;

use crate::admission::LeaseLost;

/// What the supervisor's own process receives.
pub(super) enum WatcherMsg {
    /// A tree ended.
    Down(Down<Ticket>),
    /// Answer once every message before this one is handled.
    Settle(oneshot::Sender<()>),
}

impl From<Down<Ticket>> for WatcherMsg {
    fn from(down: Down<Ticket>) -> Self {
        WatcherMsg::Down(down)
    }
}

/// The supervisor's own process: it receives the `Down` of every tree.
pub(super) struct Watcher {
    pid: Pid,
    pub(super) downs: Mailbox<WatcherMsg>,
}

impl Core {
    /// Starts the supervisor's process, if it has not started (in a
    /// runtime: callers check).
    pub(crate) fn start_process(self: &Arc<Self>) {
        self.downs();
    }

    /// The mailbox of the supervisor's process, spawned on first use (in a
    /// runtime: callers check), with the lease watcher if there is a
    /// cluster.
    pub(super) fn downs(self: &Arc<Self>) -> &Mailbox<WatcherMsg> {
        let watcher = self.watcher.get_or_init(|| {
            let (downs, inbox) = mailbox();
            let pid = spawn(watch_trees(Arc::downgrade(self), inbox));
            if let Some(cluster) = &self.cluster {
                let lease = cluster.backend().lease();
                tokio::spawn(stop_on_lease_loss(Arc::downgrade(self), lease));
            }
            Watcher { pid, downs }
        });
        &watcher.downs
    }

    /// The supervisor's own process, once started.
    pub(crate) fn pid(&self) -> Option<&Pid> {
        self.watcher.get().map(|watcher| &watcher.pid)
    }

    /// Ends the supervisor's process, if it started.
    pub(super) fn kill_watcher(&self) {
        if let Some(watcher) = self.watcher.get() {
            watcher.pid.kill();
        }
    }

    /// Returns once the supervisor's process has handled every tree exit
    /// sent to it before this call.
    pub(crate) async fn settle(self: &Arc<Self>) {
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        let (reply, answer) = oneshot::channel();
        if self.downs().send(WatcherMsg::Settle(reply)).is_ok() {
            let _ = answer.await;
        }
    }
}

/// The supervisor's process: applies each tree's `Down`.
async fn watch_trees(core: Weak<Core>, mut inbox: Inbox<WatcherMsg>) -> ExitReason {
    while let Some(msg) = inbox.recv().await {
        match msg {
            WatcherMsg::Down(down) => {
                let Some(core) = core.upgrade() else { break };
                // At once (the claim is released on a task): a database that
                // is slow or away does not hold up the next `Down`.
                core.tree_ended(down.tag, &down.pid, &down.reason);
            }
            WatcherMsg::Settle(reply) => {
                let _ = reply.send(());
            }
        }
    }
    ExitReason::Normal
}

/// Stops, each time the node's lease is lost, every session claimed under
/// an older lease (their tree's reason: `{shutdown, LeaseLost}`). Runs as
/// long as the supervisor.
async fn stop_on_lease_loss(core: Weak<Core>, mut lease: watch::Receiver<Lease>) {
    while lease.changed().await.is_ok() {
        let current = *lease.borrow_and_update();
        let Some(core) = core.upgrade() else { return };
        let void = core.sessions_claimed_before(current);
        if void.is_empty() {
            continue;
        }
        tracing::warn!(
            sessions = void.len(),
            "this node lost its lease; stopping its sessions"
        );
        tokio::spawn(async move {
            join_all(
                void.into_iter()
                    .map(|id| core.stop(id, Some(Term::new(LeaseLost)))),
            )
            .await;
        });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// A stop that reported the end itself holds nothing of the
    /// supervisor's afterwards: before the fix, every stop leaked a sender
    /// of the supervisor's mailbox (and a pid) in its hand-back guard.
    #[tokio::test]
    async fn stops_leave_no_sender_of_the_supervisors_mailbox_behind() {
        let supervisor = crate::SessionSupervisor::new();
        let dir = tempfile::tempdir().unwrap();
        for _ in 0..10 {
            let id = supervisor.create_session(dir.path()).await.unwrap().id();
            supervisor.stop_session(id).await.unwrap();
        }
        let core: &Arc<Core> = &supervisor.core;
        let watcher = core.watcher.get().unwrap();
        assert_eq!(watcher.downs.sender_count(), 1, "only the supervisor's own");
    }
}
