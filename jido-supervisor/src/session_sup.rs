//! [`SessionSup`]: the real per-session supervisor, with its Manager and
//! State children.

use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use jido_registry::{ExitReason, Pid, spawn_with_pid};
use jido_session::{Session, SessionId};
use tokio::time::Instant;
use tracing::Instrument;

use crate::mailbox::{Inbox, Mailbox, mailbox};
use crate::manager::{self, ManagerMailbox};
use crate::restart::RestartWindow;
use crate::state::{self, StateMailbox};
use crate::{
    ChildContext, ChildError, ChildHandle, EventKind, Events, ProcessKey, ProcessValue, Processes,
    Restart, RestartIntensity, SessionChild, Shutdown, StartOutcome, Strategy,
};

/// How one child of a session's tree is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ChildSpec {
    /// When it is restarted (default [`Restart::Permanent`]).
    pub restart: Restart,
    /// How it is terminated (default: asked, then killed after 5 s).
    pub shutdown: Shutdown,
}

/// The real per-session supervisor (jido_code's `Session.Supervisor`), the
/// default [`SessionChild`].
///
/// Each session's tree is a supervisor process with two children, started in
/// this order: the **Manager** (the session's coordinator) and the **State**
/// (its conversation: messages, todos, prompt history). They are registered in
/// the [`Processes`] registry under [`ProcessKey::Session`],
/// [`ProcessKey::Manager`] and [`ProcessKey::State`]. When a child ends, the
/// [`Strategy`] (default one-for-one) and the child's [`Restart`] type decide
/// what is restarted; past the [`RestartIntensity`] (default 3 restarts in
/// 5 s) the supervisor terminates its children and exits, and the session
/// leaves the registries.
///
/// Starting does no waiting: both children's state is built, their tasks are
/// spawned and registered before `start` returns, so the tree is reachable by
/// name as soon as `start_session` returns.
///
/// ```
/// use std::time::Duration;
/// use jido_supervisor::{ChildSpec, Restart, RestartIntensity, SessionSup, SessionSupervisor, Strategy};
///
/// let tree = SessionSup::new()
///     .strategy(Strategy::OneForAll)
///     .intensity(RestartIntensity::new(5, Duration::from_secs(10)))
///     .state(ChildSpec { restart: Restart::Transient, ..ChildSpec::default() });
/// let supervisor = SessionSupervisor::builder().child(tree).build();
/// # drop(supervisor);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSup {
    strategy: Strategy,
    intensity: RestartIntensity,
    manager: ChildSpec,
    state: ChildSpec,
    shutdown: Shutdown,
}

impl Default for SessionSup {
    fn default() -> Self {
        SessionSup {
            strategy: Strategy::default(),
            intensity: RestartIntensity::default(),
            manager: ChildSpec::default(),
            state: ChildSpec::default(),
            shutdown: Shutdown::Infinity,
        }
    }
}

impl SessionSup {
    /// One-for-one, 3 restarts in 5 s, both children permanent with a 5 s
    /// shutdown, and the tree itself waited for when stopped
    /// ([`Shutdown::Infinity`], as OTP does for a supervisor child).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the restart strategy.
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// Sets the restart intensity.
    pub fn intensity(mut self, intensity: RestartIntensity) -> Self {
        self.intensity = intensity;
        self
    }

    /// Sets how the Manager is run.
    pub fn manager(mut self, spec: ChildSpec) -> Self {
        self.manager = spec;
        self
    }

    /// Sets how the State is run.
    pub fn state(mut self, spec: ChildSpec) -> Self {
        self.state = spec;
        self
    }

    /// Sets how the whole tree is terminated by `stop_session`.
    pub fn shutdown(mut self, shutdown: Shutdown) -> Self {
        self.shutdown = shutdown;
        self
    }

    fn start_tree(&self, ctx: &ChildContext) -> Result<ChildHandle, ChildError> {
        let session = Arc::clone(ctx.session());
        let id = session.id();
        let span = tracing::info_span!("session", id = %id);
        let (exits_tx, exits) = mailbox();
        let mut children = Children {
            id,
            session,
            processes: ctx.processes().clone(),
            exits: exits_tx,
            slots: vec![
                Slot {
                    kind: ChildKind::Manager,
                    spec: self.manager,
                    running: None,
                },
                Slot {
                    kind: ChildKind::State,
                    spec: self.state,
                    running: None,
                },
            ],
        };
        // On an early return, dropping `children` kills what was started.
        for index in 0..children.slots.len() {
            children.start(index)?;
        }
        let supervisor = Supervisor {
            strategy: self.strategy,
            window: RestartWindow::new(self.intensity),
            events: ctx.events().clone(),
            exits,
            children,
        };
        let pid = spawn_with_pid(|me| supervisor.run(me).instrument(span));
        if let Err(error) =
            ctx.processes()
                .register(ProcessKey::Session(id), &pid, ProcessValue::Supervisor)
        {
            pid.kill();
            return Err(ChildError::new(error));
        }
        Ok(ChildHandle::new(pid, self.shutdown))
    }
}

