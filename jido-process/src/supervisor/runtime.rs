//! The supervisor process: its state, its loop, and what it does when a
//! child ends (OTP's `supervisor` state machine, as one interpreter of
//! [`ChildSpec`] data).
//!
//! The children table lives in [`SupervisorInner`], behind a mutex that is
//! never held across an await, so that lookups ([`ChildRef`](crate::ChildRef),
//! `which_children`) read it without a message. Everything that changes it
//! runs on the supervisor's own task, one message at a time: child deaths
//! arrive as [`Down`] messages, requests as [`Command`]s, retries of failed
//! restarts as [`Msg::TryAgain`]. The task exists only while there is
//! something to do: an idle supervisor with a child running parks
//! ([`crate::park`]), and the next message or stop request spawns its next
//! task, one at a time ("the supervisor's task" below: its current one).
//!
//! # Invariants
//!
//! Of the children table (`SupervisorInner::slots`). 2–5 hold whenever the
//! supervisor's task is between two messages; 2–4 are checked there in
//! debug builds ([`SupervisorInner::check`]).
//!
//! 1. Only the supervisor's task changes the table; handles send
//!    [`Command`]s. So a position found before an await is still valid
//!    after it (`terminate_all` walks the table by index across awaits).
//! 2. Child names are unique.
//! 3. A `Running` slot holds one incarnation, monitored by this supervisor
//!    into its own mailbox under `Running::monitor`; no process is in two
//!    slots. A `Down` whose monitor names no slot is of an incarnation the
//!    supervisor terminated or replaced itself (it demonitored it first),
//!    and is ignored.
//! 4. A temporary child is always `Running`: it is forgotten when it ends,
//!    when it is terminated, and when it ignores its start (never
//!    restarted, so never `Restarting`). Only the supervisor's exit (the
//!    final `terminate_all`, the runner's drop) leaves one `Stopped`.
//! 5. A child is `Restarting` only while a restart that covers it is under
//!    way or queued: a [`Msg::TryAgain`] for it, or — with one-for-all or
//!    rest-for-one — for a child whose restart range holds it.
//! 6. `changed` is notified after every change of a child's state that a
//!    waiter may be waiting for (a deleted child was stopped: nobody waits
//!    for it) and when the task ends, so a child reference that read the
//!    table before a change is woken after it.
//! 7. Once `down` is set the task has ended and no child is reachable
//!    (lookups check `down` first): its children were terminated, or are
//!    being killed as it is dropped (they are linked to it).
//! 8. Once `gave_up` is set — as the supervisor reaches its restart
//!    intensity, before its children are terminated — it stays set, and
//!    every lookup answers [`Found::GaveUp`].
//!
//! # Deadlock safety
//!
//! The table's mutex is never held across an await, nor while a process is
//! killed or a monitor delivered (a kill may run monitors' sends).

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;

use parking_lot::Mutex;
use tokio::sync::{Notify, oneshot};
use tokio::time::Instant;

use crate::park::{Parkable, spawn_parked};
use crate::supervisor::child_ref::{Found, Lookup};
use crate::supervisor::child_spec::Start;
use crate::supervisor::intensity::RestartWindow;
use crate::{
    AutoShutdown, ChildName, ChildSpec, Down, ExitReason, Inbox, Mailbox, MonitorRef, Observer,
    Pid, Restart, StartOutcome, Strategy, Supervisor, SupervisorError, SupervisorEvent,
    SupervisorExit, SupervisorSpec, Term, mailbox,
};

/// What a supervisor's mailbox holds.
pub(crate) enum Msg<C> {
    /// A child ended; its monitor names the incarnation (monitor references
    /// are unique program-wide).
    Down(Down),
    /// A request from a [`Supervisor`] handle.
    Command(Command<C>),
    /// Retry the restart of a child whose restart failed.
    TryAgain(ChildName),
}

impl<C> From<Down> for Msg<C> {
    fn from(down: Down) -> Self {
        Msg::Down(down)
    }
}

type Reply<T> = oneshot::Sender<Result<T, SupervisorError>>;

/// A request from a [`Supervisor`] handle, with where to send the answer.
pub(crate) enum Command<C> {
    Start(ChildSpec<C>, Reply<Option<Pid>>),
    Terminate(ChildName, Reply<()>),
    Restart(ChildName, Reply<Option<Pid>>),
    Delete(ChildName, Reply<()>),
}

