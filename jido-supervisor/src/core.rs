//! The state a [`SessionSupervisor`](crate::SessionSupervisor) owns, and
//! every change to it.
//!
//! One [`SessionRegistry`] holds, under one lock, each session, its indexes
//! (id, project, name) and its [`Slot`] (starting, or running with its tree).
//! So "registered ⇔ a tree is starting or running" holds by construction:
//! every transition — register, commit, end — is one critical section, and
//! the lifecycle events are sent inside it, in order. Tree deaths arrive as
//! [`Down`] messages at the supervisor's own process.

use std::panic::AssertUnwindSafe;
use std::pin::pin;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::join_all;
use jido_process::{Directory, Down, Inbox, Locate, Mailbox, MonitorRef, mailbox, spawn};
use jido_registry::{Claim, Lease, NodeId, RegistryView, SessionRegistry, Ticket};
use jido_session::{Conversation, Session, SessionId, ValidationErrors};
use jido_store::{Persistence, Snapshot};
use tokio::sync::{Notify, oneshot};

use crate::cluster::{Cluster, stop_on_lease_loss};
use crate::save_locks::SaveLocks;
use crate::{
    ChildContext, ChildEvents, EventKind, Events, ExitReason, Pid, SessionChild, SessionHandle,
    Shutdown, ShutdownReport, StartError, StartOutcome, StopError, SupervisorExit, Term,
    TreeHandle, UpdateError,
};

/// Where a registered session stands.
pub(crate) enum Slot {
    /// Registered; its tree is being started. Reports its tree makes
    /// meanwhile wait here, to follow `Started`.
    Starting { pending: Vec<EventKind> },
    /// Its tree runs.
    Running {
        tree: TreeHandle,
        /// A stop was requested: its end is a `Stopped`, whatever the reason.
        stopping: bool,
        /// `Started` was sent. A tree that finished starting after shutdown
        /// began is not announced: its start failed with `ShuttingDown`, it
        /// is terminated, and no event speaks of it.
        announced: bool,
        /// The supervisor's monitor of the tree (its `Down` goes to the
        /// supervisor's process).
        monitor: MonitorRef,
        /// The session's claim in the cluster, with a backend (boxed: the
        /// embedded default has none, and every slot carries the field).
        claim: Option<Box<Claim>>,
    },
}

impl Slot {
    /// The tree of an announced, running session.
    fn live(&self) -> Option<&TreeHandle> {
        match self {
            Slot::Running {
                tree,
                announced: true,
                ..
            } if tree.is_alive() => Some(tree),
            _ => None,
        }
    }
}

/// What the supervisor's own process receives.
enum WatcherMsg {
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
struct Watcher {
    pid: Pid,
    downs: Mailbox<WatcherMsg>,
}

pub(crate) struct Core {
    /// Itself, for the handles and contexts it gives out (which must not
    /// keep it alive).
    me: Weak<Core>,
    registry: SessionRegistry<Slot>,
    child: Arc<dyn SessionChild>,
    events: Events,
    start_timeout: Duration,
    watcher: OnceLock<Watcher>,
    /// Notified when a slot leaves `Starting` or is removed: wakes stops
    /// waiting for a start, and shutdowns waiting for the last session.
    changed: Notify,
    /// Where sessions are saved, if anywhere.
    pub(crate) persistence: Option<PersistConfig>,
    /// One save of a session at a time.
    pub(crate) save_locks: SaveLocks,
    /// The cluster-wide admission, if any (else the registry decides alone).
    pub(crate) cluster: Option<Cluster>,
    /// This node: the backend's, or one of its own.
    node: NodeId,
}

/// The supervisor's persistence settings.
pub(crate) struct PersistConfig {
    pub(crate) persistence: Persistence,
    pub(crate) save_on_stop: bool,
}

impl Core {
    pub(crate) fn new(
        max_sessions: usize,
        child: Arc<dyn SessionChild>,
        events: Events,
        start_timeout: Duration,
        persistence: Option<PersistConfig>,
        cluster: Option<Cluster>,
    ) -> Arc<Self> {
        let node = cluster
            .as_ref()
            .map_or_else(NodeId::random, |cluster| cluster.backend().node());
        Arc::new_cyclic(|me| Core {
            me: me.clone(),
            registry: SessionRegistry::bounded(max_sessions),
            child,
            events,
            start_timeout,
            watcher: OnceLock::new(),
            changed: Notify::new(),
            persistence,
            save_locks: SaveLocks::default(),
            cluster,
            node,
        })
    }

