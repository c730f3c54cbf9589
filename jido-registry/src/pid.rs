//! [`Pid`]: the identity and liveness of a spawned task, and [`spawn`].

use std::fmt;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::panic::AssertUnwindSafe;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use futures_util::FutureExt;
use parking_lot::Mutex;
use smallvec::SmallVec;
use tokio::sync::Notify;
use tokio::task::AbortHandle;

use crate::ExitReason;

/// A callback run once, synchronously, on the thread where the process ends.
type ExitHook = Box<dyn FnOnce(&Pid, &ExitReason) + Send>;

/// The identity of a task spawned with [`spawn`] or [`spawn_with_pid`]: the
/// analogue of an Erlang pid.
///
/// A `Pid` is cheap to clone and compare. It tells whether its task is still
/// alive, waits for it to end ([`Pid::wait`]) and says why it ended
/// ([`ExitReason`]), kills it ([`Pid::kill`]), and runs monitors when it ends
/// ([`Pid::monitor`]). A task ends however its future stops: by returning, by
/// panicking, by being aborted, or by its runtime shutting down. Every one of
/// these is seen, because the bookkeeping lives in a guard that the task's
/// future owns.
///
/// ```
/// use jido_registry::{spawn, ExitReason};
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
    state: Mutex<State>,
    /// Set by [`Pid::kill`]: the task counts as dead from that instant, even
    /// though tokio drops an aborted future only on its next scheduling.
    killed: AtomicBool,
    /// Set by [`Pid::request_stop`].
    stop_requested: AtomicBool,
    abort: OnceLock<AbortHandle>,
    /// Wakes the waiters of [`Pid::wait`] and [`Pid::stop_requested`]; each
    /// re-checks its own condition.
    signal: Notify,
}

/// Up to two monitors (a registration and a supervisor's, the usual case)
/// live inline, without an allocation.
type Hooks = SmallVec<[(u64, ExitHook); 2]>;

enum State {
    Alive {
        hooks: Hooks,
        next_hook: u64,
    },
    /// The reason is known and the monitors are running.
    Exiting(ExitReason),
    /// The monitors have run; waiters are released.
    Exited(ExitReason),
}

/// A monitor installed with [`Pid::monitor`]; pass it to [`Pid::demonitor`]
/// to remove the callback before it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MonitorRef(u64);

static NEXT_PID: AtomicU64 = AtomicU64::new(1);

impl Pid {
    fn new_alive() -> Self {
        Pid {
            inner: Arc::new(PidInner {
                id: NEXT_PID.fetch_add(1, Ordering::Relaxed),
                state: Mutex::new(State::Alive {
                    hooks: Hooks::new(),
                    next_hook: 0,
                }),
                killed: AtomicBool::new(false),
                stop_requested: AtomicBool::new(false),
                abort: OnceLock::new(),
                signal: Notify::new(),
            }),
        }
    }

    /// A number unique to this process within the program.
    pub fn id(&self) -> u64 {
        self.inner.id
    }

    /// `false` once the task has ended or [`kill`](Pid::kill) was called.
    pub fn is_alive(&self) -> bool {
        !self.inner.killed.load(Ordering::Acquire)
            && matches!(*self.inner.state.lock(), State::Alive { .. })
    }

    /// Why the task ended, or `None` while its future has not been dropped yet.
    pub fn exit_reason(&self) -> Option<ExitReason> {
        match &*self.inner.state.lock() {
            State::Alive { .. } => None,
            State::Exiting(reason) | State::Exited(reason) => Some(reason.clone()),
        }
    }

    /// Waits until the task has ended and every monitor has run, then returns
    /// why it ended. Cancel-safe; any number of callers may wait.
    pub async fn wait(&self) -> ExitReason {
        self.signalled(|inner| match &*inner.state.lock() {
            State::Exited(reason) => Some(reason.clone()),
            _ => None,
        })
        .await
    }

    /// Asks the process to stop (Erlang's `exit(Pid, shutdown)` to a process
    /// that traps exits): sets a flag the process watches with
    /// [`stop_requested`](Pid::stop_requested). It is up to the process to end,
    /// with [`ExitReason::Shutdown`] by convention; a supervisor kills it if it
    /// takes too long.
    pub fn request_stop(&self) {
        self.inner.stop_requested.store(true, Ordering::Release);
        self.inner.signal.notify_waiters();
    }

    /// `true` once [`request_stop`](Pid::request_stop) was called.
    pub fn is_stop_requested(&self) -> bool {
        self.inner.stop_requested.load(Ordering::Acquire)
    }

    /// Completes once [`request_stop`](Pid::request_stop) has been called: a
    /// process selects on this beside its mailbox. Cancel-safe.
    ///
    /// ```
    /// use jido_registry::{spawn_with_pid, ExitReason};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let pid = spawn_with_pid(|me| async move {
    ///     me.stop_requested().await;
    ///     ExitReason::Shutdown
    /// });
    /// pid.request_stop();
    /// assert_eq!(pid.wait().await, ExitReason::Shutdown);
    /// # }
    /// ```
    pub async fn stop_requested(&self) {
        self.signalled(|inner| inner.stop_requested.load(Ordering::Acquire).then_some(()))
            .await
    }

