//! [`Pid`]: the identity and liveness of a process; [`spawn`]; monitors.

use std::fmt;
use std::future::Future;
use std::future::poll_fn;
use std::hash::{Hash, Hasher};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Poll, Waker};

use futures_util::FutureExt;
use parking_lot::Mutex;
use smallvec::SmallVec;
use tokio::task::AbortHandle;

use crate::waiters::{WaiterKey, Waiters};
use crate::{Down, ExitReason, Mailbox, Term};

/// Crate-private: what happens when a process ends, run once on the thread
/// where it ends. Only this crate's own code is ever installed here (a
/// mailbox send, a registry removal); users get [`Down`] messages.
pub(crate) type ExitHook = Box<dyn FnOnce(&Pid, &ExitReason) + Send>;

/// The identity of a process (a task spawned with [`spawn`] or
/// [`spawn_with_pid`]): the analogue of an Erlang pid.
///
/// A `Pid` is cheap to clone and compare. It tells whether its process is
/// still alive, waits for its end ([`wait`](Pid::wait)) and says why it
/// ended ([`ExitReason`]), asks it to stop ([`request_stop`](Pid::request_stop)),
/// ends it ([`kill`](Pid::kill), [`exit`](Pid::exit)), and sends a [`Down`]
/// message to a mailbox when it ends ([`monitor`](Pid::monitor)). A process
/// ends however its future stops: by returning, by panicking, by being
/// aborted, or by its runtime shutting down. Every one of these is seen,
/// because the bookkeeping lives in a guard that the task's future owns.
///
/// ```
/// use jido_process::{spawn, ExitReason};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let pid = spawn(async { ExitReason::Normal });
/// assert_eq!(pid.wait().await, ExitReason::Normal);
/// assert!(!pid.is_alive());
///
/// let sleeper = spawn(std::future::pending());
/// sleeper.kill();
/// assert!(!sleeper.is_alive()); // dead at once for every observer
/// assert_eq!(sleeper.wait().await, ExitReason::Killed);
/// # }
/// ```
#[derive(Clone)]
pub struct Pid {
    inner: Arc<PidInner>,
}

struct PidInner {
    id: u64,
    /// Set by [`Pid::exit`] and at the end: the process counts as dead from
    /// that instant, although tokio drops an aborted future only on its
    /// next scheduling.
    exited: AtomicBool,
    /// Set by [`Pid::request_stop`].
    stop_requested: AtomicBool,
    guarded: Mutex<Guarded>,
}

/// What a process's lock guards.
struct Guarded {
    state: State,
    /// The futures waiting in [`Pid::wait`] and [`Pid::stop_requested`],
    /// woken by a stop request and at the end; each checks its own
    /// condition again.
    waiters: Waiters,
    /// The task's abort handle — of a parkable process, its latest task's,
    /// by the generation its parking numbered it with — until the process
    /// has ended (then dropped,
    /// so that the task's memory goes with the task).
    abort: Option<(u64, AbortHandle)>,
}

/// Up to one monitor (its supervisor's, the usual case) lives inline,
/// without an allocation.
type Hooks = SmallVec<[(MonitorRef, ExitHook); 1]>;

enum State {
    Alive {
        hooks: Hooks,
        /// What few processes are ever given: a reason to exit with, a
        /// term to stop with. Boxed: every idle process carries the field.
        rare: Option<Box<Rare>>,
        /// The process's own waker while it waits for a stop request
        /// ([`Pid::poll_stop_requested`]): one slot, no waiter list.
        stop_waker: Option<Waker>,
    },
    /// The reason is known and the monitors are being delivered.
    Exiting(ExitReason),
    /// The monitors were delivered; waiters are released.
    Exited(ExitReason),
}

/// See [`State::Alive`].
#[derive(Default)]
struct Rare {
    /// The reason [`Pid::exit`] asked for, used when the aborted future is
    /// dropped.
    exit: Option<ExitReason>,
    /// The `{shutdown, term}` a stop was requested with.
    stop_term: Option<Term>,
}