/// Where a supervisor reports restarts, and the name prefix of a nested
/// supervisor's children.
#[derive(Clone)]
pub(crate) struct Report {
    observer: Option<Arc<dyn Observer>>,
    prefix: Option<ChildName>,
    /// The parent of the supervisor's log lines ([`Observer::span`]), if
    /// it is enabled (boxed: a pointer where most supervisors have none).
    span: Option<Box<tracing::Span>>,
}

impl Default for Report {
    fn default() -> Self {
        Report::new(None, None)
    }
}

impl Report {
    pub(crate) fn new(observer: Option<Arc<dyn Observer>>, prefix: Option<ChildName>) -> Self {
        let span = observer
            .as_ref()
            .map(|observer| observer.span())
            .filter(|span| !span.is_disabled())
            .map(Box::new);
        Report {
            observer,
            prefix,
            span,
        }
    }

    fn nested(&self, name: &ChildName) -> Report {
        Report {
            observer: self.observer.clone(),
            prefix: Some(self.name(name)),
            span: self.span.clone(),
        }
    }

    fn name(&self, child: &ChildName) -> ChildName {
        ChildName::nested(self.prefix.as_ref(), child)
    }

    /// The parent of a log line: the observer's span, or none.
    fn parent(&self) -> Option<tracing::Id> {
        self.span.as_ref().and_then(|span| span.id())
    }

    fn observe(&self, event: SupervisorEvent) {
        if let Some(observer) = &self.observer {
            observer.observe(event);
        }
    }
}

/// One child of a running supervisor.
pub(crate) struct ChildSlot<C> {
    pub(crate) spec: ChildSpec<C>,
    pub(crate) state: ChildState<C>,
}

/// Where a child stands (OTP's `pid` field: a pid, `{restarting, _}` or
/// `undefined`).
pub(crate) enum ChildState<C> {
    Running(Running<C>),
    /// Ended and about to be restarted, or its restart failed and will be
    /// retried.
    Restarting {
        reason: ExitReason,
    },
    /// Not running: terminated, ignored its start, or ended for good.
    Stopped,
}

/// One incarnation of a child.
pub(crate) struct Running<C> {
    pub(crate) pid: Pid,
    /// The supervisor's monitor of this incarnation: its `Down` says which
    /// incarnation ended.
    monitor: MonitorRef,
    /// The worker's `Addr`, for child references.
    pub(crate) addr: Option<Arc<dyn Any + Send + Sync>>,
    /// The handle of a nested supervisor.
    pub(crate) nested: Option<Supervisor<C>>,
}

impl<C> ChildSlot<C> {
    fn running(&self) -> Option<&Running<C>> {
        match &self.state {
            ChildState::Running(running) => Some(running),
            _ => None,
        }
    }

    fn is_incarnation(&self, monitor: MonitorRef) -> bool {
        self.running()
            .is_some_and(|running| running.monitor == monitor)
    }
}

/// What a supervisor's handles, its task and child references share.
pub(crate) struct SupervisorInner<C> {
    pub(crate) pid: Pid,
    pub(crate) mailbox: Mailbox<Msg<C>>,
    pub(crate) ctx: C,
    strategy: Strategy,
    auto_shutdown: AutoShutdown,
    report: Report,
    /// The children, in start order.
    pub(crate) slots: Mutex<Vec<ChildSlot<C>>>,
    /// Notified whenever a child's state changes, and when the supervisor
    /// ends: wakes child references waiting through a restart.
    changed: Notify,
    /// Set when the supervisor's task has ended (its children are dead).
    down: AtomicBool,
    /// Set (and `changed` notified) as the supervisor gives up — its
    /// restart intensity reached — before it terminates its children:
    /// lookups say so from then on (invariant 8).
    gave_up: AtomicBool,
}

/// Starts a supervisor (see [`SupervisorSpec::start`]). Boxed: a
/// supervisor's start may start a nested supervisor.
pub(crate) fn start<C>(spec: &SupervisorSpec<C>, ctx: C, report: Report) -> StartFuture<'_, C>
where
    C: Clone + Send + Sync + 'static,
{
    Box::pin(start_unboxed(spec, ctx, report))
}

