//! [`ChildRef`]: reaches a supervised worker by name, across its restarts.

use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::{Addr, CallError, ChildName, DEFAULT_CALL_TIMEOUT, Pid, Worker};

/// What a directory says about one child name.
pub(crate) enum Found {
    /// It runs; its address if it is a worker.
    Running(Pid, Option<Arc<dyn Any + Send + Sync>>),
    /// It is being restarted, or has ended and its supervisor has not yet
    /// decided: wait for a change.
    Pending,
    /// It does not run and will not unless asked.
    Stopped,
    /// The supervisor has no child of that name.
    NoSuchChild,
    /// The supervisor does not run.
    Down,
    /// The supervisor gave up restarting its children (its restart
    /// intensity was reached) and is shutting down, or has.
    GaveUp,
}

/// A supervisor's children, as lookups see them.
pub(crate) trait Lookup: Send + Sync {
    fn find(&self, name: &str) -> Found;
    /// Notified whenever a child's state changes and when the supervisor
    /// ends.
    fn changed(&self) -> &Notify;
}

/// A running supervisor's children, by name: what a [`ChildRef`] looks its
/// child up in. Obtained from [`Supervisor::directory`](crate::Supervisor::directory).
#[derive(Clone)]
pub struct Directory(pub(crate) Arc<dyn Lookup>);

impl fmt::Debug for Directory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Directory")
    }
}

/// Finds, on every call, the supervisor a [`ChildRef`] reaches its child
/// through: the analogue of the name in a `{via, Registry, Name}` tuple.
/// A [`Directory`] locates itself; a session layer locates the tree of
/// whichever session runs under an id.
pub trait Locate: Send + Sync + 'static {
    /// The supervisor's directory, or `None` when it does not run.
    fn locate(&self) -> Option<Directory>;
}

impl Locate for Directory {
    fn locate(&self) -> Option<Directory> {
        Some(self.clone())
    }
}

/// Reaches the child named `name` of a supervisor, a [`Worker`] of type
/// `W`, on every call: after the child is restarted, the same reference
/// reaches the new incarnation. Cheap to clone.
///
/// A [`call`](ChildRef::call) made while the child is being restarted waits
/// for the new incarnation, within the call's timeout (5 s unless
/// [`with_timeout`](ChildRef::with_timeout) says otherwise), instead of
/// failing.
///
/// ```
/// use jido_process::{ChildSpec, Context, SupervisorSpec, Worker};
///
/// struct Greeter;
///
/// impl Worker for Greeter {
///     type Request = &'static str;
///     type Reply = String;
///     async fn handle(&mut self, name: &'static str, _ctx: &mut Context) -> String {
///         format!("hello, {name}")
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let supervisor = SupervisorSpec::new()
///     .child(ChildSpec::worker("greeter", |_: &()| Greeter))
///     .start(())
///     .await
///     .unwrap();
/// let greeter = supervisor.child_ref::<Greeter>("greeter");
/// assert_eq!(greeter.call("ada").await.unwrap(), "hello, ada");
///
/// // Crash it: the supervisor restarts it, and the reference follows.
/// greeter.pid().unwrap().kill();
/// assert_eq!(greeter.call("grace").await.unwrap(), "hello, grace");
/// # }
/// ```
pub struct ChildRef<W> {
    locate: Arc<dyn Locate>,
    name: ChildName,
    timeout: Duration,
    _worker: PhantomData<fn() -> W>,
}

impl<W: Worker> ChildRef<W> {
    /// A reference to the child `name` of whatever supervisor `locate`
    /// finds.
    pub fn via(locate: impl Locate, name: impl Into<ChildName>) -> Self {
        ChildRef {
            locate: Arc::new(locate),
            name: name.into(),
            timeout: DEFAULT_CALL_TIMEOUT,
            _worker: PhantomData,
        }
    }

    /// The same reference, with calls that wait at most `timeout` (for a
    /// restart and the reply together).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The child's name.
    pub fn name(&self) -> &ChildName {
        &self.name
    }

    /// How long a call waits.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The child's current process, if it runs.
    pub fn pid(&self) -> Option<Pid> {
        match self.locate.locate()?.0.find(&self.name) {
            Found::Running(pid, _) => Some(pid),
            _ => None,
        }
    }