/// Names one monitor, program-wide: [`Pid::monitor`] returns it, and the
/// [`Down`] message it causes carries it. Pass it to [`Pid::demonitor`] to
/// cancel the monitor before it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MonitorRef(u64);

static NEXT_PID: AtomicU64 = AtomicU64::new(1);
static NEXT_MONITOR: AtomicU64 = AtomicU64::new(1);

impl MonitorRef {
    fn next() -> Self {
        MonitorRef(NEXT_MONITOR.fetch_add(1, Ordering::Relaxed))
    }
}

impl Pid {
    fn new_alive() -> Self {
        Pid {
            inner: Arc::new(PidInner {
                id: NEXT_PID.fetch_add(1, Ordering::Relaxed),
                exited: AtomicBool::new(false),
                stop_requested: AtomicBool::new(false),
                guarded: Mutex::new(Guarded {
                    state: State::Alive {
                        hooks: Hooks::new(),
                        rare: None,
                        stop_waker: None,
                    },
                    waiters: Waiters::default(),
                    abort: None,
                }),
            }),
        }
    }

    /// A number unique to this process within the program.
    pub fn id(&self) -> u64 {
        self.inner.id
    }

    /// `false` once the process has ended, or [`kill`](Pid::kill) or
    /// [`exit`](Pid::exit) was called.
    pub fn is_alive(&self) -> bool {
        !self.inner.exited.load(Ordering::Acquire)
            && matches!(self.inner.guarded.lock().state, State::Alive { .. })
    }

    /// Why the process ended, or `None` while its future has not been
    /// dropped yet.
    pub fn exit_reason(&self) -> Option<ExitReason> {
        match &self.inner.guarded.lock().state {
            State::Alive { .. } => None,
            State::Exiting(reason) | State::Exited(reason) => Some(reason.clone()),
        }
    }

    /// Waits until the process has ended and every monitor has been
    /// delivered, then returns why it ended. Cancel-safe; any number of
    /// callers may wait.
    pub async fn wait(&self) -> ExitReason {
        self.signalled(|_, state| match state {
            State::Exited(reason) => Some(reason.clone()),
            _ => None,
        })
        .await
    }