/// [`start`] without the box, for a top-level start.
pub(crate) async fn start_unboxed<C>(
    spec: &SupervisorSpec<C>,
    ctx: C,
    report: Report,
) -> Result<Supervisor<C>, SupervisorError>
where
    C: Clone + Send + Sync + 'static,
{
    spec.validate()?;
    if tokio::runtime::Handle::try_current().is_err() {
        return Err(SupervisorError::NoRuntime);
    }
    let (mailbox, inbox) = mailbox();
    // Kills what it holds if this future is dropped half-way.
    let mut started = KillRunning(Vec::with_capacity(spec.children.len()));
    for child in &spec.children {
        match start_child(child, &ctx, &mailbox, &report).await {
            Ok(Some(running)) => started.0.push(ChildSlot {
                spec: child.clone(),
                state: ChildState::Running(running),
            }),
            Ok(None) if child.restart_type() == Restart::Temporary => {}
            Ok(None) => started.0.push(ChildSlot {
                spec: child.clone(),
                state: ChildState::Stopped,
            }),
            Err(reason) => {
                tracing::error!(parent: report.parent(), child = %report.name(child.name()), %reason, "child failed to start");
                // As OTP: terminate what was started, last first, then fail.
                for slot in started.0.iter_mut().rev() {
                    if let Some(running) = slot.running() {
                        running.pid.demonitor(running.monitor);
                        slot.spec.shutdown_policy().terminate(&running.pid).await;
                    }
                    slot.state = ChildState::Stopped;
                }
                return Err(SupervisorError::StartFailed {
                    name: child.name().clone(),
                    reason,
                });
            }
        }
    }
    let slots = std::mem::take(&mut started.0);
    let pid = Pid::reserve();
    let shared = Arc::new(SupervisorInner {
        pid: pid.clone(),
        mailbox,
        ctx,
        strategy: spec.strategy,
        auto_shutdown: spec.auto_shutdown,
        report,
        slots: Mutex::new(slots),
        changed: Notify::new(),
        down: AtomicBool::new(false),
        gave_up: AtomicBool::new(false),
    });
    let runner = Runner {
        shared: Arc::clone(&shared),
        inbox,
        window: RestartWindow::new(spec.intensity),
    };
    // Idle, it has no task: a child's end, a command or a stop spawns one.
    spawn_parked(runner);
    Ok(Supervisor::new(shared))
}

pub(crate) type StartFuture<'a, C> =
    Pin<Box<dyn Future<Output = Result<Supervisor<C>, SupervisorError>> + Send + 'a>>;

/// Starts one child with `ctx` and monitors it into `mailbox`. `Ok(None)`
/// when it ignored its start.
async fn start_child<C>(
    spec: &ChildSpec<C>,
    ctx: &C,
    mailbox: &Mailbox<Msg<C>>,
    report: &Report,
) -> Result<Option<Running<C>>, Term>
where
    C: Clone + Send + Sync + 'static,
{
    let (pid, addr, nested) = match spec.start_fn() {
        Start::Process(process) => match Start::start_process(&**process, ctx)? {
            StartOutcome::Started(started) => (started.pid, started.addr, None),
            StartOutcome::Ignore => return Ok(None),
        },
        Start::Supervisor(nested) => {
            match start(nested, ctx.clone(), report.nested(spec.name())).await {
                Ok(supervisor) => (supervisor.pid().clone(), None, Some(supervisor)),
                Err(error) => return Err(Term::new(error)),
            }
        }
    };
    let monitor = pid.monitor(mailbox, ());
    Ok(Some(Running {
        pid,
        monitor,
        addr,
        nested,
    }))
}

/// Kills the running children it holds when dropped: makes a dropped start
/// leave nothing running.
struct KillRunning<C>(Vec<ChildSlot<C>>);

impl<C> Drop for KillRunning<C> {
    fn drop(&mut self) {
        for slot in &self.0 {
            if let Some(running) = slot.running() {
                running.pid.kill();
            }
        }
    }
}

/// Kills the process it holds when dropped, unless disarmed: makes a
/// termination that is cut short end in a kill.
struct KillOnDrop(Option<Pid>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(pid) = self.0.take() {
            pid.kill();
        }
    }
}

/// Marks a slot stopped (a pending restart is cancelled) and takes its
/// running incarnation out, if any, with its shutdown policy.
fn take_running<C>(slot: &mut ChildSlot<C>) -> Option<(Running<C>, crate::Shutdown)> {
    match std::mem::replace(&mut slot.state, ChildState::Stopped) {
        ChildState::Running(running) => Some((running, slot.spec.shutdown_policy())),
        ChildState::Restarting { .. } | ChildState::Stopped => None,
    }
}