    /// This node's id.
    pub(crate) fn node(&self) -> NodeId {
        self.node
    }

    pub(crate) fn events(&self) -> &Events {
        &self.events
    }

    pub(crate) fn registry(&self) -> RegistryView<'_> {
        self.registry.view()
    }

    /// Starts the supervisor's process, if it has not started (in a
    /// runtime: callers check).
    pub(crate) fn start_process(self: &Arc<Self>) {
        self.downs();
    }

    /// The mailbox of the supervisor's process, spawned on first use (in a
    /// runtime: callers check).
    fn downs(self: &Arc<Self>) -> &Mailbox<WatcherMsg> {
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

    /// Registers `session`, starts its tree, and commits it; any way out
    /// but the commit (an error, a panic, a timeout, this future being
    /// dropped) rolls the registration back.
    pub(crate) async fn start(
        self: &Arc<Self>,
        session: Session,
        restored: Option<Arc<Conversation>>,
    ) -> Result<SessionHandle, StartError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(StartError::NoRuntime);
        }
        let downs = self.downs().clone();
        let registration = self.registry.register_with(
            session,
            Slot::Starting {
                pending: Vec::new(),
            },
        )?;
        let ticket = registration.ticket();
        let mut rollback = Rollback {
            core: self,
            ticket,
            armed: true,
            claim: None,
        };
        if let Some(cluster) = &self.cluster {
            rollback.claim = Some(
                cluster
                    .claim(registration.session(), self.max_sessions())
                    .await?,
            );
        }
        match self.start_tree(&registration, ticket, restored).await {
            Ok(tree) => rollback.commit(registration.into_session(), tree, &downs),
            Err(error) => {
                rollback.release_claim().await;
                Err(error)
            }
        }
    }

    /// Starts the tree of the registered session, within the start timeout.
    async fn start_tree(
        self: &Arc<Self>,
        registration: &jido_registry::Registration,
        ticket: Ticket,
        restored: Option<Arc<Conversation>>,
    ) -> Result<TreeHandle, StartError> {
        let ctx = ChildContext::new(
            Arc::clone(registration.session()),
            ChildEvents::new(Arc::downgrade(self), ticket),
            restored,
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

    /// Terminates the tree of session `id` and waits for its end (see
    /// [`SessionSupervisor::stop_session`](crate::SessionSupervisor::stop_session)).
    pub(crate) async fn stop(
        &self,
        id: SessionId,
        term: Option<Term>,
    ) -> Result<ExitReason, StopError> {
        let (ticket, tree, first) = {
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
                            Slot::Running {
                                tree,
                                stopping,
                                monitor,
                                ..
                            },
                        )) => {
                            let first = (!*stopping).then_some(*monitor);
                            *stopping = true;
                            break (ticket, tree.clone(), first);
                        }
                        Some((_, _, Slot::Starting { .. })) => {}
                    }
                }
                // A start is in flight: wait for its commit or rollback.
                changed.as_mut().await;
                changed.set(self.changed.notified());
            }
        };
        // The first stopper reports the end itself, so the supervisor's
        // process need not hear of it; should this future be dropped before,
        // the guard hands the report back to the supervisor's process.
        let mut handback = None;
        if let Some(monitor) = first {
            if tree.pid().demonitor(monitor)
                && let Some(watcher) = self.watcher.get()
            {
                handback = Some(HandBack {
                    pid: tree.pid().clone(),
                    downs: watcher.downs.clone(),
                    ticket,
                    armed: true,
                });
            }
            // Outside the lock; from here on the termination completes even
            // if this future is dropped.
            begin_termination(&tree, term);
        }
        let reason = tree.wait().await;
        match &self.persistence {
            Some(config) if config.save_on_stop => {
                // Only a stopper that took over the tree's monitor reports
                // its end (otherwise the supervisor's process does, at once,
                // and a save would race that report).
                if handback.is_some() {
                    // Saved while still registered (the project stays
                    // taken until the snapshot is written), reported before
                    // the end.
                    self.save_on_stop(config, ticket, &tree).await;
                    self.end_tree(ticket, tree.pid(), &reason).await;
                } else if first.is_some() {
                    self.end_tree(ticket, tree.pid(), &reason).await;
                } else {
                    // The first stopper saves and reports the end.
                    self.removed(ticket).await;
                }
            }
            _ => self.end_tree(ticket, tree.pid(), &reason).await,
        }
        if let Some(handback) = handback {
            handback.done();
        }
        Ok(reason)
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
        let conversation = conversation_of(tree);
        let _one_at_a_time = self.save_locks.lock(id).await;
        let snapshot = Snapshot::of(&session, conversation);
        match config.persistence.save(&snapshot).await {
            Ok(()) => {
                tracing::info!(%id, "session saved on stop");
                self.events.emit(id, EventKind::Saved);
            }
            Err(error) => {
                tracing::warn!(%id, %error, "saving the session on stop failed");
                self.events.emit(
                    id,
                    EventKind::SaveFailed {
                        error: Term::new(error),
                    },
                );
            }
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

    /// A stopped tree ended: its claim in the cluster (if any) is released
    /// and awaited, then [`tree_ended`](Self::tree_ended) — so when a stop
    /// returns, the project is free cluster-wide too.
    async fn end_tree(&self, ticket: Ticket, pid: &Pid, reason: &ExitReason) {
        let mut released = None;
        if let Some(cluster) = &self.cluster {
            let claim = self
                .registry
                .with_slot(ticket.id(), |current, _, slot| match slot {
                    Slot::Running { tree, claim, .. } if current == ticket && tree.pid() == pid => {
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

    /// The sessions whose claim was made under a lease older than
    /// `current`: void, to be stopped.
    pub(crate) fn sessions_claimed_before(&self, current: Lease) -> Vec<SessionId> {
        self.registry.fold(Vec::new(), |mut void, ticket, _, slot| {
            if let Slot::Running {
                claim: Some(claim), ..
            } = slot
                && claim.lease < current
            {
                void.push(ticket.id());
            }
            void
        })
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
                    Slot::Running {
                        tree,
                        stopping,
                        announced,
                        ..
                    },
                )) if tree.pid() == pid => (*stopping, *announced),
                _ => break 'ended false,
            };
            if let Some((_, Slot::Running { claim: held, .. })) = registry.remove(ticket) {
                claim = held
                    .map(|held| *held)
                    .filter(|held| Some(*held) != released);
            }
            if !announced {
                break 'ended true;
            }
            let kind = end_of(stopping, reason);
            if matches!(kind, EventKind::Crashed { .. }) {
                tracing::warn!(id = %ticket.id(), %reason, "session crashed");
            } else {
                tracing::info!(id = %ticket.id(), %reason, "session stopped");
            }
            self.events.emit(ticket.id(), kind);
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
            Some(Slot::Running {
                announced: true, ..
            }) => self.events.emit(ticket.id(), kind),
            Some(Slot::Starting { pending }) => pending.push(kind),
            Some(Slot::Running { .. }) | None => {}
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
                    if let Slot::Running { tree, .. } = slot {
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

    fn ids(&self) -> Vec<SessionId> {
        self.registry.fold(Vec::new(), |mut ids, ticket, _, _| {
            ids.push(ticket.id());
            ids
        })
    }

    /// The tree of session `id`, if it runs and is alive.
    pub(crate) fn running(&self, id: SessionId) -> Option<SessionHandle> {
        self.registry
            .with_slot(id, |ticket, session, slot| {
                slot.live().map(|tree| {
                    SessionHandle::new(Arc::clone(session), tree.clone(), self.me.clone(), ticket)
                })
            })
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
                        SessionHandle::new(
                            Arc::clone(session),
                            tree.clone(),
                            self.me.clone(),
                            ticket,
                        ),
                    ));
                }
                acc
            })
    }

    pub(crate) fn count_running(&self) -> usize {
        self.registry.fold(0, |count, _, _, slot| {
            count
                + usize::from(matches!(
                    slot,
                    Slot::Running {
                        announced: true,
                        ..
                    }
                ))
        })
    }

    pub(crate) fn max_sessions(&self) -> usize {
        self.registry.limit()
    }

    pub(crate) fn current_session(&self, id: SessionId) -> Option<Arc<Session>> {
        self.registry.lookup(id)
    }

    /// Changes the session `id` under the lock, keeping its registration.
    pub(crate) fn update(
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
        registry
            .replace(ticket, updated)
            .map_err(|_| UpdateError::NotFound { id })
    }
}