    /// Asks the process to stop (Erlang's `exit(Pid, shutdown)` to a process
    /// that traps exits): sets a flag the process watches with
    /// [`stop_requested`](Pid::stop_requested). It is up to the process to
    /// end, by convention with [`stop_reason`](Pid::stop_reason); a
    /// supervisor kills it if it takes longer than its shutdown policy allows.
    pub fn request_stop(&self) {
        self.inner.stop_requested.store(true, Ordering::Release);
        let (waker, waiters) = {
            let mut guarded = self.inner.guarded.lock();
            let waker = match &mut guarded.state {
                State::Alive { stop_waker, .. } => stop_waker.take(),
                State::Exiting(_) | State::Exited(_) => None,
            };
            (waker, guarded.waiters.take())
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        waiters.wake();
    }

    /// Like [`request_stop`](Pid::request_stop), asking the process to end
    /// with `{shutdown, term}` ([`ExitReason::ShutdownWith`]). The first term
    /// asked for is kept.
    pub fn request_stop_with(&self, term: impl Into<Term>) {
        if let State::Alive { rare, .. } = &mut self.inner.guarded.lock().state {
            let stop_term = &mut rare.get_or_insert_with(Box::default).stop_term;
            if stop_term.is_none() {
                *stop_term = Some(term.into());
            }
        }
        self.request_stop();
    }

    /// `true` once a stop was requested.
    pub fn is_stop_requested(&self) -> bool {
        self.inner.stop_requested.load(Ordering::Acquire)
    }

    /// The reason a process asked to stop should end with:
    /// [`ExitReason::Shutdown`], or [`ExitReason::ShutdownWith`] if the stop
    /// was requested with a term.
    pub fn stop_reason(&self) -> ExitReason {
        match &self.inner.guarded.lock().state {
            State::Alive {
                rare: Some(rare), ..
            } => match &rare.stop_term {
                Some(term) => ExitReason::ShutdownWith(term.clone()),
                None => ExitReason::Shutdown,
            },
            _ => ExitReason::Shutdown,
        }
    }

    /// Completes once a stop was requested: a process selects on this beside
    /// its mailbox. Cancel-safe.
    ///
    /// ```
    /// use jido_process::{spawn_with_pid, ExitReason};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let pid = spawn_with_pid(|me| async move {
    ///     me.stop_requested().await;
    ///     me.stop_reason()
    /// });
    /// pid.request_stop_with("user closed the session");
    /// assert_eq!(pid.wait().await, ExitReason::shutdown_with("user closed the session"));
    /// # }
    /// ```
    pub async fn stop_requested(&self) {
        self.signalled(|inner, _| inner.stop_requested.load(Ordering::Acquire).then_some(()))
            .await
    }

    /// [`stop_requested`](Self::stop_requested) as a poll, for the process's
    /// own loop (crate-private: the one waker slot belongs to the process
    /// itself). `Pending` keeps `cx`'s waker until a stop is requested; the
    /// flag is checked under the lock that [`request_stop`](Self::request_stop)
    /// takes the waker under, so no request slips between the two.
    pub(crate) fn poll_stop_requested(&self, cx: &mut std::task::Context<'_>) -> Poll<()> {
        let mut guarded = self.inner.guarded.lock();
        if self.inner.stop_requested.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        if let State::Alive { stop_waker, .. } = &mut guarded.state {
            match stop_waker {
                Some(waker) => waker.clone_from(cx.waker()),
                None => *stop_waker = Some(cx.waker().clone()),
            }
        }
        Poll::Pending
    }

    /// Waits until `check` answers, checking again whenever the process is
    /// asked to stop or ends. The check and the registration of the waker
    /// happen under the lock the wake-ups take the wakers under, so none is
    /// missed; a dropped wait leaves no waker behind.
    async fn signalled<T>(&self, check: impl Fn(&PidInner, &State) -> Option<T>) -> T {
        let waiter = Waiter {
            inner: &self.inner,
            key: WaiterKey::next(),
        };
        poll_fn(|cx| {
            let mut guarded = waiter.inner.guarded.lock();
            if let Some(answer) = check(waiter.inner, &guarded.state) {
                return Poll::Ready(answer);
            }
            guarded.waiters.register(waiter.key, cx.waker());
            Poll::Pending
        })
        .await
    }

    /// Kills the process: [`exit`](Pid::exit) with [`ExitReason::Killed`].
    pub fn kill(&self) {
        self.exit(ExitReason::Killed);
    }

    /// Ends the process with `reason` (Erlang's `exit(Pid, Reason)` to a
    /// process that does not trap exits): it counts as dead at once
    /// ([`is_alive`](Pid::is_alive) is `false`), and its future is dropped
    /// the next time the runtime schedules it; its exit reason is `reason`
    /// (unless it had already ended, or another `exit` came first).
    ///
    /// Unlike Erlang, `normal` is not ignored: `exit(ExitReason::Normal)`
    /// ends the process with reason `normal`. To ask a process to wind down
    /// by itself, use [`request_stop`](Pid::request_stop).
    ///
    /// ```
    /// use jido_process::{spawn, ExitReason};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let pid = spawn(std::future::pending());
    /// pid.exit(ExitReason::error("bad input"));
    /// assert_eq!(pid.wait().await, ExitReason::error("bad input"));
    /// # }
    /// ```
    pub fn exit(&self, reason: ExitReason) {
        let abort = {
            let mut guarded = self.inner.guarded.lock();
            match &mut guarded.state {
                State::Alive { rare, .. } => {
                    let exit = &mut rare.get_or_insert_with(Box::default).exit;
                    if exit.is_none() {
                        *exit = Some(reason);
                    }
                }
                State::Exiting(_) | State::Exited(_) => return,
            }
            // Under the lock `record_task` sets the handle under: either it
            // sees the flag, or this sees the handle.
            self.inner.exited.store(true, Ordering::Release);
            let waker = match &mut guarded.state {
                State::Alive { stop_waker, .. } => stop_waker.take(),
                State::Exiting(_) | State::Exited(_) => None,
            };
            (
                guarded.abort.as_ref().map(|(_, abort)| abort.clone()),
                waker,
            )
        };
        let (abort, waker) = abort;
        if let Some(abort) = abort {
            abort.abort();
        }
        // A running process is being aborted; a parked one (no task: see
        // `spawn_parkable`) is woken by its own waker, to be spawned again
        // and aborted at once.
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// `true` once [`exit`](Pid::exit) was called or the process ended: a
    /// parked process woken checks it before it goes on.
    pub(crate) fn is_exiting(&self) -> bool {
        self.inner.exited.load(Ordering::Acquire)
    }

    /// A task of this process is ending without ending the process (it
    /// parked): forgets the task's abort handle, if it is still the one
    /// recorded (a wake may already have spawned the next task).
    fn detach_task(&self, task: Option<tokio::task::Id>) {
        let mut guarded = self.inner.guarded.lock();
        if let (Some((_, abort)), Some(task)) = (&guarded.abort, task)
            && abort.id() == task
        {
            guarded.abort = None;
        }
    }

    /// Monitors the process: when it ends, a [`Down`] message carrying
    /// `tag` is sent to `mailbox`. If it has already ended (or was killed),
    /// the message is sent now. Nothing but that send happens on the
    /// process's exit: no code of the caller runs there.
    ///
    /// The `tag` tells the receiver which of its monitors fired without a
    /// lookup (a child's index, a session's id); use `()` when the pid is
    /// enough.
    ///
    /// ```
    /// use jido_process::{mailbox, spawn, Down, ExitReason};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let (watcher, mut downs) = mailbox::<Down<&'static str>>();
    /// let worker = spawn(async { ExitReason::error("boom") });
    /// let monitor = worker.monitor(&watcher, "worker");
    ///
    /// let down = downs.recv().await.unwrap();
    /// assert_eq!((down.monitor, down.tag), (monitor, "worker"));
    /// assert_eq!(down.reason, ExitReason::error("boom"));
    /// # }
    /// ```
    pub fn monitor<T, M>(&self, mailbox: &Mailbox<M>, tag: T) -> MonitorRef
    where
        T: Send + 'static,
        M: From<Down<T>> + Send + 'static,
    {
        let monitor = MonitorRef::next();
        let mailbox = mailbox.clone();
        let deliver = move |pid: &Pid, reason: &ExitReason| {
            // A receiver that has gone away has stopped caring.
            let _ = mailbox.send(M::from(Down {
                monitor,
                pid: pid.clone(),
                reason: reason.clone(),
                tag,
            }));
        };
        if let Err((deliver, reason)) = self.install(monitor, Box::new(deliver)) {
            deliver(self, &reason);
        }
        monitor
    }

    /// Cancels a monitor that has not fired yet. Returns whether it did.
    pub fn demonitor(&self, monitor: MonitorRef) -> bool {
        match &mut self.inner.guarded.lock().state {
            State::Alive { hooks, .. } => {
                let before = hooks.len();
                hooks.retain(|(id, _)| *id != monitor);
                hooks.len() != before
            }
            State::Exiting(_) | State::Exited(_) => false,
        }
    }

    /// Installs `hook` to run when the process ends, if it is still alive
    /// (and was not killed); otherwise hands it back with the reason it
    /// ended (or the reason it is being ended with).
    pub(crate) fn on_exit(&self, hook: ExitHook) -> Result<MonitorRef, (ExitHook, ExitReason)> {
        let monitor = MonitorRef::next();
        self.install(monitor, hook).map(|()| monitor)
    }

    fn install(&self, monitor: MonitorRef, hook: ExitHook) -> Result<(), (ExitHook, ExitReason)> {
        let mut guarded = self.inner.guarded.lock();
        match &mut guarded.state {
            State::Alive { rare, .. } if self.inner.exited.load(Ordering::Acquire) => {
                let reason = rare
                    .as_ref()
                    .and_then(|rare| rare.exit.clone())
                    .unwrap_or(ExitReason::Killed);
                Err((hook, reason))
            }
            State::Alive { hooks, .. } => {
                hooks.push((monitor, hook));
                Ok(())
            }
            State::Exiting(reason) | State::Exited(reason) => Err((hook, reason.clone())),
        }
    }

    /// Records the reason (the one [`exit`](Pid::exit) asked for, else the
    /// one the future completed with), runs the hooks outside the lock, then
    /// wakes the waiters.
    fn finish(&self, completed: Option<ExitReason>) {
        let reason;
        let (hooks, abort) = {
            let mut guarded = self.inner.guarded.lock();
            let hooks = match &mut guarded.state {
                State::Alive { hooks, rare, .. } => {
                    // An `exit` that found the process alive came first,
                    // even if the future completed before the abort.
                    reason = rare
                        .take()
                        .and_then(|rare| rare.exit)
                        .or(completed)
                        .unwrap_or(ExitReason::Killed);
                    std::mem::take(hooks)
                }
                // Only the task's guard finishes a process, once.
                State::Exiting(_) | State::Exited(_) => return,
            };
            guarded.state = State::Exiting(reason.clone());
            (hooks, guarded.abort.take())
        };
        drop(abort);
        self.inner.exited.store(true, Ordering::Release);
        for (_, hook) in hooks {
            // A failing hook must not stop the others, nor leave waiters
            // hanging: it is contained here.
            let _ = std::panic::catch_unwind(AssertUnwindSafe(|| hook(self, &reason)));
        }
        let waiters = {
            let mut guarded = self.inner.guarded.lock();
            guarded.state = State::Exited(reason);
            guarded.waiters.take()
        };
        waiters.wake();
    }
}

/// A future waiting in [`Pid::signalled`]: removes its waker when dropped.
struct Waiter<'a> {
    inner: &'a PidInner,
    key: WaiterKey,
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        self.inner.guarded.lock().waiters.remove(self.key);
    }
}

