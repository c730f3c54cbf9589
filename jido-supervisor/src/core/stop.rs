//! A stop: mark the session stopping, terminate its tree by its shutdown
//! policy (completing even if nobody waits), wait for the end, save it
//! (with save on stop) and report it — each stopper as its [`Role`] says;
//! and the shutdown of every session.

use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use jido_process::{ExitReason, Mailbox, Pid, Term};
use jido_registry::Ticket;
use jido_session::SessionId;
use jido_store::Snapshot;

use super::table::{SessionSlot, check};
use super::watcher::WatcherMsg;
use super::{Core, PersistConfig};

use crate::error::StopError;
use crate::events::EventKind;
use crate::shutdown_report::ShutdownReport;
use crate::tree_handle::TreeHandle;

/// A stopper's part in the stop of one tree.
enum Role {
    /// The first stopper, holding the tree's monitor (taken off the
    /// supervisor's process): it terminates the tree, saves it (with save on
    /// stop) and reports its end. Dropped before that, it hands the report
    /// back to the supervisor's process.
    Owner(HandBack),
    /// The first stopper, too late to take the monitor: the tree ended and
    /// its `Down` is on its way to the supervisor's process, which may
    /// report the end first (the report is idempotent). It does not save:
    /// the session may be gone from the registry before a save could.
    Late,
    /// A later stopper of a tree another is stopping (or that is stopping
    /// since a shutdown caught its start): it waits for the same end.
    Follower,
}

impl Core {
    /// Terminates the tree of session `id` and waits for its end (see
    /// [`SessionSupervisor::stop_session`](crate::SessionSupervisor::stop_session)).
    pub(crate) async fn stop(
        &self,
        id: SessionId,
        term: Option<Term>,
    ) -> Result<ExitReason, StopError> {
        let (ticket, tree, first) = self.mark_stopping(id).await?;
        let role = match first {
            None => Role::Follower,
            Some(monitor) => {
                // The first stopper reports the end itself, so the
                // supervisor's process need not hear of it.
                let role = if tree.pid().demonitor(monitor)
                    && let Some(watcher) = self.watcher.get()
                {
                    Role::Owner(HandBack {
                        pid: tree.pid().clone(),
                        downs: watcher.downs.clone(),
                        ticket,
                        armed: true,
                    })
                } else {
                    Role::Late
                };
                // Outside the lock; from here on the termination completes
                // even if this future is dropped.
                tree.shutdown_policy().begin_termination(tree.pid(), term);
                role
            }
        };
        let reason = tree.wait().await;
        let save = self
            .persistence
            .as_ref()
            .filter(|config| config.save_on_stop);
        match (role, save) {
            (Role::Owner(handback), save) => {
                if let Some(config) = save {
                    // Saved while still registered (the project stays taken
                    // until the snapshot is written), reported before the end.
                    self.save_on_stop(config, ticket, &tree).await;
                }
                self.end_tree(ticket, tree.pid(), &reason).await;
                handback.done();
            }
            // The owner saves and reports the end (or, without an owner,
            // the supervisor's process reports it): wait for it.
            (Role::Follower, Some(_)) => self.removed(ticket).await,
            (Role::Late | Role::Follower, _) => self.end_tree(ticket, tree.pid(), &reason).await,
        }
        Ok(reason)
    }

    /// Marks the running session `id` stopping (waiting for a start in
    /// flight to commit or roll back); returns its registration, its tree,
    /// and — for the first stopper — the supervisor's monitor of the tree.
    async fn mark_stopping(
        &self,
        id: SessionId,
    ) -> Result<(Ticket, TreeHandle, Option<jido_process::MonitorRef>), StopError> {
        let mut changed = pin!(self.changed.notified());
        loop {
            changed.as_mut().enable();
            {
                let mut registry = self.registry.write();
                match registry.get_by_id(id) {
                    None => return Err(StopError::NotFound { id }),
                    Some((
                        ticket,
                        _,
                        SessionSlot::Running {
                            tree,
                            stopping,
                            monitor,
                            ..
                        },
                    )) => {
                        let first = (!*stopping).then_some(*monitor);
                        *stopping = true;
                        let tree = tree.clone();
                        check(self, &registry, ticket);
                        return Ok((ticket, tree, first));
                    }
                    Some((_, _, SessionSlot::Starting { .. })) => {}
                }
            }
            // A start is in flight: wait for its commit or rollback.
            changed.as_mut().await;
            changed.set(self.changed.notified());
        }
    }

