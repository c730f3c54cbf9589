//! [`SessionSup`]: the real per-session tree, a supervisor of declared
//! children (by default a Manager and a State).

use async_trait::async_trait;
use jido_process::{
    AutoShutdown, ChildSpec, RestartIntensity, Shutdown, StartOutcome, Strategy, SupervisorSpec,
    Term,
};

use crate::context::SessionContext;
use crate::session_child::{ChildContext, SessionChild};
use crate::tree_handle::TreeHandle;
use crate::{manager, state};

/// The real per-session tree (jido_code's `Session.Supervisor`), the default
/// [`SessionChild`]: a supervisor whose children are declared as data —
/// [`ChildSpec`]s started in order with the session's [`SessionContext`].
///
/// [`SessionSup::new`] has two children, built with the same public API as
/// any other: the **Manager** ([`Manager::spec`](crate::session::Manager::spec), the
/// session's coordinator) and the **State** ([`State::spec`](crate::session::State::spec),
/// its conversation). Add your own with [`child`](Self::child) (an agent,
/// a tool runner, a language server, a nested supervisor...), or start with
/// [`empty`](Self::empty). When a child ends, its restart type, the
/// [`Strategy`] (default one-for-one) and the [`RestartIntensity`] (default
/// 3 restarts in 5 s) decide what happens, as in OTP; past the intensity the
/// tree terminates its children and exits, and the session leaves the
/// registry. With an [`AutoShutdown`] and significant children, the session
/// ends when they do.
///
/// Starting does no waiting: children are spawned before `start` returns, so
/// they are reachable by name as soon as `start_session` returns.
///
/// ```
/// use std::time::Duration;
/// use jido_supervisor::process::{AutoShutdown, ChildSpec, Restart, RestartIntensity, Strategy};
/// use jido_supervisor::{ExitReason, SessionSupervisor};
/// use jido_supervisor::tree::{SessionContext, SessionSup};
///
/// let tree = SessionSup::new()
///     .strategy(Strategy::RestForOne)
///     .intensity(RestartIntensity::new(5, Duration::from_secs(10)).unwrap())
///     .auto_shutdown(AutoShutdown::AnySignificant)
///     .child(
///         ChildSpec::task("agent", |_: &SessionContext, me| async move {
///             me.stop_requested().await;
///             me.stop_reason()
///         })
///         .restart(Restart::Transient)
///         .significant(true), // the session ends when its agent does
///     );
/// let supervisor = SessionSupervisor::builder().session_child(tree).build();
/// # drop(supervisor);
/// ```
#[derive(Debug, Clone)]
pub struct SessionSup {
    spec: SupervisorSpec<SessionContext>,
    shutdown: Shutdown,
}

impl Default for SessionSup {
    fn default() -> Self {
        SessionSup::new()
    }
}

impl SessionSup {
    /// The default tree: Manager then State, one-for-one, 3 restarts in 5 s,
    /// both children permanent with a 5 s shutdown, and the tree itself
    /// waited for when stopped ([`Shutdown::Infinity`], as OTP does for a
    /// supervisor).
    ///
    /// ```
    /// use jido_supervisor::tree::SessionSup;
    ///
    /// let tree = SessionSup::new();
    /// let names: Vec<_> = tree.spec().children().iter().map(|c| c.name().to_string()).collect();
    /// assert_eq!(names, ["manager", "state"]);
    /// ```
    pub fn new() -> Self {
        SessionSup::empty()
            .child(manager::Manager::spec())
            .child(state::State::spec())
    }

    /// A tree with no children: declare every one yourself.
    ///
    /// ```
    /// use jido_supervisor::SessionSupervisor;
    /// use jido_supervisor::process::ChildSpec;
    /// use jido_supervisor::tree::{SessionContext, SessionSup};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// // A session whose only child is an agent: no Manager, no State.
    /// let tree = SessionSup::empty().child(ChildSpec::task("agent", |_: &SessionContext, me| async move {
    ///     me.stop_requested().await;
    ///     me.stop_reason()
    /// }));
    /// let supervisor = SessionSupervisor::builder().session_child(tree).build();
    /// let project = tempfile::tempdir().unwrap();
    /// let id = supervisor.create_session(project.path()).await.unwrap().id();
    /// assert!(supervisor.whereis(&jido_supervisor::tree::ProcessKey::new(id, "agent")).is_some());
    /// assert!(supervisor.state(id).is_none());
    /// supervisor.shutdown().await;
    /// # }
    /// ```
    pub fn empty() -> Self {
        SessionSup {
            spec: SupervisorSpec::new(),
            shutdown: Shutdown::Infinity,
        }
    }

