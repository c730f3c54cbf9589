//! The table: each registered session and where it stands (its
//! [`SessionSlot`]), kept in one [`SessionRegistry`](jido_registry::SessionRegistry)
//! under one lock, and the queries over it.
//!
//! # Invariants
//!
//! Checked in debug builds under the lock at the end of the transitions
//! that keep a slot — commit, end, marking a stop, a tree's report, an
//! update ([`check`]) — and, for invariant 4, at every event sent
//! ([`Lifecycle`]); the registry's own index is checked by `jido-registry`.
//!
//! 1. **Registered ⇔ a tree starting or running.** A session is in the
//!    registry exactly while its slot is `Starting` (its start is in flight)
//!    or `Running` (its tree started and its end is not yet reported). Every
//!    transition — register, commit, end — is one critical section.
//! 2. **Only the start removes a `Starting` slot**: its
//!    `Rollback` (in `start`) guard, on failure or when the
//!    start future is dropped, or replaces it, at the commit. A stop waits
//!    for it (on `changed`); an end report cannot name it (it names a
//!    running tree).
//! 3. **`!announced ⇒ stopping`.** A tree that finished starting after
//!    shutdown began is never announced: its start fails with
//!    `ShuttingDown` and it is being terminated.
//! 4. **Events are sent under the lock, in lifecycle order**, per
//!    registration: `Started` first, at the commit, then what the tree
//!    reported while starting (held in `pending`: only restarts); restarts
//!    while it runs; then exactly one end, `Stopped` or `Crashed`, as the
//!    slot is removed. An unannounced tree has no event. Two events are sent
//!    outside the lock: the supervisor's drop sends each `Stopped` after it
//!    emptied the table, and the owning stopper sends `Saved`/`SaveFailed`
//!    after its save — before its `Stopped`, unless a
//!    [`SessionHandle::wait`](crate::SessionHandle::wait) reported the
//!    tree's end while the save ran (then after it: a known race, kept as
//!    it was).
//! 5. **Whoever removes a running slot reports the end**, and `end` is
//!    idempotent. Every reporter — the supervisor's process (the tree's
//!    `Down`), a stopper (owner, late, or a follower without save on stop),
//!    a [`SessionHandle::wait`](crate::SessionHandle::wait), a commit that
//!    finds the tree already ended — calls `end` with the registration's
//!    ticket and the tree's pid, and `end` acts only while the slot holds
//!    that registration and that tree: the first report removes it, the
//!    others find nothing. The supervisor's drop empties the table whole.
//! 6. **Whoever removes a slot releases its claim** in the cluster (with a
//!    backend): a stopper awaits the release before the slot goes (so a
//!    stop returns with the project free cluster-wide); every other remover
//!    releases on a task; a failed start releases before its registration
//!    goes, a dropped one on a task; the supervisor's drop on tasks.
//! 7. **A running slot's monitor is the supervisor's monitor of its tree**,
//!    into the supervisor's process — unless the owning stopper took it off,
//!    holding a hand-back that monitors the tree again (under a new
//!    reference: the slot's is stale then, and never read again, the slot
//!    being stopping) if the stopper is dropped before it reported the end.
//! 8. `changed` is notified after a slot leaves `Starting` or is removed.
//!
//! # Deadlock safety
//!
//! The lock is never held across an await. Under it only the table
//! changes, events are sent (a broadcast send never blocks) and monitors
//! are set (a monitor only queues a message); kills, releases, saves and
//! the waits of stops all happen outside it.

use std::sync::Arc;

use jido_process::{Directory, Locate, MonitorRef};
use jido_registry::{Claim, Lease, RegistryWriter, Ticket};
use jido_session::{Session, SessionId, ValidationErrors};

use super::Core;

use crate::error::UpdateError;
use crate::events::EventKind;
use crate::session_handle::SessionHandle;
use crate::tree_handle::TreeHandle;

/// Where a registered session stands.
pub(crate) enum SessionSlot {
    /// Registered; its tree is being started. Reports its tree makes
    /// meanwhile wait here, to follow `Started`.
    Starting { pending: Vec<EventKind> },
    /// Its tree runs.
    Running {
        tree: TreeHandle,
        /// A stop was requested: its end is a `Stopped`, whatever the reason.
        stopping: bool,
        /// `Started` was sent (invariant 3: else `stopping`).
        announced: bool,
        /// The supervisor's monitor of the tree (invariant 7).
        monitor: MonitorRef,
        /// The session's claim in the cluster, with a backend (boxed: the
        /// embedded default has none, and every slot carries the field).
        claim: Option<Box<Claim>>,
    },
}

