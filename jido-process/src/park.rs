//! Processes that give their task up while idle ([`Parkable`],
//! [`spawn_parked`]): an idle process keeps its state and its mailbox, not
//! a parked tokio task (a task cell is the largest piece of an idle
//! process). Whatever would have woken its task — a message, a stop
//! request, a kill — spawns a new one on the same pid, which goes on where
//! the last left off. OTP's `hibernate`, without a delay.
//!
//! # Invariants
//!
//! Of a process's [`Parking`]:
//!
//! 1. At most one task runs the process: the state is either in a task
//!    (`Running`) or parked here (`Parked`), never both. A wake finding it
//!    parked takes it out and spawns a task with it; a wake finding it
//!    running only notes it (`woken`), and the task looks again before it
//!    parks.
//! 2. A process parks only after polling every source of its wake-ups
//!    with the parking's waker and finding none ready, with no wake noted
//!    since: whatever happens after that poll wakes the parking.
//! 3. A woken process that was killed meanwhile ([`Pid::exit`]) does not go
//!    on: its new task is aborted as it is recorded, or — running — it ends
//!    at its next look — at the top of its loop, and after a poll that
//!    found nothing (a kill that came during the poll found no waker
//!    registered, and its abort cannot stop a task that is running). Its
//!    tasks are numbered (`generation`, under the
//!    lock) so that the pid records the latest one's abort handle even if
//!    an earlier one is recorded late.
//! 4. A process parks only if something outside it will wake it when its
//!    runtime shuts down ([`Parkable::may_park`]: a supervisor, only with a
//!    child running — its end, when the runtime drops it, wakes the
//!    supervisor, whose new task is then dropped at once, and it ends
//!    `Killed` as a task dropped with its runtime does). Otherwise it waits
//!    in its task, as any process.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use parking_lot::Mutex;
use tokio::runtime::Handle;

use crate::pid::{Ended, spawn_parkable};
use crate::{ExitReason, Pid};

/// A process whose loop can park: a poll of what wakes it, and a step that
/// acts on it.
pub(crate) trait Parkable: Send + Sized + 'static {
    /// What woke it.
    type Next: Send;

    /// Its pid.
    fn pid(&self) -> &Pid;

    /// Polls every source of its wake-ups, registering `cx`'s waker with
    /// each when none is ready.
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Self::Next>;

    /// Whether it may give its task up now (invariant 4).
    fn may_park(&self) -> bool;

    /// Acts on `next`; `Some` is the reason the process ends with.
    fn step(
        &mut self,
        next: Self::Next,
    ) -> Pin<Box<dyn Future<Output = Option<ExitReason>> + Send + '_>>;
}

/// Where a process parks: its state while it has no task, and the waker
/// every source of its wake-ups holds meanwhile.
struct Parking<P> {
    runtime: Handle,
    state: Mutex<Slot<P>>,
}

/// What the parking's lock guards.
struct Slot<P> {
    state: State<P>,
    /// The generation of the process's latest task (invariant 3).
    generation: u64,
}

enum State<P> {
    /// A task runs the process; `woken` if a wake came since it last
    /// looked.
    Running { woken: bool },
    /// No task: the process's state, until a wake.
    Parked(P),
}

/// Spawns `process` on the current runtime as the task of its (reserved)
/// pid; it parks whenever it is idle.
///
/// # Panics
///
/// Like [`tokio::spawn`], outside a tokio runtime.
pub(crate) fn spawn_parked<P: Parkable>(process: P) {
    let parking = Arc::new(Parking {
        runtime: Handle::current(),
        state: Mutex::new(Slot {
            state: State::Running { woken: false },
            generation: 1,
        }),
    });
    let (runtime, pid) = (parking.runtime.clone(), process.pid().clone());
    spawn_parkable(&runtime, &pid, 1, run(process, parking));
}

/// A task of the process: steps while something is ready, then parks.
async fn run<P: Parkable>(mut process: P, parking: Arc<Parking<P>>) -> Ended {
    let waker = Waker::from(Arc::clone(&parking));
    loop {
        if process.pid().is_exiting() {
            // Killed while it ran: the reason recorded by `exit` wins.
            return Ended::Exited(ExitReason::Killed);
        }
        // Every source is polled with the parking's waker (invariant 2):
        // a process that may park is never woken in its task, it parks
        // instead of waiting.
        let polled = process.poll_next(&mut Context::from_waker(&waker));
        let next = match polled {
            Poll::Ready(next) => next,
            // Nothing would wake it at its runtime's end (invariant 4): it
            // waits in its task, its own waker registered instead.
            Poll::Pending if !process.may_park() => {
                std::future::poll_fn(|cx| process.poll_next(cx)).await
            }
            // Killed during the poll: the kill found no waker to wake yet
            // (or the abort found this task running, and it would end
            // parked): it ends here instead (invariant 3).
            Poll::Pending if process.pid().is_exiting() => {
                return Ended::Exited(ExitReason::Killed);
            }
            Poll::Pending => {
                let mut slot = parking.state.lock();
                if let State::Running { woken: true } = slot.state {
                    // Something came since the poll: look again.
                    slot.state = State::Running { woken: false };
                    continue;
                }
                slot.state = State::Parked(process);
                return Ended::Parked;
            }
        };
        if let Some(reason) = process.step(next).await {
            return Ended::Exited(reason);
        }
    }
}

impl<P: Parkable> Wake for Parking<P> {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let parked = {
            let mut slot = self.state.lock();
            match std::mem::replace(&mut slot.state, State::Running { woken: true }) {
                State::Parked(process) => {
                    slot.state = State::Running { woken: false };
                    slot.generation += 1;
                    Some((process, slot.generation))
                }
                State::Running { .. } => None,
            }
        };
        // Outside the lock (invariant 1: the state is the new task's now).
        if let Some((process, generation)) = parked {
            let pid = process.pid().clone();
            spawn_parkable(
                &self.runtime,
                &pid,
                generation,
                run(process, Arc::clone(self)),
            );
        }
    }
}