/// The supervisor's task: its mailbox and its restart window.
///
/// Dropping it — when the task returns, is killed, or is killed before it
/// was ever polled; when parked, where the wake that found its runtime shut
/// down spawned its next task — kills the children still running (they are
/// linked to the supervisor) and wakes whoever waits on a child.
struct Runner<C> {
    shared: Arc<SupervisorInner<C>>,
    inbox: Inbox<Msg<C>>,
    window: RestartWindow,
}

impl<C> Drop for Runner<C> {
    fn drop(&mut self) {
        let shared = &self.shared;
        shared.down.store(true, Ordering::Release);
        let orphans: Vec<Pid> = {
            let mut slots = shared.slots.lock();
            slots
                .iter_mut()
                .filter_map(
                    |slot| match std::mem::replace(&mut slot.state, ChildState::Stopped) {
                        ChildState::Running(running) => Some(running.pid),
                        _ => None,
                    },
                )
                .collect()
        };
        // Outside the lock: a kill delivers monitors.
        for pid in orphans {
            pid.kill();
        }
        shared.changed.notify_waiters();
    }
}

/// The supervisor's loop (see [`crate::park`]): while idle it has no
/// task, only the runner parked with its mailbox; a message or a stop
/// request spawns a task that handles what came, then parks again.
impl<C: Clone + Send + Sync + 'static> Parkable for Runner<C> {
    /// A message, or `None` for a stop request.
    type Next = Option<Msg<C>>;

    fn pid(&self) -> &Pid {
        &self.shared.pid
    }

    /// Only with a child running: a running child's end wakes it, also when
    /// the runtime drops the child's task at its shutdown.
    fn may_park(&self) -> bool {
        self.shared
            .slots
            .lock()
            .iter()
            .any(|slot| slot.running().is_some())
    }

    /// A stop request first; `shared` holds a sender, so the mailbox never
    /// closes: `None` is a stop request.
    fn poll_next(&mut self, cx: &mut std::task::Context<'_>) -> Poll<Option<Msg<C>>> {
        if self.shared.pid.poll_stop_requested(cx).is_ready() {
            return Poll::Ready(None);
        }
        self.inbox.poll_recv(cx)
    }

    /// Acts on a message, or on a stop request (`None`); then checks the
    /// table's invariants (debug builds). Boxed: a parked runner need not
    /// keep room for what it does when busy.
    fn step(
        &mut self,
        msg: Option<Msg<C>>,
    ) -> Pin<Box<dyn Future<Output = Option<ExitReason>> + Send + '_>> {
        Box::pin(async move {
            let handled = match msg {
                Some(msg) => self.handle(msg).await,
                None => {
                    self.shared.terminate_all().await;
                    Err(self.shared.pid.stop_reason())
                }
            };
            match handled {
                Ok(()) => {
                    self.shared.check();
                    None
                }
                Err(reason) => Some(reason),
            }
        })
    }
}

