//! [`ChildSpec`]: one child of a supervisor, as data; [`StartOutcome`].

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use crate::exit_reason::panic_message;
use crate::{
    AutoShutdown, ChildName, ExitReason, Pid, Restart, Shutdown, SpecError, StartPanicked,
    SupervisorSpec, Term, Worker, spawn_with_pid, spawn_worker,
};

/// What a start achieved: OTP's `{ok, Pid}` or `ignore`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StartOutcome<T> {
    /// Started; here is what runs.
    Started(T),
    /// Nothing was started, on purpose. A supervised child that ignores its
    /// start is kept as a stopped child (a temporary one is forgotten).
    Ignore,
}

impl<T> StartOutcome<T> {
    /// [`StartOutcome::Started`].
    pub fn started(value: T) -> Self {
        StartOutcome::Started(value)
    }

    /// [`StartOutcome::Ignore`].
    pub fn ignore() -> Self {
        StartOutcome::Ignore
    }

    /// Maps the started value.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> StartOutcome<U> {
        match self {
            StartOutcome::Started(value) => StartOutcome::Started(f(value)),
            StartOutcome::Ignore => StartOutcome::Ignore,
        }
    }
}

/// Whether a child is a worker or a supervisor (OTP's `type`), as counted by
/// [`count_children`](crate::Supervisor::count_children).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChildKind {
    /// A worker or a task.
    Worker,
    /// A nested supervisor.
    Supervisor,
}

/// One child of a supervisor, as data: its name (unique within the
/// supervisor), how to start it, when to restart it, how to terminate it,
/// and whether it is significant. The analogue of an OTP child spec map.
///
/// `C` is the context every child of the supervisor is started with (the
/// session, say); start functions receive `&C`.
///
/// ```
/// use std::time::Duration;
/// use jido_process::{ChildSpec, Context, ExitReason, Restart, Shutdown, SupervisorSpec, Worker};
///
/// struct Echo;
///
/// impl Worker for Echo {
///     type Request = String;
///     type Reply = String;
///     async fn handle(&mut self, text: String, _ctx: &mut Context) -> String {
///         text
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let spec = SupervisorSpec::<()>::new()
///     // A worker: a mailbox and a handler.
///     .child(ChildSpec::worker("echo", |_: &()| Echo))
///     // A plain future, restarted only if it fails.
///     .child(
///         ChildSpec::task("ticker", |_: &(), me| async move {
///             me.stop_requested().await;
///             me.stop_reason()
///         })
///         .restart(Restart::Transient)
///         .shutdown(Shutdown::Timeout(Duration::from_secs(1))),
///     );
/// let supervisor = spec.start(()).await.unwrap();
/// assert_eq!(supervisor.child_ref::<Echo>("echo").call("hi".into()).await.unwrap(), "hi");
/// assert_eq!(supervisor.stop().await, ExitReason::Shutdown);
/// # }
/// ```
pub struct ChildSpec<C> {
    /// Shared: every running incarnation of a supervisor keeps its specs,
    /// so a clone is a reference count, not a copy.
    inner: Arc<SpecInner<C>>,
}

struct SpecInner<C> {
    name: ChildName,
    start: Start<C>,
    restart: Restart,
    shutdown: Shutdown,
    significant: bool,
}

/// How a child is started.
pub(crate) enum Start<C> {
    /// A worker or a task: spawned synchronously.
    Process(Arc<dyn StartProcess<C>>),
    /// A nested supervisor.
    Supervisor(Arc<SupervisorSpec<C>>),
}

/// What a worker or task start produced.
pub(crate) struct Started {
    pub(crate) pid: Pid,
    /// The worker's [`Addr`](crate::Addr), for child references; `None` for
    /// a task.
    pub(crate) addr: Option<Arc<dyn Any + Send + Sync>>,
}

/// A start function with its types erased.
pub(crate) trait StartProcess<C>: Send + Sync + 'static {
    fn start(&self, ctx: &C) -> Result<StartOutcome<Started>, Term>;
}

struct WorkerStart<F, W> {
    make: F,
    _worker: PhantomData<fn() -> W>,
}