impl PartialEq for Pid {
    fn eq(&self, other: &Self) -> bool {
        self.inner.id == other.inner.id
    }
}

impl Eq for Pid {}

impl Hash for Pid {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.inner.id.hash(state);
    }
}

impl PartialOrd for Pid {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Pid {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.inner.id.cmp(&other.inner.id)
    }
}

impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<0.{}.0>", self.inner.id)
    }
}

impl fmt::Debug for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pid<0.{}.0>", self.inner.id)
    }
}

/// Owned by the task's future: whatever way the future stops, dropping this
/// records the exit (as killed, or as the reason [`Pid::exit`] asked for),
/// unless [`completed`](Self::completed) recorded how the future completed.
struct ExitGuard(Option<Pid>);

impl ExitGuard {
    fn completed(mut self, reason: ExitReason) {
        if let Some(pid) = self.0.take() {
            pid.finish(Some(reason));
        }
    }

    /// The task ends, the process does not: it parked.
    fn parked(mut self) {
        if let Some(pid) = self.0.take() {
            pid.detach_task(tokio::task::try_id());
        }
    }
}

impl Drop for ExitGuard {
    fn drop(&mut self) {
        if let Some(pid) = self.0.take() {
            pid.finish(None);
        }
    }
}

/// Spawns `future` on the current tokio runtime as a process and returns its
/// [`Pid`]. The future's output is its exit reason; a panic becomes
/// [`ExitReason::Panic`], an abort [`ExitReason::Killed`] (or the reason
/// given to [`Pid::exit`]).
///
/// # Panics
///
/// Like [`tokio::spawn`], when called outside a tokio runtime.
pub fn spawn<F>(future: F) -> Pid
where
    F: Future<Output = ExitReason> + Send + 'static,
{
    spawn_with_pid(|_| future)
}