    /// Sets the restart strategy (default [`Strategy::OneForOne`]).
    ///
    /// ```
    /// use jido_supervisor::process::Strategy;
    /// use jido_supervisor::tree::SessionSup;
    ///
    /// // A crash of the Manager or the State restarts both.
    /// let tree = SessionSup::new().strategy(Strategy::OneForAll);
    /// assert_eq!(tree.spec().strategy_kind(), Strategy::OneForAll);
    /// ```
    #[must_use]
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.spec = self.spec.strategy(strategy);
        self
    }

    /// Sets the restart intensity (default 3 restarts in 5 s): one restart
    /// more within the period ends the tree, and the session.
    ///
    /// ```
    /// use std::time::Duration;
    /// use jido_supervisor::process::RestartIntensity;
    /// use jido_supervisor::tree::SessionSup;
    /// use jido_supervisor::{EventKind, SessionSupervisor};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// // No restart allowed: the State's first crash ends the session.
    /// let tree = SessionSup::new().intensity(RestartIntensity::new(0, Duration::from_secs(5)).unwrap());
    /// let supervisor = SessionSupervisor::builder().session_child(tree).build();
    /// let mut events = supervisor.subscribe();
    /// let project = tempfile::tempdir().unwrap();
    /// let id = supervisor.create_session(project.path()).await.unwrap().id();
    /// assert_eq!(events.recv().await.unwrap().kind, EventKind::Started);
    /// supervisor.state(id).unwrap().pid().unwrap().kill();
    /// assert!(matches!(events.recv().await.unwrap().kind, EventKind::Crashed { .. }));
    /// assert!(!supervisor.session_running(id));
    /// # }
    /// ```
    #[must_use]
    pub fn intensity(mut self, intensity: RestartIntensity) -> Self {
        self.spec = self.spec.intensity(intensity);
        self
    }

    /// Sets when the tree ends with its significant children (default
    /// never).
    ///
    /// ```
    /// use jido_supervisor::process::{AutoShutdown, ChildSpec, Restart};
    /// use jido_supervisor::tree::{SessionContext, SessionSup};
    /// use jido_supervisor::{EventKind, ExitReason, SessionSupervisor};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// // The session ends when its agent finishes its work.
    /// let agent = ChildSpec::task("agent", |_: &SessionContext, _me| async { ExitReason::Normal })
    ///     .restart(Restart::Transient)
    ///     .significant(true);
    /// let tree = SessionSup::new().auto_shutdown(AutoShutdown::AnySignificant).child(agent);
    /// let supervisor = SessionSupervisor::builder().session_child(tree).build();
    /// let mut events = supervisor.subscribe();
    /// let project = tempfile::tempdir().unwrap();
    /// supervisor.create_session(project.path()).await.unwrap();
    /// let ended = loop {
    ///     let kind = events.recv().await.unwrap().kind;
    ///     if kind.is_end() { break kind; }
    /// };
    /// assert!(matches!(ended, EventKind::Stopped { .. }), "{ended:?}");
    /// # }
    /// ```
    #[must_use]
    pub fn auto_shutdown(mut self, auto_shutdown: AutoShutdown) -> Self {
        self.spec = self.spec.auto_shutdown(auto_shutdown);
        self
    }

    /// Adds a child after the others, or replaces the child of the same
    /// name in place (to reconfigure the Manager or the State, say).
    ///
    /// ```
    /// use jido_supervisor::process::{ChildSpec, Shutdown};
    /// use jido_supervisor::session::State;
    /// use jido_supervisor::tree::{SessionContext, SessionSup};
    ///
    /// let tree = SessionSup::new()
    ///     .child(ChildSpec::task("agent", |_: &SessionContext, me| async move {
    ///         me.stop_requested().await;
    ///         me.stop_reason()
    ///     }))
    ///     // Same name: the State replaced in place, with a longer shutdown.
    ///     .child(State::spec().shutdown(Shutdown::Timeout(std::time::Duration::from_secs(30))));
    /// let names: Vec<_> = tree.spec().children().iter().map(|c| c.name().to_string()).collect();
    /// assert_eq!(names, ["manager", "state", "agent"]);
    /// ```
    #[must_use]
    pub fn child(mut self, spec: ChildSpec<SessionContext>) -> Self {
        self.spec = self.spec.child(spec);
        self
    }

    /// Removes the child named `name`.
    ///
    /// ```
    /// use jido_supervisor::tree::SessionSup;
    ///
    /// // A session without the Manager's file operations.
    /// let tree = SessionSup::new().without_child("manager");
    /// let names: Vec<_> = tree.spec().children().iter().map(|c| c.name().to_string()).collect();
    /// assert_eq!(names, ["state"]);
    /// ```
    #[must_use]
    pub fn without_child(mut self, name: &str) -> Self {
        self.spec = self.spec.without_child(name);
        self
    }

    /// Sets how the whole tree is terminated by `stop_session` (default
    /// [`Shutdown::Infinity`]: asked to stop, and waited for while its
    /// children stop by their own policies).
    ///
    /// ```
    /// use std::time::Duration;
    /// use jido_supervisor::process::{ChildSpec, Shutdown};
    /// use jido_supervisor::tree::{SessionContext, SessionSup};
    /// use jido_supervisor::{ExitReason, SessionSupervisor};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// // An agent that never stops by itself, in a tree given one second.
    /// let stubborn = ChildSpec::task("agent", |_: &SessionContext, _me| std::future::pending())
    ///     .shutdown(Shutdown::Infinity);
    /// let tree = SessionSup::new().child(stubborn).shutdown(Shutdown::Timeout(Duration::from_secs(1)));
    /// let supervisor = SessionSupervisor::builder().session_child(tree).build();
    /// let project = tempfile::tempdir().unwrap();
    /// let id = supervisor.create_session(project.path()).await.unwrap().id();
    /// tokio::time::pause(); // the second passes at once
    /// assert_eq!(supervisor.stop_session(id).await.unwrap(), ExitReason::Killed);
    /// # }
    /// ```
    #[must_use]
    pub fn shutdown(mut self, shutdown: Shutdown) -> Self {
        self.shutdown = shutdown;
        self
    }

    /// The tree's supervisor spec (its children, strategy, intensity and
    /// auto shutdown), as the examples above read it.
    pub fn spec(&self) -> &SupervisorSpec<SessionContext> {
        &self.spec
    }
}

#[async_trait]
impl SessionChild for SessionSup {
    async fn start(&self, ctx: ChildContext) -> Result<StartOutcome<TreeHandle>, Term> {
        let context = ctx.session_context();
        let observer = context.observer();
        let supervisor = self
            .spec
            .start_observed(context, observer)
            .await
            .map_err(Term::new)?;
        Ok(StartOutcome::Started(TreeHandle::with_supervisor(
            supervisor,
            self.shutdown,
        )))
    }
}