    /// Waits until `check` answers, re-checking on every signal. The waiter
    /// is registered before each check, so a signal sent between the check
    /// and the wait is not missed.
    async fn signalled<T>(&self, check: impl Fn(&PidInner) -> Option<T>) -> T {
        let mut notified = pin!(self.inner.signal.notified());
        loop {
            notified.as_mut().enable();
            if let Some(answer) = check(&self.inner) {
                return answer;
            }
            notified.as_mut().await;
            notified.set(self.inner.signal.notified());
        }
    }

    /// Kills the task: it counts as dead at once ([`is_alive`](Pid::is_alive)
    /// is `false`, so a registry key it held can be taken again), and its
    /// future is dropped the next time the runtime schedules it, with reason
    /// [`ExitReason::Killed`] (unless it had already ended).
    pub fn kill(&self) {
        self.inner.killed.store(true, Ordering::Release);
        if let Some(abort) = self.inner.abort.get() {
            abort.abort();
        }
    }

    /// Runs `hook` once when the task ends, on the thread that drops it, after
    /// the reason is recorded and before [`wait`](Pid::wait) returns. If the
    /// task has already ended, `hook` runs now, on this thread.
    ///
    /// Hooks must be quick and must not block: they run inside the drop of the
    /// task's future.
    pub fn monitor(&self, hook: impl FnOnce(&Pid, &ExitReason) + Send + 'static) -> MonitorRef {
        match self.try_monitor(Box::new(hook)) {
            Ok(monitor) => monitor,
            Err((hook, reason)) => {
                hook(self, &reason);
                MonitorRef(u64::MAX)
            }
        }
    }

    /// Removes a monitor that has not run yet. Returns whether it was removed.
    pub fn demonitor(&self, monitor: MonitorRef) -> bool {
        match &mut *self.inner.state.lock() {
            State::Alive { hooks, .. } => {
                let before = hooks.len();
                hooks.retain(|(id, _)| *id != monitor.0);
                hooks.len() != before
            }
            State::Exiting(_) | State::Exited(_) => false,
        }
    }

    /// Installs `hook` if the task is still alive (and not killed); otherwise
    /// hands it back with the reason it ended (or [`ExitReason::Killed`]).
    pub(crate) fn try_monitor(&self, hook: ExitHook) -> Result<MonitorRef, (ExitHook, ExitReason)> {
        let mut state = self.inner.state.lock();
        match &mut *state {
            State::Alive { .. } if self.inner.killed.load(Ordering::Acquire) => {
                Err((hook, ExitReason::Killed))
            }
            State::Alive { hooks, next_hook } => {
                let id = *next_hook;
                *next_hook += 1;
                hooks.push((id, hook));
                Ok(MonitorRef(id))
            }
            State::Exiting(reason) | State::Exited(reason) => Err((hook, reason.clone())),
        }
    }

    /// Records the reason, runs the monitors (outside the lock), then wakes
    /// the waiters.
    fn exit(&self, reason: ExitReason) {
        let previous = std::mem::replace(
            &mut *self.inner.state.lock(),
            State::Exiting(reason.clone()),
        );
        if let State::Alive { hooks, .. } = previous {
            for (_, hook) in hooks {
                // A panicking monitor must not stop the others, nor leave
                // waiters hanging: it is contained here.
                let _ = std::panic::catch_unwind(AssertUnwindSafe(|| hook(self, &reason)));
            }
        }
        *self.inner.state.lock() = State::Exited(reason);
        self.inner.signal.notify_waiters();
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
/// records the exit. `reason` stays `None` unless the future completed.
struct ExitGuard {
    pid: Pid,
    reason: Option<ExitReason>,
}

impl ExitGuard {
    fn completed(&mut self, reason: ExitReason) {
        self.reason = Some(reason);
    }
}

impl Drop for ExitGuard {
    fn drop(&mut self) {
        let reason = self.reason.take().unwrap_or(ExitReason::Killed);
        self.pid.exit(reason);
    }
}

/// Spawns `future` on the current tokio runtime as a process and returns its
/// [`Pid`]. The future's output is its exit reason; a panic becomes
/// [`ExitReason::Panic`], an abort [`ExitReason::Killed`].
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

/// Like [`spawn`], but hands the new process its own [`Pid`] first, so that it
/// can register itself (the analogue of `self()` in Erlang).
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
    let mut guard = ExitGuard {
        pid: pid.clone(),
        reason: None,
    };
    // Combinators rather than an `async` block: an async block would keep
    // `future` twice in the task (as a captured variable and as the awaited
    // value), doubling the task's size.
    let task = tokio::spawn(AssertUnwindSafe(future).catch_unwind().map(move |result| {
        guard.completed(match result {
            Ok(reason) => reason,
            Err(payload) => ExitReason::from_panic(&*payload),
        });
    }));
    // `set` fails only if already set, and nothing else sets it.
    let _ = pid.inner.abort.set(task.abort_handle());
    if pid.inner.killed.load(Ordering::Acquire) {
        // Killed between creation and here: the abort handle was not there yet.
        task.abort();
    }
    pid
}