/// Like [`spawn`], but hands the new process its own [`Pid`] first, so that
/// it can watch for stop requests or register itself (the analogue of
/// `self()` in Erlang). `make` runs synchronously, before this returns.
///
/// # Panics
///
/// Like [`tokio::spawn`], when called outside a tokio runtime.
pub fn spawn_with_pid<F, Fut>(make: F) -> Pid
where
    F: FnOnce(Pid) -> Fut,
    Fut: Future<Output = ExitReason> + Send + 'static,
{
    let pid = Pid::new_alive();
    let future = make(pid.clone());
    spawn_reserved(&pid, future);
    pid
}

impl Pid {
    /// A pid for a process spawned later with [`spawn_reserved`] (no
    /// await in between).
    pub(crate) fn reserve() -> Pid {
        Pid::new_alive()
    }
}

/// Spawns `future` as the process of `pid`, a pid from [`Pid::reserve`].
pub(crate) fn spawn_reserved<F>(pid: &Pid, future: F)
where
    F: Future<Output = ExitReason> + Send + 'static,
{
    let guard = ExitGuard(Some(pid.clone()));
    // Combinators rather than an `async` block: an async block would keep
    // `future` twice in the task (as a captured variable and as the awaited
    // value), doubling the task's size.
    let task = tokio::spawn(AssertUnwindSafe(future).catch_unwind().map(move |result| {
        guard.completed(match result {
            Ok(reason) => reason,
            Err(payload) => ExitReason::from_panic(&*payload),
        });
    }));
    record_task(pid, task, 0);
}

