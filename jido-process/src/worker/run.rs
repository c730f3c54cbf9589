//! The loop a [`Worker`] runs in, and [`spawn_worker`].
//!
//! An idle worker's task holds the worker, its [`Context`], its inbox and
//! one small poll of the stop flag and the mailbox: the loop runs in place
//! inside the task (an `async fn` taking the process by value would keep it
//! twice, as the argument and as the local it is moved into), and what it
//! does with a message is a boxed future of its own.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{self, Poll};

use crate::worker::addr::Envelope;
use crate::{Addr, Context, ExitReason, Inbox, Pid, Worker, mailbox, spawn_with_pid};

/// Spawns `worker` as a process on the current tokio runtime and returns its
/// address. The process ends when asked to stop (after
/// [`Worker::terminate`]), when the worker asks to ([`Context::stop`]), when
/// it panics, or when every [`Addr`] to it is gone (reason `normal`).
///
/// # Panics
///
/// Like [`tokio::spawn`], when called outside a tokio runtime.
pub fn spawn_worker<W: Worker>(worker: W) -> Addr<W> {
    let (mailbox, inbox) = mailbox();
    let pid = spawn_with_pid(|me| task(me, worker, inbox));
    Addr::new(pid, mailbox)
}

/// The future a worker's task runs.
fn task<W: Worker>(
    me: Pid,
    worker: W,
    inbox: Inbox<Envelope<W>>,
) -> impl Future<Output = ExitReason> + Send {
    let mut process = Process {
        ctx: Context::new(me),
        worker,
        inbox,
    };
    async move { process.run().await }
}

/// A running worker: what its task owns.
struct Process<W: Worker> {
    ctx: Context,
    worker: W,
    inbox: Inbox<Envelope<W>>,
}

/// What woke an idle worker.
enum Next<W: Worker> {
    Message(Envelope<W>),
    StopRequested,
    /// Every [`Addr`] is gone.
    Closed,
}

impl<W: Worker> Process<W> {
    async fn run(&mut self) -> ExitReason {
        loop {
            let next = poll_fn(|cx| self.poll_next(cx)).await;
            if let Some(reason) = self.step(next).await {
                return reason;
            }
        }
    }

    /// A stop request first, then the oldest message.
    fn poll_next(&mut self, cx: &mut task::Context<'_>) -> Poll<Next<W>> {
        if self.ctx.pid().poll_stop_requested(cx).is_ready() {
            return Poll::Ready(Next::StopRequested);
        }
        self.inbox.poll_recv(cx).map(|envelope| match envelope {
            Some(envelope) => Next::Message(envelope),
            None => Next::Closed,
        })
    }

    /// Acts on what woke the worker; `Some` is the reason its process ends
    /// with.
    ///
    /// Boxed, one small allocation per message: the loop then keeps room
    /// only for a pointer, not for the largest future the worker's
    /// [`handle`](Worker::handle) makes, so an idle worker's task stays in
    /// tokio's smallest cells however its handler is written.
    fn step(
        &mut self,
        next: Next<W>,
    ) -> Pin<Box<dyn Future<Output = Option<ExitReason>> + Send + '_>> {
        Box::pin(async move {
            let stop = match next {
                Next::Message(Envelope::Call(request, reply)) => {
                    let answer = self.worker.handle(request, &mut self.ctx).await;
                    // A caller that gave up waiting dropped its receiver.
                    let _ = reply.send(answer);
                    self.ctx.take_stop()?
                }
                Next::Message(Envelope::Cast(request)) => {
                    self.worker.handle(request, &mut self.ctx).await;
                    self.ctx.take_stop()?
                }
                Next::StopRequested => self.ctx.pid().stop_reason(),
                Next::Closed => return Some(ExitReason::Normal),
            };
            self.worker.terminate(&stop).await;
            Some(stop)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A worker holding 64 bytes, as the session's State does.
    struct Holds64([u64; 8]);

    impl Worker for Holds64 {
        type Request = String;
        type Reply = usize;

        async fn handle(&mut self, request: String, _ctx: &mut Context) -> usize {
            // A handler with a large future of its own: the loop boxes it.
            let big = [0u8; 512];
            tokio::task::yield_now().await;
            request.len() + big.len() + self.0.len()
        }
    }

    #[test]
    fn an_idle_workers_task_holds_little_more_than_the_worker() {
        let (_mailbox, inbox) = mailbox::<Envelope<Holds64>>();
        let future = task(Pid::reserve(), Holds64([0; 8]), inbox);
        // The worker (64 B), its context, inbox and loop: within 136 B, so
        // that with the 8-byte exit guard and tokio's ~104 B of task header
        // and trailer the task fits a 256-byte cell, whatever the handler.
        let size = std::mem::size_of_val(&future);
        assert!(size <= 136, "a worker's task future takes {size} B");
    }
}