#[async_trait]
impl SessionChild for SessionSup {
    async fn start(&self, ctx: ChildContext) -> Result<StartOutcome, ChildError> {
        self.start_tree(&ctx).map(StartOutcome::Started)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChildKind {
    Manager,
    State,
}

impl ChildKind {
    fn name(self) -> &'static str {
        match self {
            ChildKind::Manager => "manager",
            ChildKind::State => "state",
        }
    }

    fn key(self, id: SessionId) -> ProcessKey {
        match self {
            ChildKind::Manager => ProcessKey::Manager(id),
            ChildKind::State => ProcessKey::State(id),
        }
    }
}

struct Slot {
    kind: ChildKind,
    spec: ChildSpec,
    running: Option<ChildHandle>,
}

/// A child's end, as its monitor reports it to the supervisor's mailbox.
struct ChildExit {
    index: usize,
    pid: u64,
    reason: ExitReason,
}

/// The children of one session's tree. Dropping it kills those still
/// running: they are linked to the supervisor, which owns this.
struct Children {
    id: SessionId,
    session: Arc<Session>,
    processes: Processes,
    exits: Mailbox<ChildExit>,
    /// Manager, then State: started in this order, terminated in reverse.
    /// On the heap: inline, it would make every idle supervisor's task a
    /// size class larger.
    slots: Vec<Slot>,
}

impl Children {
    /// Spawns child `index`, registers it under its key, and monitors it.
    fn start(&mut self, index: usize) -> Result<(), ChildError> {
        let slot = &mut self.slots[index];
        let (pid, value) = match slot.kind {
            ChildKind::Manager => {
                let (mailbox, inbox) = mailbox();
                let session = Arc::clone(&self.session);
                let pid = spawn_with_pid(|me| manager::run(me, session, inbox));
                (pid, ProcessValue::Manager(ManagerMailbox(mailbox)))
            }
            ChildKind::State => {
                let (mailbox, inbox) = mailbox();
                let pid = spawn_with_pid(|me| state::run(me, inbox));
                (pid, ProcessValue::State(StateMailbox(mailbox)))
            }
        };
        if let Err(error) = self.processes.register(slot.kind.key(self.id), &pid, value) {
            pid.kill();
            return Err(ChildError::new(error));
        }
        let exits = self.exits.clone();
        pid.monitor(move |pid, reason| {
            // Fails only when the supervisor is gone, and then nobody cares.
            let _ = exits.send(ChildExit {
                index,
                pid: pid.id(),
                reason: reason.clone(),
            });
        });
        slot.running = Some(ChildHandle::new(pid, slot.spec.shutdown));
        Ok(())
    }

    /// Terminates child `index` by its shutdown policy, if it runs.
    async fn terminate(&mut self, index: usize) {
        if let Some(child) = self.slots[index].running.take() {
            child.terminate().await;
        }
    }

    /// Terminates every running child, last started first.
    async fn terminate_all(&mut self) {
        for index in (0..self.slots.len()).rev() {
            self.terminate(index).await;
        }
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        for slot in &mut self.slots {
            if let Some(child) = slot.running.take() {
                child.kill();
            }
        }
    }
}

/// The supervisor process's state.
struct Supervisor {
    strategy: Strategy,
    window: RestartWindow,
    events: Events,
    exits: Inbox<ChildExit>,
    children: Children,
}

impl Supervisor {
    /// Waits for a stop request or a child's end. The rare paths are boxed,
    /// so that an idle supervisor's task holds only this loop's small state.
    async fn run(mut self, me: Pid) -> ExitReason {
        loop {
            tokio::select! {
                biased;
                () = me.stop_requested() => {
                    Box::pin(self.children.terminate_all()).await;
                    return ExitReason::Shutdown;
                }
                exit = self.exits.recv() => {
                    // `children` holds a sender, so the mailbox never closes.
                    let Some(exit) = exit else { return ExitReason::Normal };
                    if let Err(reason) = Box::pin(self.on_child_exit(exit)).await {
                        return reason;
                    }
                }
            }
        }
    }

    /// Applies the restart type, intensity and strategy to a child's end.
    /// `Err` carries the reason the whole tree must exit for.
    async fn on_child_exit(&mut self, exit: ChildExit) -> Result<(), ExitReason> {
        let ChildExit { index, pid, reason } = exit;
        let slot = &mut self.children.slots[index];
        if slot.running.as_ref().map(ChildHandle::id) != Some(pid) {
            // A child this supervisor terminated itself, or already replaced.
            return Ok(());
        }
        slot.running = None;
        let kind = slot.kind;
        if !slot.spec.restart.restarts_after(&reason) {
            tracing::info!(child = kind.name(), %reason, "child ended; not restarted");
            return Ok(());
        }
        if !self.window.allow(Instant::now()) {
            tracing::error!(child = kind.name(), %reason, "restart intensity reached; shutting down");
            self.children.terminate_all().await;
            return Err(ExitReason::error("reached max restart intensity"));
        }
        let range = self.restart_range(index);
        for sibling in range.clone().rev() {
            self.children.terminate(sibling).await;
        }
        for sibling in range {
            let spec = self.children.slots[sibling].spec;
            if (sibling == index || spec.restart != Restart::Temporary)
                && let Err(error) = self.children.start(sibling)
            {
                tracing::error!(%error, "restart failed; shutting down");
                self.children.terminate_all().await;
                return Err(ExitReason::error(format!("restart failed: {error}")));
            }
        }
        tracing::warn!(child = kind.name(), %reason, "child restarted");
        self.events.emit(
            self.children.id,
            EventKind::Restarted {
                child: kind.name(),
                reason,
            },
        );
        Ok(())
    }

    /// The children a restart of child `index` concerns.
    fn restart_range(&self, index: usize) -> Range<usize> {
        match self.strategy {
            Strategy::OneForOne => index..index + 1,
            Strategy::OneForAll => 0..self.children.slots.len(),
            Strategy::RestForOne => index..self.children.slots.len(),
        }
    }
}