    /// The address of the incarnation running now, without waiting.
    ///
    /// # Errors
    ///
    /// [`CallError::Restarting`] while a restart is under way,
    /// [`CallError::NotRunning`] when it does not run and will not be
    /// restarted, [`CallError::NoSuchChild`], [`CallError::WrongType`],
    /// [`CallError::SupervisorDown`], [`CallError::GaveUp`].
    pub fn addr(&self) -> Result<Addr<W>, CallError> {
        let directory = self.directory()?;
        match directory.0.find(&self.name) {
            Found::Running(_, addr) => self.downcast(addr),
            Found::Pending => Err(CallError::Restarting {
                name: self.name.clone(),
            }),
            Found::Stopped => Err(self.not_running()),
            Found::NoSuchChild => Err(CallError::NoSuchChild {
                name: self.name.clone(),
            }),
            Found::Down => Err(self.supervisor_down()),
            Found::GaveUp => Err(self.gave_up()),
        }
    }

    /// Sends `request` to the incarnation running now and waits for the
    /// reply. During a restart, waits for the new incarnation first. The
    /// whole call waits at most the reference's timeout. See the type's
    /// example (a call after a crash reaches the restarted child).
    ///
    /// # Errors
    ///
    /// [`CallError::Timeout`], [`CallError::Exited`] (the worker ended while
    /// handling it), [`CallError::NotRunning`] (stopped, not restarting),
    /// [`CallError::GaveUp`] (its supervisor gave up restarting it, before
    /// or while the call waited), [`CallError::NoSuchChild`],
    /// [`CallError::WrongType`], [`CallError::SupervisorDown`].
    pub async fn call(&self, request: W::Request) -> Result<W::Reply, CallError> {
        let deadline = Instant::now().checked_add(self.timeout);
        let found = self.running(deadline).await?;
        // Borrowed from the directory's entry: cloning the address would
        // take its mailbox's lock twice (a sender counted, then not).
        let addr = self.downcast_ref(&found)?;
        addr.call_until(request, deadline, self.timeout).await
    }

