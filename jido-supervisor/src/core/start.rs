//! A start: register the session, claim it in the cluster, start its tree,
//! then commit — or, on any other way out, roll back ([`Rollback`]).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use jido_process::{ExitReason, Mailbox, StartOutcome};
use jido_registry::{BackendError, Claim, Registration, Ticket};
use jido_session::{Conversation, Session};
use jido_store::journal::Durability;

use super::Core;
use super::table::{SessionSlot, check};
use super::watcher::WatcherMsg;

use crate::error::StartError;
use crate::events::ChildEvents;
use crate::events::EventKind;
use crate::journal::{Checkpoints, SessionJournal};
use crate::session_child::ChildContext;
use crate::session_handle::SessionHandle;
use crate::telemetry;
use crate::tree_handle::TreeHandle;

impl Core {
    /// Registers `session`, starts its tree, and commits it; any way out
    /// but the commit (an error, a panic, a timeout, this future being
    /// dropped) rolls the registration back.
    pub(crate) async fn start(
        self: &Arc<Self>,
        session: Session,
    ) -> Result<SessionHandle, StartError> {
        self.try_start(session, None::<std::future::Pending<_>>)
            .await
            .inspect_err(|_| telemetry::start_failed())
    }

    /// Like [`start`](Self::start), with the session's record and its
    /// conversation as `restore` reads them. `restore` runs once `session`
    /// is registered here (and claimed in the cluster): from then on no
    /// other start can run the session or save it, so what it reads is the
    /// session's last state. (Read before, it could be overtaken: another
    /// resume running the session, acknowledging changes and saving them
    /// before this one registers.) The record it reads replaces the one
    /// registered (its id and project are the same; a rename or config
    /// change made through the supervisor while it read is applied to it).
    /// It runs within the start timeout.
    pub(crate) async fn start_restoring<E, R>(
        self: &Arc<Self>,
        session: Session,
        restore: R,
    ) -> Result<SessionHandle, E>
    where
        E: From<StartError>,
        R: Future<Output = Result<Option<(Session, Restored)>, E>>,
    {
        self.try_start(session, Some(restore))
            .await
            .inspect_err(|_| telemetry::start_failed())
    }

    /// [`start_restoring`](Self::start_restoring)'s work, and (with no
    /// `restore`) [`start`](Self::start)'s.
    async fn try_start<E, R>(
        self: &Arc<Self>,
        session: Session,
        restore: Option<R>,
    ) -> Result<SessionHandle, E>
    where
        E: From<StartError>,
        R: Future<Output = Result<Option<(Session, Restored)>, E>>,
    {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(StartError::NoRuntime.into());
        }
        let downs = self.downs().clone();
        let registration = self
            .registry
            .register_with(
                session,
                SessionSlot::Starting {
                    pending: Vec::new(),
                },
            )
            .map_err(StartError::from)?;
        let ticket = registration.ticket();
        let mut rollback = Rollback {
            core: self,
            ticket,
            armed: true,
            claim: None,
        };
        if let Some(cluster) = &self.cluster {
            let timer = telemetry::claim_timer();
            let claim = cluster
                .claim(registration.session(), self.max_sessions())
                .await;
            timer.done();
            rollback.claim = Some(claim?);
        }
        let restore = match restore {
            None => Ok(None),
            // Within the start's time, like the tree's start: a stop or a
            // shutdown waits for a start in flight.
            Some(restore) => match tokio::time::timeout(self.start_timeout, restore).await {
                Ok(restore) => restore,
                Err(_) => Err(StartError::Timeout {
                    after: self.start_timeout,
                }
                .into()),
            },
        };
        let (session, restored) = match restore {
            Ok(None) => (registration.into_session(), None),
            Ok(Some((read, restored))) => match self.take_read(ticket, &registration, read) {
                Ok(session) => (session, Some(restored)),
                Err(error) => {
                    rollback.release_claim().await;
                    return Err(error.into());
                }
            },
            Err(error) => {
                rollback.release_claim().await;
                return Err(error);
            }
        };
        match self.start_tree(&session, ticket, restored).await {
            Ok(tree) => Ok(rollback.commit(session, tree, &downs)?),
            Err(error) => {
                rollback.release_claim().await;
                Err(error.into())
            }
        }
    }

    /// Registers `read` (the session as a resume read it once it owned it)
    /// in place of `registration`'s record. A rename or a config change
    /// made meanwhile (answered `Ok`: it changed the registered record)
    /// is kept, applied to what was read.
    fn take_read(
        &self,
        ticket: Ticket,
        registration: &Registration,
        mut read: Session,
    ) -> Result<Arc<Session>, StartError> {
        let mut registry = self.registry.write();
        if let Some((current, _)) = registry.get(ticket)
            && !Arc::ptr_eq(current, registration.session())
        {
            let registered = registration.session();
            // Both values were validated when they were set: these cannot
            // fail, and if they did the read's value would stay.
            if current.name() != registered.name() {
                let _ = read.rename(current.name());
            }
            if current.config() != registered.config() {
                let _ = read.update_config(current.config().clone());
            }
        }
        let session = registry.replace(ticket, read)?;
        check(self, &registry, ticket);
        Ok(session)
    }

    /// Starts the tree of the registered session, within the start timeout.
    async fn start_tree(
        self: &Arc<Self>,
        session: &Arc<Session>,
        ticket: Ticket,
        restored: Option<Restored>,
    ) -> Result<TreeHandle, StartError> {
        let journal = self.journal_for(session, restored.as_ref().map(|restored| restored.seq));
        let ctx = ChildContext::new(
            Arc::clone(session),
            ChildEvents::new(self.me.clone(), ticket),
            restored.map(|restored| (restored.conversation, restored.seq)),
            journal,
        );
        let start = AssertUnwindSafe(self.child.start(ctx)).catch_unwind();
        match tokio::time::timeout(self.start_timeout, start).await {
            Err(_) => Err(StartError::Timeout {
                after: self.start_timeout,
            }),
            Ok(Err(payload)) => {
                let message = match ExitReason::from_panic(&*payload) {
                    ExitReason::Panic(message) => message.to_string(),
                    other => other.to_string(),
                };
                Err(StartError::Panicked { message })
            }
            Ok(Ok(Err(error))) => Err(StartError::Child(error)),
            Ok(Ok(Ok(StartOutcome::Started(tree)))) => Ok(tree),
            Ok(Ok(Ok(_ignore))) => Err(StartError::Ignored),
        }
    }
}

