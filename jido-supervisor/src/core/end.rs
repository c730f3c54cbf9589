//! A tree's end: the session leaves the table and its end is reported, in
//! one critical section, by whoever sees it first (invariant 5 of the
//! table); restarts a tree reports meanwhile; and the supervisor's own end.

use jido_process::{ExitReason, Pid, SupervisorExit};
use jido_registry::{Claim, Ticket};

use super::Core;
use super::table::{SessionSlot, check};

use crate::events::EventKind;

impl Core {
    /// A stopped tree ended: its claim in the cluster (if any) is released
    /// and awaited, then [`tree_ended`](Self::tree_ended) — so when a stop
    /// returns, the project is free cluster-wide too.
    pub(super) async fn end_tree(&self, ticket: Ticket, pid: &Pid, reason: &ExitReason) {
        let mut released = None;
        if let Some(cluster) = &self.cluster {
            let claim = self
                .registry
                .with_slot(ticket.id(), |current, _, slot| match slot {
                    SessionSlot::Running { tree, claim, .. }
                        if current == ticket && tree.pid() == pid =>
                    {
                        claim.as_deref().copied()
                    }
                    _ => None,
                });
            if let Some(claim) = claim.flatten() {
                cluster.release(ticket.id(), claim).await;
                released = Some(claim);
            }
        }
        self.end(ticket, pid, reason, released);
    }

    /// A tree ended: if it is still the one registered under `ticket`, the
    /// session leaves the registry and its end is reported, in one critical
    /// section; its claim in the cluster, if any, is released on a task.
    /// Idempotent.
    pub(crate) fn tree_ended(&self, ticket: Ticket, pid: &Pid, reason: &ExitReason) {
        self.end(ticket, pid, reason, None);
    }

    /// [`tree_ended`](Self::tree_ended); whoever removes the slot gives its
    /// claim up, unless `released` says that claim was released already.
    fn end(&self, ticket: Ticket, pid: &Pid, reason: &ExitReason, released: Option<Claim>) {
        let mut claim = None;
        let ended = 'ended: {
            let mut registry = self.registry.write();
            let (stopping, announced) = match registry.get(ticket) {
                Some((
                    _,
                    SessionSlot::Running {
                        tree,
                        stopping,
                        announced,
                        ..
                    },
                )) if tree.pid() == pid => (*stopping, *announced),
                _ => break 'ended false,
            };
            if let Some((_, SessionSlot::Running { claim: held, .. })) = registry.remove(ticket) {
                claim = held
                    .map(|held| *held)
                    .filter(|held| Some(*held) != released);
            }
            if announced {
                let kind = end_of(stopping, reason);
                if matches!(kind, EventKind::Crashed { .. }) {
                    tracing::warn!(id = %ticket.id(), %reason, "session crashed");
                } else {
                    tracing::debug!(id = %ticket.id(), %reason, "session stopped");
                }
                self.emit(ticket, kind);
            }
            check(self, &registry, ticket);
            true
        };
        if let (Some(cluster), Some(claim)) = (&self.cluster, claim) {
            cluster.release_later(ticket.id(), claim);
        }
        if ended {
            self.changed.notify_waiters();
        }
    }

    /// A tree reports one of its children's restarts: sent while the
    /// session runs, held until `Started` while it starts, dropped after
    /// its end.
    pub(crate) fn child_event(&self, ticket: Ticket, kind: EventKind) {
        let mut registry = self.registry.write();
        match registry.slot_mut(ticket) {
            Some(SessionSlot::Running {
                announced: true, ..
            }) => self.emit(ticket, kind),
            Some(SessionSlot::Starting { pending }) => pending.push(kind),
            Some(SessionSlot::Running { .. }) | None => return,
        }
        check(self, &registry, ticket);
    }
}

/// How a tree's end is reported: asked for, or normal, is a stop; anything
/// else — and a tree that reached its restart intensity, which OTP reports
/// as `shutdown` — is a crash.
fn end_of(stopping: bool, reason: &ExitReason) -> EventKind {
    let gave_up = matches!(
        SupervisorExit::of(reason),
        Some(SupervisorExit::ReachedMaxRestartIntensity { .. })
    );
    if !stopping && (reason.is_abnormal() || gave_up) {
        EventKind::Crashed {
            reason: reason.clone(),
        }
    } else {
        EventKind::Stopped {
            reason: reason.clone(),
        }
    }
}

impl Drop for Core {
    /// The last handle is gone: every tree is killed (they are linked to
    /// the supervisor), the registry is emptied, and each session's end is
    /// reported — no entry outlives its supervisor.
    fn drop(&mut self) {
        let entries = {
            let mut registry = self.registry.write();
            registry.close();
            registry.drain()
        };
        for (ticket, _, slot) in entries {
            if let SessionSlot::Running {
                tree,
                announced,
                claim,
                ..
            } = slot
            {
                tree.pid().kill();
                if let (Some(cluster), Some(claim)) = (&self.cluster, claim) {
                    cluster.release_later(ticket.id(), *claim);
                }
                if announced {
                    self.emit(
                        ticket,
                        EventKind::Stopped {
                            reason: ExitReason::Killed,
                        },
                    );
                }
            }
        }
        self.kill_watcher();
    }
}