/// The committed conversation of a tree (empty for a tree that is no
/// session supervisor: it keeps none).
pub(crate) fn conversation_of(tree: &TreeHandle) -> Conversation {
    tree.tree()
        .map(|supervisor| supervisor.context().conversation().snapshot())
        .unwrap_or_default()
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

/// Starts terminating `tree` by its policy, so that the termination
/// completes whether or not anyone waits for it: a stop request, and for a
/// timeout policy a task that kills the tree when the time is up.
fn begin_termination(tree: &TreeHandle, term: Option<Term>) {
    let pid = tree.pid().clone();
    let ask = |pid: &Pid| match term {
        Some(term) => pid.request_stop_with(term),
        None => pid.request_stop(),
    };
    match tree.shutdown_policy() {
        Shutdown::BrutalKill => pid.kill(),
        Shutdown::Timeout(timeout) => {
            ask(&pid);
            tokio::spawn(async move {
                if tokio::time::timeout(timeout, pid.wait()).await.is_err() {
                    pid.kill();
                }
            });
        }
        _infinity => ask(&pid),
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

/// Held by a stopper that took the supervisor's monitor off a tree: if the
/// stopper is dropped before it reported the tree's end, the monitor is put
/// back (a tree that has already ended sends its `Down` at once), so the
/// supervisor's process reports it instead.
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

/// Rolls a start back unless committed: removes the registration. Runs on
/// every early return and when the start future is dropped.
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
                return Err(StartError::Backend(jido_registry::BackendError::LeaseLost));
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
                Slot::Running {
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
                core.events.emit(ticket.id(), EventKind::Started);
                if let Slot::Starting { pending } = previous {
                    for kind in pending {
                        core.events.emit(ticket.id(), kind);
                    }
                }
            }
            closed
        };
        core.changed.notify_waiters();
        if let Some(reason) = tree.pid().exit_reason() {
            // Ended before its start returned: report it now rather than
            // when the Down is read.
            core.tree_ended(ticket, tree.pid(), &reason);
        }
        if closed {
            begin_termination(&tree, None);
            return Err(StartError::ShuttingDown);
        }
        tracing::info!(id = %ticket.id(), pid = %tree.pid(), "session started");
        Ok(SessionHandle::new(
            session,
            tree,
            Arc::downgrade(core),
            ticket,
        ))
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
            if let Slot::Running {
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
                if !announced {
                    continue;
                }
                self.events.emit(
                    ticket.id(),
                    EventKind::Stopped {
                        reason: ExitReason::Killed,
                    },
                );
            }
        }
        if let Some(watcher) = self.watcher.get() {
            watcher.pid.kill();
        }
    }
}

/// Finds, on every call, the tree of whichever session runs under an id:
/// what a session's [`ChildRef`](crate::ChildRef)s locate their child
/// through.
pub(crate) struct SessionLocate {
    pub(crate) core: Weak<Core>,
    pub(crate) id: SessionId,
}

impl Locate for SessionLocate {
    fn locate(&self) -> Option<Directory> {
        let core = self.core.upgrade()?;
        core.registry
            .with_slot(self.id, |_, _, slot| {
                slot.live()?.tree().map(|tree| tree.directory())
            })
            .flatten()
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