/// What a resumed session continues: its conversation, and the last
/// journal record it holds.
pub(crate) struct Restored {
    pub(crate) conversation: Arc<Conversation>,
    pub(crate) seq: u64,
}

impl Core {
    /// The journal of a session starting now, if sessions are journaled:
    /// a new one (the session's record goes first), or — `resumed` after
    /// record `seq` — the one it continues.
    fn journal_for(&self, session: &Session, resumed: Option<u64>) -> Option<Arc<SessionJournal>> {
        let config = self.persistence.as_ref()?;
        if config.durability == Durability::OnStop {
            return None;
        }
        let store = config.persistence.journal()?;
        Some(Arc::new(SessionJournal::new(
            Arc::clone(store),
            session.id(),
            config.durability,
            Checkpoints {
                persistence: config.persistence.clone(),
                every: config.checkpoint_every,
                every_bytes: config.checkpoint_bytes,
            },
            resumed.unwrap_or(0),
            session.to_record(),
            resumed.is_none(),
        )))
    }
}

/// Rolls a start back unless committed: removes the registration. Runs on
/// every early return and when the start future is dropped (the only
/// remover of a `Starting` slot: invariant 2 of the table).
struct Rollback<'a> {
    core: &'a Arc<Core>,
    ticket: Ticket,
    armed: bool,
    /// The session's claim in the cluster, once made.
    claim: Option<Claim>,
}

impl Rollback<'_> {
    /// The start failed: gives the claim up before the registration goes
    /// (so a retry here finds the project free in the cluster too).
    async fn release_claim(&mut self) {
        if let (Some(cluster), Some(claim)) = (&self.core.cluster, self.claim) {
            cluster.release(self.ticket.id(), claim).await;
            // Only now: dropped during the release, the guard releases again
            // (releases are idempotent).
            self.claim = None;
        }
    }

    /// The tree runs: records it, sends `Started` (and what the tree
    /// reported while starting), then monitors it. If the supervisor began
    /// shutting down meanwhile, the tree is terminated at once.
    fn commit(
        mut self,
        session: Arc<Session>,
        tree: TreeHandle,
        downs: &Mailbox<WatcherMsg>,
    ) -> Result<SessionHandle, StartError> {
        let core = self.core;
        let ticket = self.ticket;
        let claim = self.claim;
        let closed = {
            let mut registry = core.registry.write();
            // Read under the lock: a lease lost after this is seen by the
            // lease watcher, which folds over the registry under this lock.
            if let (Some(cluster), Some(claim)) = (&core.cluster, &claim)
                && cluster.is_void(claim)
            {
                drop(registry);
                tree.pid().kill();
                return Err(StartError::Backend(BackendError::LeaseLost));
            }
            let closed = registry.is_closed();
            let Some(slot) = registry.slot_mut(ticket) else {
                // Only this guard removes a starting slot.
                drop(registry);
                tree.pid().kill();
                return Err(StartError::ShuttingDown);
            };
            // Under the lock: the monitor only queues a message, and a stop
            // finds it in the slot.
            let monitor = tree.pid().monitor(downs, ticket);
            let previous = std::mem::replace(
                slot,
                SessionSlot::Running {
                    tree: tree.clone(),
                    stopping: closed,
                    announced: !closed,
                    monitor,
                    claim: claim.map(Box::new),
                },
            );
            self.armed = false;
            self.claim = None;
            if !closed {
                core.emit(ticket, EventKind::Started);
                if let SessionSlot::Starting { pending } = previous {
                    for kind in pending {
                        core.emit(ticket, kind);
                    }
                }
            }
            check(core, &registry, ticket);
            closed
        };
        core.changed.notify_waiters();
        if let Some(reason) = tree.pid().exit_reason() {
            // Ended before its start returned: report it now rather than
            // when the Down is read.
            core.tree_ended(ticket, tree.pid(), &reason);
        }
        if closed {
            tree.shutdown_policy().begin_termination(tree.pid(), None);
            return Err(StartError::ShuttingDown);
        }
        tracing::debug!(id = %ticket.id(), pid = %tree.pid(), "session started");
        Ok(core.handle(ticket, session, tree))
    }
}

impl Drop for Rollback<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.core.registry.unregister_ticket(self.ticket);
            self.core.changed.notify_waiters();
        }
        // Dropped while starting: the claim cannot be awaited here.
        if let (Some(cluster), Some(claim)) = (&self.core.cluster, self.claim.take()) {
            cluster.release_later(self.ticket.id(), claim);
        }
    }
}