impl<C, W, F> StartProcess<C> for WorkerStart<F, W>
where
    W: Worker,
    F: Fn(&C) -> Result<StartOutcome<W>, Term> + Send + Sync + 'static,
{
    fn start(&self, ctx: &C) -> Result<StartOutcome<Started>, Term> {
        Ok((self.make)(ctx)?.map(|worker| {
            let addr = spawn_worker(worker);
            Started {
                pid: addr.pid().clone(),
                addr: Some(Arc::new(addr)),
            }
        }))
    }
}

struct TaskStart<F>(F);

impl<C, F, Fut> StartProcess<C> for TaskStart<F>
where
    F: Fn(&C, Pid) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ExitReason> + Send + 'static,
{
    fn start(&self, ctx: &C) -> Result<StartOutcome<Started>, Term> {
        let pid = spawn_with_pid(|me| (self.0)(ctx, me));
        Ok(StartOutcome::Started(Started { pid, addr: None }))
    }
}

impl<C: Send + Sync + 'static> ChildSpec<C> {
    fn new(name: impl Into<ChildName>, start: Start<C>, shutdown: Shutdown) -> Self {
        ChildSpec {
            inner: Arc::new(SpecInner {
                name: name.into(),
                start,
                restart: Restart::Permanent,
                shutdown,
                significant: false,
            }),
        }
    }

    /// A [`Worker`] built by `make` at every (re)start: permanent, terminated
    /// with the default policy (asked, then killed after 5 s).
    ///
    /// ```
    /// use jido_process::{ChildSpec, Context, Restart, Worker};
    ///
    /// struct Greeter { greeting: String }
    ///
    /// impl Worker for Greeter {
    ///     type Request = String;
    ///     type Reply = String;
    ///     async fn handle(&mut self, name: String, _ctx: &mut Context) -> String {
    ///         format!("{}, {name}", self.greeting)
    ///     }
    /// }
    ///
    /// // Built from the supervisor's context at each start.
    /// let spec = ChildSpec::worker("greeter", |greeting: &String| Greeter { greeting: greeting.clone() })
    ///     .restart(Restart::Transient);
    /// assert_eq!(spec.name(), "greeter");
    /// assert_eq!(spec.restart_type(), Restart::Transient);
    /// ```
    pub fn worker<W, F>(name: impl Into<ChildName>, make: F) -> Self
    where
        W: Worker,
        F: Fn(&C) -> W + Send + Sync + 'static,
    {
        Self::try_worker(name, move |ctx| Ok(StartOutcome::Started(make(ctx))))
    }

    /// A [`Worker`] whose start may fail (`Err`, OTP's `{error, Reason}`) or
    /// be declined ([`StartOutcome::Ignore`]).
    pub fn try_worker<W, F>(name: impl Into<ChildName>, make: F) -> Self
    where
        W: Worker,
        F: Fn(&C) -> Result<StartOutcome<W>, Term> + Send + Sync + 'static,
    {
        let start = WorkerStart {
            make,
            _worker: PhantomData,
        };
        Self::new(name, Start::Process(Arc::new(start)), Shutdown::default())
    }

    /// A plain future spawned at every (re)start, handed its own [`Pid`]
    /// (to watch [`Pid::stop_requested`]); its output is its exit reason.
    ///
    /// ```
    /// use jido_process::{ChildSpec, SupervisorSpec};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let supervisor = SupervisorSpec::new()
    ///     .child(ChildSpec::task("ticker", |_: &(), me| async move {
    ///         me.stop_requested().await; // works until asked to stop
    ///         me.stop_reason()
    ///     }))
    ///     .start(())
    ///     .await
    ///     .unwrap();
    /// assert!(supervisor.whereis("ticker").is_some());
    /// supervisor.stop().await;
    /// # }
    /// ```
    pub fn task<F, Fut>(name: impl Into<ChildName>, run: F) -> Self
    where
        F: Fn(&C, Pid) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ExitReason> + Send + 'static,
    {
        Self::new(
            name,
            Start::Process(Arc::new(TaskStart(run))),
            Shutdown::default(),
        )
    }

    /// A nested supervisor, with its own strategy and children, started with
    /// the same context. Terminated with [`Shutdown::Infinity`] unless told
    /// otherwise (its own children have timeouts), as OTP does.
    ///
    /// ```
    /// use jido_process::{ChildSpec, Strategy, SupervisorSpec};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let workers = SupervisorSpec::new().strategy(Strategy::OneForAll);
    /// let supervisor = SupervisorSpec::new()
    ///     .child(ChildSpec::supervisor("workers", workers))
    ///     .start(())
    ///     .await
    ///     .unwrap();
    /// assert!(supervisor.supervisor("workers").is_some_and(|nested| nested.is_alive()));
    /// # }
    /// ```
    pub fn supervisor(name: impl Into<ChildName>, spec: SupervisorSpec<C>) -> Self {
        Self::new(name, Start::Supervisor(Arc::new(spec)), Shutdown::Infinity)
    }

    /// Sets when the child is restarted (default [`Restart::Permanent`]).
    #[must_use]
    pub fn restart(mut self, restart: Restart) -> Self {
        Arc::make_mut(&mut self.inner).restart = restart;
        self
    }

    /// Sets how the child is terminated.
    #[must_use]
    pub fn shutdown(mut self, shutdown: Shutdown) -> Self {
        Arc::make_mut(&mut self.inner).shutdown = shutdown;
        self
    }

    /// Marks the child significant (OTP 24): when it ends by itself, the
    /// supervisor's [`AutoShutdown`] decides whether the supervisor ends
    /// too. Only a transient or temporary child may be significant.
    #[must_use]
    pub fn significant(mut self, significant: bool) -> Self {
        Arc::make_mut(&mut self.inner).significant = significant;
        self
    }
}