impl SessionSlot {
    /// The tree of an announced, running session.
    fn live(&self) -> Option<&TreeHandle> {
        match self {
            SessionSlot::Running {
                tree,
                announced: true,
                ..
            } if tree.is_alive() => Some(tree),
            _ => None,
        }
    }
}

/// Up to how many sessions a transition checks the whole table (in debug
/// builds); past it, the session it changed.
const FULL_CHECK_UP_TO: usize = 128;

/// Checks the invariants of the table (see the module's doc) at the end of
/// a transition of `ticket`, under the lock, in debug builds.
pub(super) fn check(core: &Core, table: &RegistryWriter<'_, SessionSlot>, ticket: Ticket) {
    if !cfg!(debug_assertions) {
        return;
    }
    if let Some((_, slot)) = table.get(ticket) {
        check_slot(core, ticket, slot);
    }
    if table.count() <= FULL_CHECK_UP_TO {
        for (ticket, _, slot) in table.entries() {
            check_slot(core, ticket, slot);
        }
    }
}

fn check_slot(core: &Core, ticket: Ticket, slot: &SessionSlot) {
    match slot {
        SessionSlot::Starting { pending } => {
            debug_assert!(
                pending.iter().all(|kind| matches!(
                    kind,
                    EventKind::Restarted { .. } | EventKind::RestartFailed { .. }
                )),
                "invariant 4: a starting tree reported more than restarts"
            );
            debug_assert!(
                !core.lifecycle.announced(ticket),
                "invariant 4: an event before Started"
            );
        }
        SessionSlot::Running {
            stopping,
            announced,
            ..
        } => {
            debug_assert!(
                *announced || *stopping,
                "invariant 3: !announced ⇒ stopping"
            );
            debug_assert_eq!(
                *announced,
                core.lifecycle.announced(ticket),
                "invariant 4: announced ⇔ Started was sent, and no end yet"
            );
        }
    }
}

/// What each registration's events have said, in debug builds (empty in
/// release builds): `Started` once, then nothing but restarts and saves,
/// then one end.
#[derive(Default)]
pub(super) struct Lifecycle {
    /// The registrations between their `Started` and their end.
    #[cfg(debug_assertions)]
    announced: parking_lot::Mutex<std::collections::HashSet<Ticket>>,
}

impl Lifecycle {
    /// Records that `kind` is sent for `ticket`, checking it may be.
    pub(super) fn record(&self, ticket: Ticket, kind: &EventKind) {
        #[cfg(debug_assertions)]
        {
            let mut announced = self.announced.lock();
            match kind {
                // Sent by the owning stopper, which found the session
                // announced; possibly after a handle reported its end
                // (invariant 4).
                EventKind::Saved | EventKind::SaveFailed { .. } => {}
                EventKind::Started => {
                    debug_assert!(announced.insert(ticket), "invariant 4: Started twice");
                }
                kind if kind.is_end() => debug_assert!(
                    announced.remove(&ticket),
                    "invariant 4: an end without Started, or a second end"
                ),
                kind => debug_assert!(
                    announced.contains(&ticket),
                    "invariant 4: {kind:?} outside the lifecycle"
                ),
            }
        }
        #[cfg(not(debug_assertions))]
        let _ = (ticket, kind);
    }

    /// Whether `ticket` is between its `Started` and its end (always
    /// `false` in release builds, where nothing is recorded).
    fn announced(&self, ticket: Ticket) -> bool {
        #[cfg(debug_assertions)]
        return self.announced.lock().contains(&ticket);
        #[cfg(not(debug_assertions))]
        {
            let _ = ticket;
            false
        }
    }
}

impl Core {
    /// The tree of session `id`, if it runs and is alive.
    pub(crate) fn running(&self, id: SessionId) -> Option<SessionHandle> {
        self.registry
            .with_slot(id, |ticket, session, slot| {
                slot.live()
                    .map(|tree| self.handle(ticket, Arc::clone(session), tree.clone()))
            })
            .flatten()
    }

    /// [`running`](Self::running)'s tree alone.
    pub(crate) fn live_tree(&self, id: SessionId) -> Option<TreeHandle> {
        self.registry
            .with_slot(id, |_, _, slot| slot.live().cloned())
            .flatten()
    }

    pub(crate) fn is_running(&self, id: SessionId) -> bool {
        self.registry
            .with_slot(id, |_, _, slot| slot.live().is_some())
            .unwrap_or(false)
    }

    pub(crate) fn list_running(&self) -> Vec<(SessionId, SessionHandle)> {
        self.registry
            .fold(Vec::new(), |mut acc, ticket, session, slot| {
                if let Some(tree) = slot.live() {
                    acc.push((
                        ticket.id(),
                        self.handle(ticket, Arc::clone(session), tree.clone()),
                    ));
                }
                acc
            })
    }