/// How a task of a process that can park ends ([`spawn_parkable`]).
pub(crate) enum Ended {
    /// The process ended, for this reason.
    Exited(ExitReason),
    /// The process gave its task up while idle and lives on: whatever wakes
    /// it spawns its next task (see `crate::park`).
    Parked,
}

/// Spawns `future` on `runtime` as (again) the task of `pid`'s process, a
/// pid from [`Pid::reserve`] or one whose last task parked; `generation`
/// numbers its tasks in the order they were spawned. As [`spawn_reserved`],
/// except that a future that ends [`Ended::Parked`] ends its task only: the
/// process stays alive, its monitors in place.
pub(crate) fn spawn_parkable<F>(
    runtime: &tokio::runtime::Handle,
    pid: &Pid,
    generation: u64,
    future: F,
) where
    F: Future<Output = Ended> + Send + 'static,
{
    let guard = ExitGuard(Some(pid.clone()));
    let task = runtime.spawn(AssertUnwindSafe(future).catch_unwind().map(
        move |result| match result {
            Ok(Ended::Parked) => guard.parked(),
            Ok(Ended::Exited(reason)) => guard.completed(reason),
            Err(payload) => guard.completed(ExitReason::from_panic(&*payload)),
        },
    ));
    record_task(pid, task, generation);
}

/// Records `task`, of `generation`, as the task of `pid`'s process, or
/// aborts it if the process was killed meanwhile. A parkable process's task
/// may run, park, and be followed by the next before it is recorded here:
/// a task older than the one recorded, or one already finished, is not
/// recorded (a kill must abort the task that runs, and a finished task's
/// handle would keep its memory).
fn record_task(pid: &Pid, task: tokio::task::JoinHandle<()>, generation: u64) {
    let exited = {
        let mut guarded = pid.inner.guarded.lock();
        let newer = guarded
            .abort
            .as_ref()
            .is_none_or(|(recorded, _)| *recorded < generation);
        if matches!(guarded.state, State::Alive { .. }) && newer && !task.is_finished() {
            guarded.abort = Some((generation, task.abort_handle()));
        }
        pid.inner.exited.load(Ordering::Acquire)
    };
    if exited {
        // Killed between creation and here: the abort handle was not there yet.
        task.abort();
    }
}