impl<C> ChildSpec<C> {
    /// The child's name.
    pub fn name(&self) -> &ChildName {
        &self.inner.name
    }

    /// When it is restarted.
    pub fn restart_type(&self) -> Restart {
        self.inner.restart
    }

    /// How it is terminated.
    pub fn shutdown_policy(&self) -> Shutdown {
        self.inner.shutdown
    }

    /// Whether it is significant.
    pub fn is_significant(&self) -> bool {
        self.inner.significant
    }

    /// Whether it is a worker or a supervisor.
    pub fn kind(&self) -> ChildKind {
        match self.inner.start {
            Start::Process(_) => ChildKind::Worker,
            Start::Supervisor(_) => ChildKind::Supervisor,
        }
    }

    pub(crate) fn start_fn(&self) -> &Start<C> {
        &self.inner.start
    }

    /// Checks the spec against its supervisor's auto shutdown, as OTP's
    /// `check_childspec` does.
    pub(crate) fn check(&self, auto_shutdown: AutoShutdown) -> Result<(), SpecError> {
        if !self.is_significant() {
            return Ok(());
        }
        if auto_shutdown == AutoShutdown::Never {
            return Err(SpecError::SignificantWithoutAutoShutdown {
                name: self.name().clone(),
            });
        }
        if self.restart_type() == Restart::Permanent {
            return Err(SpecError::SignificantPermanent {
                name: self.name().clone(),
            });
        }
        Ok(())
    }
}

impl<C: 'static> Start<C> {
    /// Runs a worker or task start, turning a panic into an error.
    pub(crate) fn start_process(
        process: &dyn StartProcess<C>,
        ctx: &C,
    ) -> Result<StartOutcome<Started>, Term> {
        match std::panic::catch_unwind(AssertUnwindSafe(|| process.start(ctx))) {
            Ok(result) => result,
            Err(payload) => Err(Term::new(StartPanicked {
                message: panic_message(&*payload).to_string(),
            })),
        }
    }
}

impl<C> Clone for ChildSpec<C> {
    fn clone(&self) -> Self {
        ChildSpec {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<C> Clone for SpecInner<C> {
    fn clone(&self) -> Self {
        SpecInner {
            name: self.name.clone(),
            start: match &self.start {
                Start::Process(process) => Start::Process(Arc::clone(process)),
                Start::Supervisor(spec) => Start::Supervisor(Arc::clone(spec)),
            },
            restart: self.restart,
            shutdown: self.shutdown,
            significant: self.significant,
        }
    }
}

impl<C> fmt::Debug for ChildSpec<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildSpec")
            .field("name", self.name())
            .field("kind", &self.kind())
            .field("restart", &self.restart_type())
            .field("shutdown", &self.shutdown_policy())
            .field("significant", &self.is_significant())
            .finish()
    }
}