impl<C: Clone + Send + Sync + 'static> Runner<C> {
    /// `Err` carries the reason the supervisor exits for; its children are
    /// terminated by then.
    async fn handle(&mut self, msg: Msg<C>) -> Result<(), ExitReason> {
        match msg {
            Msg::Down(down) => self.on_down(down).await,
            Msg::TryAgain(name) => {
                let reason = {
                    let slots = self.shared.slots.lock();
                    match slots.iter().find(|slot| *slot.spec.name() == name) {
                        Some(ChildSlot {
                            state: ChildState::Restarting { reason },
                            ..
                        }) => reason.clone(),
                        // Restarted, terminated or deleted meanwhile.
                        _ => return Ok(()),
                    }
                };
                self.restart(name, reason).await
            }
            Msg::Command(command) => {
                self.shared.command(command).await;
                Ok(())
            }
        }
    }

    /// A child ended: OTP's `do_restart`.
    async fn on_down(&mut self, down: Down) -> Result<(), ExitReason> {
        let shared = &self.shared;
        let reason = down.reason;
        let spec = {
            let mut slots = shared.slots.lock();
            let Some(index) = slots
                .iter()
                .position(|slot| slot.is_incarnation(down.monitor))
            else {
                // One this supervisor terminated or replaced itself.
                return Ok(());
            };
            let spec = slots[index].spec.clone();
            if spec.restart_type().restarts_after(&reason) {
                slots[index].state = ChildState::Restarting {
                    reason: reason.clone(),
                };
            } else if spec.restart_type() == Restart::Temporary {
                slots.remove(index);
            } else {
                slots[index].state = ChildState::Stopped;
            }
            spec
        };
        shared.changed.notify_waiters();
        let child = shared.report.name(spec.name());
        if spec.restart_type().restarts_after(&reason) {
            tracing::warn!(parent: shared.report.parent(), %child, %reason, "child terminated; restarting");
            return self.restart(spec.name().clone(), reason).await;
        }
        if reason.is_abnormal() {
            tracing::warn!(parent: shared.report.parent(), %child, %reason, "child terminated; not restarted");
        } else {
            tracing::debug!(parent: shared.report.parent(), %child, %reason, "child ended");
        }
        if shared.auto_shutdown_after(&spec) {
            tracing::debug!(parent: shared.report.parent(), %child, "significant child ended; shutting down");
            shared.terminate_all().await;
            return Err(ExitReason::ShutdownWith(Term::new(
                SupervisorExit::AutoShutdown {
                    child: spec.name().clone(),
                },
            )));
        }
        Ok(())
    }

    /// Restarts child `name` (and its siblings, as the strategy says),
    /// counting against the intensity: OTP's `restart/2`. A failed start
    /// leaves the child restarting and queues a retry.
    async fn restart(&mut self, name: ChildName, reason: ExitReason) -> Result<(), ExitReason> {
        let shared = Arc::clone(&self.shared);
        if !self.window.allow(Instant::now()) {
            tracing::error!(parent: shared.report.parent(), child = %shared.report.name(&name), %reason, "reached max restart intensity; shutting down");
            // Before the children go: a call waiting through the restarts
            // wakes to this, not to a child terminated.
            shared.gave_up.store(true, Ordering::Release);
            shared.changed.notify_waiters();
            shared.terminate_all().await;
            return Err(ExitReason::ShutdownWith(Term::new(
                SupervisorExit::ReachedMaxRestartIntensity {
                    child: name,
                    reason,
                },
            )));
        }
        let range = shared.restart_range(&name);
        for sibling in range.iter().rev().filter(|sibling| **sibling != name) {
            shared.terminate_child(sibling, true).await;
        }
        for child in &range {
            if let Err(error) = shared.start_existing(child).await {
                let full = shared.report.name(child);
                tracing::error!(parent: shared.report.parent(), child = %full, %error, "restart failed; trying again");
                shared.set_restarting(child, reason.clone());
                shared
                    .report
                    .observe(SupervisorEvent::RestartFailed { child: full, error });
                // The supervisor holds its own inbox, so this cannot fail.
                let _ = shared.mailbox.send(Msg::TryAgain(child.clone()));
                return Ok(());
            }
        }
        shared.report.observe(SupervisorEvent::ChildRestarted {
            child: shared.report.name(&name),
            reason,
        });
        Ok(())
    }
}