    /// A call whose answer comes back on a channel the request carries:
    /// `make` builds the request around the reply's sender, the request
    /// goes to the incarnation running now (waiting through a restart, as
    /// [`call`](ChildRef::call) does), and the reply is what the worker
    /// sends on that channel, from its handler or later — OTP's
    /// `gen_server:call` to a server that answers with `gen_server:reply`.
    /// What the handler itself returns is dropped. One message, one reply:
    /// no acknowledgement of the request in between. The whole call waits
    /// at most the reference's timeout.
    ///
    /// ```
    /// use jido_process::{ChildSpec, Context, SupervisorSpec, Worker};
    /// use tokio::sync::oneshot;
    ///
    /// /// Answers on the channel each request brings.
    /// struct Doubler;
    ///
    /// impl Worker for Doubler {
    ///     type Request = (u64, oneshot::Sender<u64>);
    ///     type Reply = ();
    ///     async fn handle(&mut self, (n, reply): Self::Request, _ctx: &mut Context) {
    ///         let _ = reply.send(2 * n);
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let supervisor = SupervisorSpec::new()
    ///     .child(ChildSpec::worker("doubler", |_: &()| Doubler))
    ///     .start(())
    ///     .await
    ///     .unwrap();
    /// let doubler = supervisor.child_ref::<Doubler>("doubler");
    /// assert_eq!(doubler.call_with(|reply| (21, reply)).await.unwrap(), 42);
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`call`](ChildRef::call); [`CallError::Exited`] also when the
    /// worker dropped the reply's sender without answering.
    pub async fn call_with<T>(
        &self,
        make: impl FnOnce(tokio::sync::oneshot::Sender<T>) -> W::Request,
    ) -> Result<T, CallError> {
        let deadline = Instant::now().checked_add(self.timeout);
        let found = self.running(deadline).await?;
        let addr = self.downcast_ref(&found)?;
        let (reply, answer) = tokio::sync::oneshot::channel();
        addr.cast_and_answer(make(reply), answer, deadline, self.timeout)
            .await
    }

    /// Sends `request` to the incarnation running now, without waiting for
    /// a reply (or for a restart: during one, [`CallError::Restarting`]).
    ///
    /// ```
    /// use jido_process::{ChildSpec, Context, SupervisorSpec, Worker};
    ///
    /// struct Log(Vec<String>);
    ///
    /// impl Worker for Log {
    ///     type Request = Option<String>; // Some: append; None: read
    ///     type Reply = usize;
    ///     async fn handle(&mut self, line: Option<String>, _ctx: &mut Context) -> usize {
    ///         self.0.extend(line);
    ///         self.0.len()
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let supervisor = SupervisorSpec::new()
    ///     .child(ChildSpec::worker("log", |_: &()| Log(Vec::new())))
    ///     .start(())
    ///     .await
    ///     .unwrap();
    /// let log = supervisor.child_ref::<Log>("log");
    /// log.cast(Some("started".into())).unwrap();
    /// assert_eq!(log.call(None).await.unwrap(), 1);
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`addr`](ChildRef::addr), and [`CallError::Exited`].
    pub fn cast(&self, request: W::Request) -> Result<(), CallError> {
        self.addr()?.cast(request)
    }

    /// The running incarnation's address, waiting through a restart until
    /// `deadline`.
    async fn running(
        &self,
        deadline: Option<Instant>,
    ) -> Result<Option<Arc<dyn Any + Send + Sync>>, CallError> {
        // Running, the common case: found without a waiter registered.
        let directory = self.directory()?;
        if let Found::Running(_, addr) = directory.0.find(&self.name) {
            return Ok(addr);
        }
        drop(directory);
        loop {
            let directory = self.directory()?;
            let mut changed = pin!(directory.0.changed().notified());
            changed.as_mut().enable();
            match directory.0.find(&self.name) {
                Found::Running(_, addr) => return Ok(addr),
                Found::Pending => {}
                Found::Stopped => return Err(self.not_running()),
                Found::NoSuchChild => {
                    return Err(CallError::NoSuchChild {
                        name: self.name.clone(),
                    });
                }
                Found::Down => return Err(self.supervisor_down()),
                Found::GaveUp => return Err(self.gave_up()),
            }
            match deadline {
                Some(deadline) => {
                    if tokio::time::timeout_at(deadline, changed).await.is_err() {
                        return Err(CallError::Timeout {
                            after: self.timeout,
                        });
                    }
                }
                None => changed.await,
            }
        }
    }

    fn directory(&self) -> Result<Directory, CallError> {
        self.locate.locate().ok_or_else(|| self.supervisor_down())
    }

    fn downcast_ref<'a>(
        &self,
        addr: &'a Option<Arc<dyn Any + Send + Sync>>,
    ) -> Result<&'a Addr<W>, CallError> {
        addr.as_ref()
            .and_then(|addr| addr.downcast_ref::<Addr<W>>())
            .ok_or_else(|| CallError::WrongType {
                name: self.name.clone(),
                expected: std::any::type_name::<W>(),
            })
    }

    fn downcast(&self, addr: Option<Arc<dyn Any + Send + Sync>>) -> Result<Addr<W>, CallError> {
        addr.and_then(|addr| addr.downcast_ref::<Addr<W>>().cloned())
            .ok_or_else(|| CallError::WrongType {
                name: self.name.clone(),
                expected: std::any::type_name::<W>(),
            })
    }

    fn not_running(&self) -> CallError {
        CallError::NotRunning {
            name: self.name.clone(),
        }
    }

    fn gave_up(&self) -> CallError {
        CallError::GaveUp {
            name: self.name.clone(),
        }
    }

    fn supervisor_down(&self) -> CallError {
        CallError::SupervisorDown {
            name: self.name.clone(),
        }
    }
}

impl<W> Clone for ChildRef<W> {
    fn clone(&self) -> Self {
        ChildRef {
            locate: Arc::clone(&self.locate),
            name: self.name.clone(),
            timeout: self.timeout,
            _worker: PhantomData,
        }
    }
}

impl<W> fmt::Debug for ChildRef<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildRef")
            .field("name", &self.name)
            .field("worker", &std::any::type_name::<W>())
            .field("timeout", &self.timeout)
            .finish()
    }
}
