//! [`Supervisor`]: the handle of a running supervisor.

use std::fmt;
use std::sync::Arc;

use tokio::sync::oneshot;

use crate::supervisor::child_ref::Directory;
use crate::supervisor::runtime::{ChildState, Command, Msg, SupervisorInner};
use crate::{
    ChildCounts, ChildInfo, ChildKind, ChildName, ChildRef, ChildSpec, ChildStatus, ExitReason,
    Pid, SupervisorError, Worker,
};

/// A running supervisor: its process, its children, and the requests OTP's
/// `supervisor` module answers (`start_child`, `terminate_child`,
/// `restart_child`, `delete_child`, `which_children`, `count_children`).
/// Cheap to clone; clones name the same supervisor. Dropping handles does
/// not stop it: [`stop`](Supervisor::stop) does, or its parent.
///
/// ```
/// use jido_process::{ChildSpec, ExitReason, SupervisorError, SupervisorSpec};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let supervisor = SupervisorSpec::<()>::new().start(()).await.unwrap();
/// let sleeper = || ChildSpec::task("sleeper", |_: &(), me| async move {
///     me.stop_requested().await;
///     me.stop_reason()
/// });
///
/// let pid = supervisor.start_child(sleeper()).await.unwrap().unwrap();
/// assert!(matches!(
///     supervisor.start_child(sleeper()).await,
///     Err(SupervisorError::AlreadyStarted { pid: running, .. }) if running == pid
/// ));
/// supervisor.terminate_child("sleeper").await.unwrap();
/// assert_eq!(supervisor.count_children().active, 0);
/// supervisor.delete_child("sleeper").await.unwrap();
/// assert_eq!(supervisor.count_children().specs, 0);
/// # }
/// ```
pub struct Supervisor<C> {
    shared: Arc<SupervisorInner<C>>,
}

impl<C> Supervisor<C> {
    pub(crate) fn new(shared: Arc<SupervisorInner<C>>) -> Self {
        Supervisor { shared }
    }

    /// The supervisor's process.
    pub fn pid(&self) -> &Pid {
        &self.shared.pid
    }

    /// `true` until the supervisor has ended.
    pub fn is_alive(&self) -> bool {
        self.shared.pid.is_alive()
    }

    /// The context its children are started with.
    pub fn context(&self) -> &C {
        &self.shared.ctx
    }

    /// Every child, in start order.
    ///
    /// ```
    /// use jido_process::{ChildSpec, Context, SupervisorSpec, Worker};
    ///
    /// struct Echo;
    ///
    /// impl Worker for Echo {
    ///     type Request = u32;
    ///     type Reply = u32;
    ///     async fn handle(&mut self, n: u32, _ctx: &mut Context) -> u32 { n }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let supervisor = SupervisorSpec::new()
    ///     .child(ChildSpec::worker("a", |_: &()| Echo))
    ///     .child(ChildSpec::worker("b", |_: &()| Echo))
    ///     .start(())
    ///     .await
    ///     .unwrap();
    /// let names: Vec<String> =
    ///     supervisor.which_children().iter().map(|child| child.name.to_string()).collect();
    /// assert_eq!(names, ["a", "b"]);
    /// # }
    /// ```
    pub fn which_children(&self) -> Vec<ChildInfo> {
        let slots = self.shared.slots.lock();
        slots
            .iter()
            .map(|slot| {
                let (pid, status) = match &slot.state {
                    ChildState::Running(running) => {
                        (Some(running.pid.clone()), ChildStatus::Running)
                    }
                    ChildState::Restarting { .. } => (None, ChildStatus::Restarting),
                    ChildState::Stopped => (None, ChildStatus::Stopped),
                };
                ChildInfo {
                    name: slot.spec.name().clone(),
                    pid,
                    status,
                    kind: slot.spec.kind(),
                    restart: slot.spec.restart_type(),
                    significant: slot.spec.is_significant(),
                }
            })
            .collect()
    }