impl<C: Clone + Send + Sync + 'static> SupervisorInner<C> {
    /// Answers a request from a handle.
    async fn command(&self, command: Command<C>) {
        match command {
            Command::Start(spec, reply) => {
                let _ = reply.send(self.start_new_child(spec).await);
            }
            Command::Terminate(name, reply) => {
                let known = self
                    .slots
                    .lock()
                    .iter()
                    .any(|slot| *slot.spec.name() == name);
                let answer = if known {
                    self.terminate_child(&name, true).await;
                    Ok(())
                } else {
                    Err(SupervisorError::NotFound { name })
                };
                let _ = reply.send(answer);
            }
            Command::Restart(name, reply) => {
                let _ = reply.send(self.restart_stopped_child(name).await);
            }
            Command::Delete(name, reply) => {
                let _ = reply.send(self.delete_child(name));
            }
        }
    }

    /// OTP's `handle_start_child`.
    async fn start_new_child(&self, spec: ChildSpec<C>) -> Result<Option<Pid>, SupervisorError> {
        spec.check(self.auto_shutdown)?;
        let name = spec.name().clone();
        if let Some(slot) = self
            .slots
            .lock()
            .iter()
            .find(|slot| *slot.spec.name() == name)
        {
            return Err(match slot.running() {
                Some(running) => SupervisorError::AlreadyStarted {
                    name,
                    pid: running.pid.clone(),
                },
                None => SupervisorError::AlreadyPresent { name },
            });
        }
        let started = self.start_spec(&spec).await?;
        let pid = started.as_ref().map(|running| running.pid.clone());
        let state = match started {
            Some(running) => ChildState::Running(running),
            None if spec.restart_type() == Restart::Temporary => return Ok(None),
            None => ChildState::Stopped,
        };
        self.slots.lock().push(ChildSlot { spec, state });
        self.changed.notify_waiters();
        Ok(pid)
    }

    /// OTP's `restart_child`: starts a stopped child again.
    async fn restart_stopped_child(&self, name: ChildName) -> Result<Option<Pid>, SupervisorError> {
        let spec = {
            let slots = self.slots.lock();
            let Some(slot) = slots.iter().find(|slot| *slot.spec.name() == name) else {
                return Err(SupervisorError::NotFound { name });
            };
            match slot.state {
                ChildState::Running(_) => return Err(SupervisorError::Running { name }),
                ChildState::Restarting { .. } => return Err(SupervisorError::Restarting { name }),
                ChildState::Stopped => slot.spec.clone(),
            }
        };
        let started = self.start_spec(&spec).await?;
        let pid = started.as_ref().map(|running| running.pid.clone());
        if let Some(running) = started {
            self.set_state(&name, ChildState::Running(running));
        }
        Ok(pid)
    }

    /// Starts `spec` for a request: a failure names the child.
    async fn start_spec(&self, spec: &ChildSpec<C>) -> Result<Option<Running<C>>, SupervisorError> {
        start_child(spec, &self.ctx, &self.mailbox, &self.report)
            .await
            .map_err(|reason| SupervisorError::StartFailed {
                name: spec.name().clone(),
                reason,
            })
    }

    /// OTP's `delete_child`: forgets a stopped child.
    fn delete_child(&self, name: ChildName) -> Result<(), SupervisorError> {
        let mut slots = self.slots.lock();
        let Some(index) = slots.iter().position(|slot| *slot.spec.name() == name) else {
            return Err(SupervisorError::NotFound { name });
        };
        match slots[index].state {
            ChildState::Running(_) => Err(SupervisorError::Running { name }),
            ChildState::Restarting { .. } => Err(SupervisorError::Restarting { name }),
            ChildState::Stopped => {
                slots.remove(index);
                Ok(())
            }
        }
    }

    /// The children a restart of `name` concerns, in start order.
    fn restart_range(&self, name: &ChildName) -> Vec<ChildName> {
        let slots = self.slots.lock();
        let Some(index) = slots.iter().position(|slot| slot.spec.name() == name) else {
            return Vec::new();
        };
        let range = match self.strategy {
            Strategy::OneForOne => index..index + 1,
            Strategy::OneForAll => 0..slots.len(),
            Strategy::RestForOne => index..slots.len(),
        };
        slots[range]
            .iter()
            .map(|slot| slot.spec.name().clone())
            .collect()
    }

    /// Starts child `name` if it is known and not running (a temporary
    /// child terminated by the strategy is no longer known).
    async fn start_existing(&self, name: &ChildName) -> Result<(), Term> {
        let spec = {
            let slots = self.slots.lock();
            match slots.iter().find(|slot| slot.spec.name() == name) {
                Some(slot) if slot.running().is_none() => slot.spec.clone(),
                _ => return Ok(()),
            }
        };
        let state = match start_child(&spec, &self.ctx, &self.mailbox, &self.report).await? {
            Some(running) => ChildState::Running(running),
            None => ChildState::Stopped,
        };
        self.set_state(name, state);
        Ok(())
    }

    fn set_restarting(&self, name: &ChildName, reason: ExitReason) {
        self.set_state(name, ChildState::Restarting { reason });
    }

    /// Sets the state of child `name`, if it is still known.
    fn set_state(&self, name: &ChildName, state: ChildState<C>) {
        let orphan = {
            let mut slots = self.slots.lock();
            match slots.iter_mut().find(|slot| slot.spec.name() == name) {
                Some(slot) => {
                    slot.state = state;
                    None
                }
                None => Some(state),
            }
        };
        // Deleted meanwhile (cannot happen on the supervisor's own task, but
        // a process must never be left unsupervised).
        if let Some(ChildState::Running(running)) = orphan {
            running.pid.kill();
        }
        self.changed.notify_waiters();
    }

    /// Terminates child `name` by its shutdown policy, if it runs, and marks
    /// it stopped; a temporary child is forgotten if `forget_temporary`.
    async fn terminate_child(&self, name: &ChildName, forget_temporary: bool) {
        let taken = {
            let mut slots = self.slots.lock();
            let Some(index) = slots.iter().position(|slot| slot.spec.name() == name) else {
                return;
            };
            let taken = take_running(&mut slots[index]);
            if forget_temporary && slots[index].spec.restart_type() == Restart::Temporary {
                slots.remove(index);
            }
            taken
        };
        self.changed.notify_waiters();
        if let Some((running, shutdown)) = taken {
            self.end_child(running, shutdown, name).await;
        }
    }

    /// Terminates every child, last started first.
    async fn terminate_all(&self) {
        // Only this task changes the slots, so indices stay valid.
        let count = self.slots.lock().len();
        for index in (0..count).rev() {
            let taken = {
                let mut slots = self.slots.lock();
                slots.get_mut(index).and_then(|slot| {
                    take_running(slot).map(|taken| (taken, slot.spec.name().clone()))
                })
            };
            if let Some(((running, shutdown), name)) = taken {
                self.end_child(running, shutdown, &name).await;
            }
        }
        self.changed.notify_waiters();
    }

    /// Terminates a child taken out of its slot by `shutdown`, and reports an
    /// unexpected end.
    async fn end_child(&self, running: Running<C>, shutdown: crate::Shutdown, name: &ChildName) {
        let pid = &running.pid;
        pid.demonitor(running.monitor);
        // If this supervisor is killed while it waits, the child dies too.
        let mut kill = KillOnDrop(Some(pid.clone()));
        let reason = shutdown.terminate(pid).await;
        kill.0 = None;
        let expected = reason.is_shutdown()
            || (reason == ExitReason::Killed && shutdown == crate::Shutdown::BrutalKill);
        if !expected {
            tracing::warn!(parent: self.report.parent(), child = %self.report.name(name), %reason, "child did not shut down cleanly");
        }
    }

    /// Checks invariants 2–4 of the table (see the module's doc), in debug
    /// builds.
    fn check(&self) {
        if !cfg!(debug_assertions) {
            return;
        }
        let slots = self.slots.lock();
        for (at, slot) in slots.iter().enumerate() {
            let earlier = &slots[..at];
            debug_assert!(
                earlier
                    .iter()
                    .all(|other| other.spec.name() != slot.spec.name()),
                "invariant 2: child {} twice",
                slot.spec.name()
            );
            if let ChildState::Running(running) = &slot.state {
                debug_assert!(
                    earlier
                        .iter()
                        .filter_map(ChildSlot::running)
                        .all(|other| other.pid != running.pid),
                    "invariant 3: one process in two slots"
                );
            } else {
                debug_assert!(
                    slot.spec.restart_type() != Restart::Temporary,
                    "invariant 4: temporary child {} kept while not running",
                    slot.spec.name()
                );
            }
        }
    }

    /// Whether the end of `spec` (not restarted) ends the supervisor: OTP's
    /// `do_auto_shutdown`.
    fn auto_shutdown_after(&self, spec: &ChildSpec<C>) -> bool {
        if !spec.is_significant() {
            return false;
        }
        match self.auto_shutdown {
            AutoShutdown::Never => false,
            AutoShutdown::AnySignificant => true,
            AutoShutdown::AllSignificant => !self.slots.lock().iter().any(|slot| {
                slot.spec.is_significant() && !matches!(slot.state, ChildState::Stopped)
            }),
        }
    }
}

impl<C: Send + Sync + 'static> Lookup for SupervisorInner<C> {
    fn find(&self, name: &str) -> Found {
        if self.gave_up.load(Ordering::Acquire) {
            return Found::GaveUp;
        }
        if self.down.load(Ordering::Acquire) || !self.pid.is_alive() {
            return Found::Down;
        }
        let slots = self.slots.lock();
        match slots.iter().find(|slot| *slot.spec.name() == *name) {
            None => Found::NoSuchChild,
            Some(slot) => match &slot.state {
                ChildState::Running(running) if running.pid.is_alive() => {
                    Found::Running(running.pid.clone(), running.addr.clone())
                }
                // Dead but not yet handled, or restarting: wait and see.
                ChildState::Running(_) | ChildState::Restarting { .. } => Found::Pending,
                ChildState::Stopped => Found::Stopped,
            },
        }
    }

    fn changed(&self) -> &Notify {
        &self.changed
    }
}