    /// Saves the ended tree's session and conversation; a failure is
    /// reported (event and log), never stops the stop.
    async fn save_on_stop(&self, config: &PersistConfig, ticket: Ticket, tree: &TreeHandle) {
        let id = ticket.id();
        let Some(session) = self
            .registry
            .write()
            .get(ticket)
            .map(|(s, _)| Arc::clone(s))
        else {
            return;
        };
        let (conversation, seq) = tree.checkpoint();
        let _one_at_a_time = self.save_locks.lock(id).await;
        let snapshot = Snapshot::of(&session, conversation).covering(seq);
        match config.persistence.save(&snapshot).await {
            Ok(()) => {
                tracing::debug!(%id, "session saved on stop");
                // The tree has ended: the snapshot covers its whole journal.
                if let Some(journal) = config.persistence.journal()
                    && let Err(error) = journal.delete(id).await
                {
                    // Harmless: a replay skips what the snapshot covers.
                    tracing::warn!(%id, %error, "could not delete the saved session's journal");
                }
                self.emit(ticket, EventKind::Saved);
                self.enforce_cap(&config.persistence).await;
            }
            Err(error) => {
                tracing::warn!(%id, %error, "saving the session on stop failed");
                self.emit(
                    ticket,
                    EventKind::SaveFailed {
                        error: Term::new(error),
                    },
                );
            }
        }
    }

    /// Past the store's cap on saved sessions, deletes the oldest closed
    /// ones — never one registered here (open or stopping), one with a
    /// journal, or one being resumed (pinned). A failure is logged: the
    /// save it follows succeeded.
    pub(crate) async fn enforce_cap(&self, persistence: &jido_store::Persistence) {
        if persistence.cap().is_none() {
            return;
        }
        let registry = self.registry();
        match persistence.enforce_cap(&|id| registry.contains(id)).await {
            Ok(report) if !report.deleted.is_empty() => {
                tracing::info!(
                    deleted = report.deleted.len(),
                    "saved sessions over the cap deleted"
                );
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "could not apply the cap on saved sessions"),
        }
    }

    /// Returns once the registration under `ticket` is gone.
    async fn removed(&self, ticket: Ticket) {
        let mut changed = pin!(self.changed.notified());
        loop {
            changed.as_mut().enable();
            if self.registry.write().get(ticket).is_none() {
                return;
            }
            changed.as_mut().await;
            changed.set(self.changed.notified());
        }
    }

    /// Stops every session; see [`SessionSupervisor::shutdown`](crate::SessionSupervisor::shutdown).
    pub(crate) async fn shutdown(&self) {
        self.registry.close();
        loop {
            let ids = self.ids();
            if ids.is_empty() {
                return;
            }
            // A start in flight is waited for by `stop`.
            join_all(ids.into_iter().map(|id| self.stop(id, None))).await;
        }
    }

    /// [`shutdown`](Self::shutdown), killing what remains after `limit`.
    pub(crate) async fn shutdown_within(&self, limit: Duration) -> ShutdownReport {
        self.registry.close();
        let before = self.ids();
        let mut report = ShutdownReport::default();
        if tokio::time::timeout(limit, self.shutdown()).await.is_err() {
            let remaining: Vec<(SessionId, TreeHandle)> =
                self.registry.fold(Vec::new(), |mut acc, ticket, _, slot| {
                    if let SessionSlot::Running { tree, .. } = slot {
                        acc.push((ticket.id(), tree.clone()));
                    }
                    acc
                });
            for (id, tree) in remaining {
                tracing::warn!(%id, "session did not stop in time; killing it");
                tree.pid().kill();
                report.killed.push(id);
            }
            // Killed trees end at once; a start in flight ends within its
            // start timeout.
            self.shutdown().await;
        }
        report.stopped = before
            .into_iter()
            .filter(|id| !report.killed.contains(id))
            .collect();
        report
    }
}

/// Held by the stopper that took the supervisor's monitor off a tree: if
/// the stopper is dropped before it reported the tree's end, the monitor is
/// put back (a tree that has already ended sends its `Down` at once), so
/// the supervisor's process reports it instead (invariant 7 of the table).
struct HandBack {
    pid: Pid,
    downs: Mailbox<WatcherMsg>,
    ticket: Ticket,
    armed: bool,
}

impl HandBack {
    /// The end was reported: nothing to hand back.
    fn done(mut self) {
        self.armed = false;
    }
}

impl Drop for HandBack {
    fn drop(&mut self) {
        if self.armed {
            self.pid.monitor(&self.downs, self.ticket);
        }
    }
}