    /// How many children are known, running, supervisors and workers.
    ///
    /// ```
    /// use jido_process::{ChildSpec, Context, SupervisorSpec, Worker};
    ///
    /// struct Echo;
    ///
    /// impl Worker for Echo {
    ///     type Request = u32;
    ///     type Reply = u32;
    ///     async fn handle(&mut self, n: u32, _ctx: &mut Context) -> u32 { n }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let supervisor = SupervisorSpec::new()
    ///     .child(ChildSpec::worker("a", |_: &()| Echo))
    ///     .child(ChildSpec::supervisor("nested", SupervisorSpec::new()))
    ///     .start(())
    ///     .await
    ///     .unwrap();
    /// let counts = supervisor.count_children();
    /// assert_eq!((counts.specs, counts.active, counts.workers, counts.supervisors), (2, 2, 1, 1));
    /// # }
    /// ```
    pub fn count_children(&self) -> ChildCounts {
        let slots = self.shared.slots.lock();
        let mut counts = ChildCounts::default();
        for slot in slots.iter() {
            counts.specs += 1;
            if matches!(&slot.state, ChildState::Running(running) if running.pid.is_alive()) {
                counts.active += 1;
            }
            match slot.spec.kind() {
                ChildKind::Supervisor => counts.supervisors += 1,
                ChildKind::Worker => counts.workers += 1,
            }
        }
        counts
    }

    /// The running process of child `name`.
    pub fn whereis(&self, name: &str) -> Option<Pid> {
        let slots = self.shared.slots.lock();
        slots
            .iter()
            .find(|slot| *slot.spec.name() == *name)
            .and_then(|slot| match &slot.state {
                ChildState::Running(running) if running.pid.is_alive() => Some(running.pid.clone()),
                _ => None,
            })
    }

    /// The handle of the nested supervisor running as child `name`.
    pub fn supervisor(&self, name: &str) -> Option<Supervisor<C>> {
        let slots = self.shared.slots.lock();
        slots
            .iter()
            .find(|slot| *slot.spec.name() == *name)
            .and_then(|slot| match &slot.state {
                ChildState::Running(running) => running.nested.clone(),
                _ => None,
            })
    }

    /// Asks the supervisor to stop (its children are terminated, last
    /// started first) and waits for its end; returns why it ended.
    pub async fn stop(&self) -> ExitReason {
        self.shared.pid.request_stop();
        self.shared.pid.wait().await
    }
}

impl<C: Send + Sync + 'static> Supervisor<C> {
    /// What [`ChildRef`]s look children up in.
    pub fn directory(&self) -> Directory {
        Directory(self.shared.clone())
    }

    /// A reference to child `name`, a worker of type `W`, that reaches
    /// whichever incarnation runs at each call.
    pub fn child_ref<W: Worker>(&self, name: impl Into<ChildName>) -> ChildRef<W> {
        ChildRef::via(self.directory(), name)
    }
}

