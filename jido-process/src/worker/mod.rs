//! [`Worker`]: the one small trait a process with a mailbox implements, its
//! [`Context`], and [`spawn_worker`].

mod addr;
mod run;

use std::future::Future;

use crate::{ExitReason, Pid};

pub use addr::{Addr, DEFAULT_CALL_TIMEOUT};
pub use run::spawn_worker;

/// A process that owns some state and handles requests from its mailbox one
/// at a time: the analogue of a `GenServer`, in the spirit of tower's
/// `Service` (one method, everything else built around it).
///
/// [`handle`](Worker::handle) answers one request; a [`call`](Addr::call)
/// gets the reply, a [`cast`](Addr::cast) does not wait for it. The worker
/// runs until asked to stop (its supervisor's shutdown policy), until it
/// asks to stop itself ([`Context::stop`]), or until it panics. On a
/// requested stop, [`terminate`](Worker::terminate) runs first.
///
/// ```
/// use jido_process::{spawn_worker, Context, Worker};
///
/// /// Counts what it is told to add.
/// struct Counter(u64);
///
/// impl Worker for Counter {
///     type Request = u64;
///     type Reply = u64;
///
///     async fn handle(&mut self, add: u64, _ctx: &mut Context) -> u64 {
///         self.0 += add;
///         self.0
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let counter = spawn_worker(Counter(0));
/// counter.cast(2).unwrap();
/// assert_eq!(counter.call(3).await.unwrap(), 5);
/// # }
/// ```
pub trait Worker: Send + Sized + 'static {
    /// What the worker is asked.
    type Request: Send + 'static;
    /// What it answers.
    type Reply: Send + 'static;

    /// Handles one request. Requests are handled one at a time, in the order
    /// they arrived.
    fn handle(
        &mut self,
        request: Self::Request,
        ctx: &mut Context,
    ) -> impl Future<Output = Self::Reply> + Send;

    /// Runs when the worker stops because it was asked to, or asked to
    /// itself, before the process ends with `reason`. Not run after a panic
    /// or a kill. The default does nothing.
    fn terminate(&mut self, reason: &ExitReason) -> impl Future<Output = ()> + Send {
        let _ = reason;
        async {}
    }
}

/// What a [`Worker`] sees of its own process while it handles a request.
#[derive(Debug)]
pub struct Context {
    pid: Pid,
    /// Boxed: set once at most, and every worker's task carries the field.
    stop: Option<Box<ExitReason>>,
}

impl Context {
    pub(crate) fn new(pid: Pid) -> Self {
        Context { pid, stop: None }
    }

    /// The worker's own process.
    pub fn pid(&self) -> &Pid {
        &self.pid
    }

    /// Ends the worker with `reason` once the current request is answered
    /// (Erlang's `{stop, Reason, Reply, State}`).
    pub fn stop(&mut self, reason: ExitReason) {
        self.stop = Some(Box::new(reason));
    }

    pub(crate) fn take_stop(&mut self) -> Option<ExitReason> {
        self.stop.take().map(|reason| *reason)
    }
}
