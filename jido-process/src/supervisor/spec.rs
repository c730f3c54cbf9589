//! [`SupervisorSpec`]: a supervisor's flags and its ordered children.

use std::fmt;
use std::sync::Arc;

use crate::supervisor::runtime::{self, Report};
use crate::{
    AutoShutdown, ChildName, ChildSpec, Observer, RestartIntensity, SpecError, Strategy,
    Supervisor, SupervisorError,
};

/// A supervisor, as data: its [`Strategy`], [`RestartIntensity`],
/// [`AutoShutdown`], and its children in start order (OTP's supervisor
/// flags and child spec list). [`start`](Self::start) runs one.
///
/// ```
/// use std::time::Duration;
/// use jido_process::{AutoShutdown, ChildSpec, ExitReason, Restart, RestartIntensity, Strategy, SupervisorSpec};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let spec = SupervisorSpec::new()
///     .strategy(Strategy::RestForOne)
///     .intensity(RestartIntensity::new(5, Duration::from_secs(10)).unwrap())
///     .auto_shutdown(AutoShutdown::AnySignificant)
///     .child(ChildSpec::task("job", |_: &(), _me| async { ExitReason::Normal })
///         .restart(Restart::Transient)
///         .significant(true));
///
/// // The job ends normally; it is significant, so the supervisor ends too.
/// let supervisor = spec.start(()).await.unwrap();
/// let reason = supervisor.pid().wait().await;
/// assert!(reason.is_shutdown());
/// # }
/// ```
pub struct SupervisorSpec<C> {
    pub(crate) strategy: Strategy,
    pub(crate) intensity: RestartIntensity,
    pub(crate) auto_shutdown: AutoShutdown,
    pub(crate) children: Vec<ChildSpec<C>>,
}

impl<C> Default for SupervisorSpec<C> {
    fn default() -> Self {
        SupervisorSpec {
            strategy: Strategy::default(),
            intensity: RestartIntensity::default(),
            auto_shutdown: AutoShutdown::default(),
            children: Vec::new(),
        }
    }
}

impl<C> SupervisorSpec<C> {
    /// One-for-one, 3 restarts in 5 s, no auto shutdown, no children.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the restart strategy.
    #[must_use]
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// Sets the restart intensity.
    #[must_use]
    pub fn intensity(mut self, intensity: RestartIntensity) -> Self {
        self.intensity = intensity;
        self
    }

    /// Sets what ends the supervisor when significant children end.
    #[must_use]
    pub fn auto_shutdown(mut self, auto_shutdown: AutoShutdown) -> Self {
        self.auto_shutdown = auto_shutdown;
        self
    }

    /// Adds a child after the others, or, if a child of that name is
    /// already there, replaces it in place (keeping its position in the
    /// start order).
    #[must_use]
    pub fn child(mut self, spec: ChildSpec<C>) -> Self {
        match self.children.iter_mut().find(|c| c.name() == spec.name()) {
            Some(existing) => *existing = spec,
            None => self.children.push(spec),
        }
        self
    }

    /// Removes the child named `name`, if there is one.
    #[must_use]
    pub fn without_child(mut self, name: &str) -> Self {
        self.children.retain(|c| c.name() != name);
        self
    }

    /// The children, in start order.
    pub fn children(&self) -> &[ChildSpec<C>] {
        &self.children
    }

    /// The strategy.
    pub fn strategy_kind(&self) -> Strategy {
        self.strategy
    }

    /// The restart intensity.
    pub fn restart_intensity(&self) -> RestartIntensity {
        self.intensity
    }

    /// The auto shutdown setting.
    pub fn auto_shutdown_kind(&self) -> AutoShutdown {
        self.auto_shutdown
    }

    /// Checks the children as OTP's `check_childspecs` does: significant
    /// children only where they can work. (Names are unique by
    /// construction: [`child`](Self::child) replaces a namesake.)
    ///
    /// # Errors
    ///
    /// The first [`SpecError`] found.
    pub fn validate(&self) -> Result<(), SpecError> {
        self.children
            .iter()
            .try_for_each(|child| child.check(self.auto_shutdown))
    }
}

impl<C: Clone + Send + Sync + 'static> SupervisorSpec<C> {
    /// Starts the supervisor: its children in order, each with `ctx`, then
    /// the supervisor process itself. Returns once every child has started
    /// (or ignored its start).
    ///
    /// # Errors
    ///
    /// [`SupervisorError::InvalidSpec`] for a spec that cannot work;
    /// [`SupervisorError::StartFailed`] when a child fails to start — the
    /// children started before it are terminated (by their shutdown
    /// policies, last first) before this returns, as OTP does;
    /// [`SupervisorError::NoRuntime`] outside a tokio runtime. Dropping the
    /// returned future kills whatever it had started.
    pub async fn start(&self, ctx: C) -> Result<Supervisor<C>, SupervisorError> {
        runtime::start_unboxed(self, ctx, Report::default()).await
    }

    /// Like [`start`](Self::start), reporting restarts to `observer` (its
    /// nested supervisors too, with children named `outer/inner`).
    ///
    /// # Errors
    ///
    /// As [`start`](Self::start).
    pub async fn start_observed(
        &self,
        ctx: C,
        observer: Arc<dyn Observer>,
    ) -> Result<Supervisor<C>, SupervisorError> {
        runtime::start_unboxed(self, ctx, Report::new(Some(observer), None)).await
    }
}

impl<C> Clone for SupervisorSpec<C> {
    fn clone(&self) -> Self {
        SupervisorSpec {
            strategy: self.strategy,
            intensity: self.intensity,
            auto_shutdown: self.auto_shutdown,
            children: self.children.clone(),
        }
    }
}

impl<C> fmt::Debug for SupervisorSpec<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SupervisorSpec")
            .field("strategy", &self.strategy)
            .field("intensity", &self.intensity)
            .field("auto_shutdown", &self.auto_shutdown)
            .field(
                "children",
                &self
                    .children
                    .iter()
                    .map(ChildSpec::name)
                    .collect::<Vec<&ChildName>>(),
            )
            .finish()
    }
}
