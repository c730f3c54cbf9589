//! [`Addr`]: how to reach a running [`Worker`].

use std::fmt;
use std::future::Future;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::{CallError, Mailbox, Pid, Worker};

/// How long a call waits for its reply unless told otherwise: 5 seconds,
/// as a `GenServer.call`.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// A request in a worker's mailbox.
pub(crate) enum Envelope<W: Worker> {
    Call(W::Request, oneshot::Sender<W::Reply>),
    Cast(W::Request),
}

/// The address of one running [`Worker`] process: its [`Pid`] and its
/// mailbox. Cheap to clone. It reaches this one process only; a
/// [`ChildRef`](crate::ChildRef) reaches whichever incarnation of a
/// supervised child runs now.
pub struct Addr<W: Worker> {
    pid: Pid,
    mailbox: Mailbox<Envelope<W>>,
}

impl<W: Worker> Addr<W> {
    pub(crate) fn new(pid: Pid, mailbox: Mailbox<Envelope<W>>) -> Self {
        Addr { pid, mailbox }
    }

    /// The worker's process.
    pub fn pid(&self) -> &Pid {
        &self.pid
    }

    /// Sends `request` and waits for the reply, at most
    /// [`DEFAULT_CALL_TIMEOUT`].
    ///
    /// ```
    /// use jido_process::{Context, Worker, spawn_worker};
    ///
    /// struct Counter(u64);
    ///
    /// enum Op { Add(u64), Get }
    ///
    /// impl Worker for Counter {
    ///     type Request = Op;
    ///     type Reply = u64;
    ///     async fn handle(&mut self, op: Op, _ctx: &mut Context) -> u64 {
    ///         if let Op::Add(n) = op { self.0 += n; }
    ///         self.0
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let counter = spawn_worker(Counter(0));
    /// counter.cast(Op::Add(2)).unwrap(); // no reply awaited
    /// assert_eq!(counter.call(Op::Add(3)).await.unwrap(), 5); // a mailbox keeps the order
    /// assert_eq!(counter.call(Op::Get).await.unwrap(), 5);
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`CallError::Timeout`] if no reply came in time (the request may
    /// still be handled later), [`CallError::Exited`] if the worker ended
    /// before replying.
    pub async fn call(&self, request: W::Request) -> Result<W::Reply, CallError> {
        self.call_timeout(request, DEFAULT_CALL_TIMEOUT).await
    }

    /// Like [`call`](Addr::call), waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// As [`call`](Addr::call).
    pub async fn call_timeout(
        &self,
        request: W::Request,
        timeout: Duration,
    ) -> Result<W::Reply, CallError> {
        let deadline = Instant::now().checked_add(timeout);
        self.call_until(request, deadline, timeout).await
    }

    /// Sends `request` without waiting for the reply (a `GenServer.cast`);
    /// see [`call`](Addr::call)'s example.
    ///
    /// # Errors
    ///
    /// [`CallError::Exited`] if the worker has already ended.
    pub fn cast(&self, request: W::Request) -> Result<(), CallError> {
        self.mailbox
            .send(Envelope::Cast(request))
            .map_err(|_| self.exited())
    }

    /// A call that gives up at `deadline` (`None`: never); `timeout` is what
    /// a [`CallError::Timeout`] reports.
    pub(crate) async fn call_until(
        &self,
        request: W::Request,
        deadline: Option<Instant>,
        timeout: Duration,
    ) -> Result<W::Reply, CallError> {
        let (reply, answer) = oneshot::channel();
        if self.mailbox.send(Envelope::Call(request, reply)).is_err() {
            return Err(self.exited());
        }
        match self.answer_until(answer, deadline, timeout).await {
            Ok(reply) => Ok(reply),
            Err(AnswerError::TimedOut(after)) => Err(CallError::Timeout { after }),
            // The worker dropped the request: it is ending. Say why, if it
            // finishes ending before the deadline.
            Err(AnswerError::Unanswered) => {
                let reason = match deadline {
                    Some(deadline) => tokio::time::timeout_at(deadline, self.pid.wait())
                        .await
                        .ok(),
                    None => Some(self.pid.wait().await),
                };
                Err(CallError::Exited { reason })
            }
        }
    }

    /// Sends `request` as a cast and waits until `deadline` for the answer
    /// on `answer`, which the request carries (its worker answers there,
    /// now or later). A reply sender dropped unanswered is
    /// [`CallError::Exited`] with the worker's exit reason if it has one.
    pub(crate) async fn cast_and_answer<T>(
        &self,
        request: W::Request,
        answer: oneshot::Receiver<T>,
        deadline: Option<Instant>,
        timeout: Duration,
    ) -> Result<T, CallError> {
        self.cast(request)?;
        match self.answer_until(answer, deadline, timeout).await {
            Ok(reply) => Ok(reply),
            Err(AnswerError::TimedOut(after)) => Err(CallError::Timeout { after }),
            Err(AnswerError::Unanswered) => Err(self.exited()),
        }
    }

    /// Waits for `answer` until `deadline`.
    async fn answer_until<T>(
        &self,
        mut answer: oneshot::Receiver<T>,
        deadline: Option<Instant>,
        timeout: Duration,
    ) -> Result<T, AnswerError> {
        // Most calls are answered as soon as the worker has run once: look
        // again after letting it run (one yield) before arming a timer,
        // which would cost more than the whole call.
        let early = match deadline {
            Some(_) => answered_after_a_yield(&mut answer).await,
            None => None,
        };
        let answer = match (early, deadline) {
            (Some(answer), _) => answer,
            (None, Some(deadline)) => match tokio::time::timeout_at(deadline, answer).await {
                Ok(answer) => answer,
                Err(_) => return Err(AnswerError::TimedOut(timeout)),
            },
            (None, None) => answer.await,
        };
        answer.map_err(|_| AnswerError::Unanswered)
    }

    fn exited(&self) -> CallError {
        CallError::Exited {
            reason: self.pid.exit_reason(),
        }
    }
}

/// Why no answer came.
enum AnswerError {
    /// The deadline passed (the timeout it reports).
    TimedOut(Duration),
    /// The answer's sender was dropped.
    Unanswered,
}

/// The answer if it is there at once or after one yield (the worker just
/// woken runs first on this thread, from tokio's LIFO slot, or meanwhile
/// on another); `None` if it is still to come.
async fn answered_after_a_yield<T>(
    answer: &mut oneshot::Receiver<T>,
) -> Option<Result<T, oneshot::error::RecvError>> {
    let mut yielded = false;
    std::future::poll_fn(|cx| match std::pin::Pin::new(&mut *answer).poll(cx) {
        std::task::Poll::Ready(answer) => std::task::Poll::Ready(Some(answer)),
        std::task::Poll::Pending if !yielded => {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
        std::task::Poll::Pending => std::task::Poll::Ready(None),
    })
    .await
}

impl<W: Worker> Clone for Addr<W> {
    fn clone(&self) -> Self {
        Addr {
            pid: self.pid.clone(),
            mailbox: self.mailbox.clone(),
        }
    }
}

impl<W: Worker> fmt::Debug for Addr<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Addr")
            .field("worker", &std::any::type_name::<W>())
            .field("pid", &self.pid)
            .finish()
    }
}