    /// A handle on a running session.
    pub(super) fn handle(
        &self,
        ticket: Ticket,
        session: Arc<Session>,
        tree: TreeHandle,
    ) -> SessionHandle {
        SessionHandle::new(session, tree, self.sessions(), ticket)
    }

    pub(crate) fn count_running(&self) -> usize {
        self.registry.fold(0, |count, _, _, slot| {
            count
                + usize::from(matches!(
                    slot,
                    SessionSlot::Running {
                        announced: true,
                        ..
                    }
                ))
        })
    }

    pub(crate) fn current_session(&self, id: SessionId) -> Option<Arc<Session>> {
        self.registry.lookup(id)
    }

    /// Every registered session's id.
    pub(super) fn ids(&self) -> Vec<SessionId> {
        self.registry.fold(Vec::new(), |mut ids, ticket, _, _| {
            ids.push(ticket.id());
            ids
        })
    }

    /// The sessions whose claim was made under a lease older than
    /// `current`: void, to be stopped.
    pub(super) fn sessions_claimed_before(&self, current: Lease) -> Vec<SessionId> {
        self.registry.fold(Vec::new(), |mut void, ticket, _, slot| {
            if let SessionSlot::Running {
                claim: Some(claim), ..
            } = slot
                && claim.lease < current
            {
                void.push(ticket.id());
            }
            void
        })
    }

    /// Changes the session `id`, keeping its registration; with a journal,
    /// the new record is journaled first (and nothing else is journaled or
    /// changed of the session in between).
    pub(crate) async fn update(
        &self,
        id: SessionId,
        change: impl FnOnce(&mut Session) -> Result<(), ValidationErrors>,
    ) -> Result<Arc<Session>, UpdateError> {
        let Some(journal) = self.live_tree(id).and_then(|tree| tree.journal()) else {
            return self.update_now(id, change);
        };
        // Held until the session is changed: every change of its record
        // goes through it, so the record read next is still the current one.
        let mut appender = journal.appender().await;
        let (ticket, updated) = self.prepare_update(id, change)?;
        appender
            .record(updated.to_record())
            .await
            .map_err(|error| UpdateError::NotJournaled { error })?;
        self.replace(id, ticket, updated)
    }

    /// [`update`](Self::update) without a journal: in one critical section.
    fn update_now(
        &self,
        id: SessionId,
        change: impl FnOnce(&mut Session) -> Result<(), ValidationErrors>,
    ) -> Result<Arc<Session>, UpdateError> {
        let mut registry = self.registry.write();
        let Some((ticket, session, _)) = registry.get_by_id(id) else {
            return Err(UpdateError::NotFound { id });
        };
        let mut updated = Session::clone(session);
        change(&mut updated)?;
        let updated = registry
            .replace(ticket, updated)
            .map_err(|_| UpdateError::NotFound { id })?;
        check(self, &registry, ticket);
        Ok(updated)
    }

    /// The session `id` changed by `change` (checked), and its registration.
    fn prepare_update(
        &self,
        id: SessionId,
        change: impl FnOnce(&mut Session) -> Result<(), ValidationErrors>,
    ) -> Result<(Ticket, Session), UpdateError> {
        let (ticket, mut updated) = self
            .registry
            .with_slot(id, |ticket, session, _| (ticket, Session::clone(session)))
            .ok_or(UpdateError::NotFound { id })?;
        change(&mut updated)?;
        Ok((ticket, updated))
    }

    /// Replaces the session of registration `ticket` with `updated`.
    fn replace(
        &self,
        id: SessionId,
        ticket: Ticket,
        updated: Session,
    ) -> Result<Arc<Session>, UpdateError> {
        let mut registry = self.registry.write();
        let updated = registry
            .replace(ticket, updated)
            .map_err(|_| UpdateError::NotFound { id })?;
        check(self, &registry, ticket);
        Ok(updated)
    }
}

/// Finds, on every call, the tree of whichever session runs under an id:
/// what a session's [`ChildRef`](crate::process::ChildRef)s locate their
/// child through.
pub(crate) struct SessionLocate {
    pub(crate) core: std::sync::Weak<Core>,
    pub(crate) id: SessionId,
}

impl Locate for SessionLocate {
    fn locate(&self) -> Option<Directory> {
        let core = self.core.upgrade()?;
        core.registry
            .with_slot(self.id, |_, _, slot| {
                slot.live()?.supervisor().map(|tree| tree.directory())
            })
            .flatten()
    }
}