impl<C: Clone + Send + Sync + 'static> Supervisor<C> {
    /// Adds and starts a child (OTP's `start_child`). `Ok(None)` when it
    /// ignored its start (it is kept, stopped, unless temporary).
    ///
    /// ```
    /// use jido_process::{ChildSpec, Context, SupervisorSpec, Worker};
    ///
    /// struct Echo;
    ///
    /// impl Worker for Echo {
    ///     type Request = u32;
    ///     type Reply = u32;
    ///     async fn handle(&mut self, n: u32, _ctx: &mut Context) -> u32 { n }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let supervisor = SupervisorSpec::new().start(()).await.unwrap();
    /// let pid = supervisor.start_child(ChildSpec::worker("echo", |_: &()| Echo)).await.unwrap();
    /// assert!(pid.is_some());
    /// assert_eq!(supervisor.child_ref::<Echo>("echo").call(7).await.unwrap(), 7);
    /// // A second child of that name is refused.
    /// assert!(supervisor.start_child(ChildSpec::worker("echo", |_: &()| Echo)).await.is_err());
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`SupervisorError::AlreadyStarted`] naming the running child,
    /// [`SupervisorError::AlreadyPresent`] (known but not running),
    /// [`SupervisorError::InvalidSpec`], [`SupervisorError::StartFailed`],
    /// [`SupervisorError::NotRunning`].
    pub async fn start_child(&self, spec: ChildSpec<C>) -> Result<Option<Pid>, SupervisorError> {
        self.request(|reply| Command::Start(spec, reply)).await
    }

    /// Terminates child `name` by its shutdown policy (OTP's
    /// `terminate_child`). Its spec is kept (a temporary child's is not),
    /// so [`restart_child`](Self::restart_child) can start it again; then
    /// [`delete_child`](Self::delete_child) forgets it.
    ///
    /// ```
    /// use jido_process::{ChildSpec, Context, SupervisorSpec, Worker};
    ///
    /// struct Echo;
    ///
    /// impl Worker for Echo {
    ///     type Request = u32;
    ///     type Reply = u32;
    ///     async fn handle(&mut self, n: u32, _ctx: &mut Context) -> u32 { n }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use jido_process::ChildStatus;
    ///
    /// let supervisor = SupervisorSpec::new()
    ///     .child(ChildSpec::worker("echo", |_: &()| Echo))
    ///     .start(())
    ///     .await
    ///     .unwrap();
    /// supervisor.terminate_child("echo").await.unwrap();
    /// assert_eq!(supervisor.which_children()[0].status, ChildStatus::Stopped);
    /// assert!(supervisor.restart_child("echo").await.unwrap().is_some()); // running again
    /// supervisor.terminate_child("echo").await.unwrap();
    /// supervisor.delete_child("echo").await.unwrap();
    /// assert!(supervisor.which_children().is_empty());
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`SupervisorError::NotFound`], [`SupervisorError::NotRunning`].
    pub async fn terminate_child(&self, name: &str) -> Result<(), SupervisorError> {
        let name = ChildName::from(name);
        self.request(|reply| Command::Terminate(name, reply)).await
    }

    /// Starts the stopped child `name` again (OTP's `restart_child`); see
    /// [`terminate_child`](Self::terminate_child)'s example.
    ///
    /// # Errors
    ///
    /// [`SupervisorError::Running`], [`SupervisorError::Restarting`],
    /// [`SupervisorError::NotFound`], [`SupervisorError::StartFailed`],
    /// [`SupervisorError::NotRunning`].
    pub async fn restart_child(&self, name: &str) -> Result<Option<Pid>, SupervisorError> {
        let name = ChildName::from(name);
        self.request(|reply| Command::Restart(name, reply)).await
    }

    /// Forgets the stopped child `name` (OTP's `delete_child`); see
    /// [`terminate_child`](Self::terminate_child)'s example.
    ///
    /// # Errors
    ///
    /// [`SupervisorError::Running`], [`SupervisorError::Restarting`],
    /// [`SupervisorError::NotFound`], [`SupervisorError::NotRunning`].
    pub async fn delete_child(&self, name: &str) -> Result<(), SupervisorError> {
        let name = ChildName::from(name);
        self.request(|reply| Command::Delete(name, reply)).await
    }

    async fn request<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, SupervisorError>>) -> Command<C>,
    ) -> Result<T, SupervisorError> {
        if !self.is_alive() {
            return Err(SupervisorError::NotRunning);
        }
        let (reply, answer) = oneshot::channel();
        self.shared
            .mailbox
            .send(Msg::Command(make(reply)))
            .map_err(|_| SupervisorError::NotRunning)?;
        answer.await.map_err(|_| SupervisorError::NotRunning)?
    }
}

impl<C> Clone for Supervisor<C> {
    fn clone(&self) -> Self {
        Supervisor {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<C> PartialEq for Supervisor<C> {
    fn eq(&self, other: &Self) -> bool {
        self.shared.pid == other.shared.pid
    }
}

impl<C> fmt::Debug for Supervisor<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Supervisor")
            .field("pid", &self.shared.pid)
            .finish()
    }
}
