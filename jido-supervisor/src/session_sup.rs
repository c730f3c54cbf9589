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
    pub fn new() -> Self {
        SessionSup::empty()
            .child(manager::Manager::spec())
            .child(state::State::spec())
    }

    /// A tree with no children: declare every one yourself.
    pub fn empty() -> Self {
        SessionSup {
            spec: SupervisorSpec::new(),
            shutdown: Shutdown::Infinity,
        }
    }

    /// Sets the restart strategy.
    #[must_use]
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.spec = self.spec.strategy(strategy);
        self
    }

    /// Sets the restart intensity.
    #[must_use]
    pub fn intensity(mut self, intensity: RestartIntensity) -> Self {
        self.spec = self.spec.intensity(intensity);
        self
    }

    /// Sets when the tree ends with its significant children.
    #[must_use]
    pub fn auto_shutdown(mut self, auto_shutdown: AutoShutdown) -> Self {
        self.spec = self.spec.auto_shutdown(auto_shutdown);
        self
    }

    /// Adds a child after the others, or replaces the child of the same
    /// name in place (to reconfigure the Manager or the State, say).
    #[must_use]
    pub fn child(mut self, spec: ChildSpec<SessionContext>) -> Self {
        self.spec = self.spec.child(spec);
        self
    }

    /// Removes the child named `name`.
    #[must_use]
    pub fn without_child(mut self, name: &str) -> Self {
        self.spec = self.spec.without_child(name);
        self
    }

    /// Sets how the whole tree is terminated by `stop_session`.
    #[must_use]
    pub fn shutdown(mut self, shutdown: Shutdown) -> Self {
        self.shutdown = shutdown;
        self
    }

    /// The tree's supervisor spec.
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
