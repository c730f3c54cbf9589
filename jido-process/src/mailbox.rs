//! [`Mailbox`] and [`Inbox`]: a process's unbounded mailbox.
//!
//! A mutex-guarded queue and the one receiver's waker: no allocation until
//! a message waits, and a waiting `recv` is a borrow of the inbox and
//! nothing else (a mailbox has one receiver, so one waker slot is enough; no
//! list of waiters). It is about a third of the memory of a general-purpose
//! channel, which matters with several mailboxes per idle session, and it
//! keeps the idle future of every process that waits on one small.

use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;

struct Channel<R> {
    queue: Mutex<Queue<R>>,
}

struct Queue<R> {
    messages: VecDeque<R>,
    senders: usize,
    receiver_alive: bool,
    /// The receiver's waker while it waits: woken by a message, or when the
    /// last sender leaves.
    waiting: Option<Waker>,
}

/// The sending side of a process's mailbox. Unbounded, like an Erlang
/// mailbox. Cheap to clone.
///
/// ```
/// use jido_process::mailbox;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let (mailbox, mut inbox) = mailbox();
/// mailbox.send("hello").unwrap();
/// drop(mailbox);
/// assert_eq!(inbox.recv().await, Some("hello"));
/// assert_eq!(inbox.recv().await, None); // every sender is gone
/// # }
/// ```
pub struct Mailbox<R> {
    shared: Arc<Channel<R>>,
}

/// The receiving side, read by the process that owns the mailbox.
pub struct Inbox<R> {
    shared: Arc<Channel<R>>,
}

/// A new mailbox and the inbox its process reads.
pub fn mailbox<R>() -> (Mailbox<R>, Inbox<R>) {
    let shared = Arc::new(Channel {
        queue: Mutex::new(Queue {
            messages: VecDeque::new(),
            senders: 1,
            receiver_alive: true,
            waiting: None,
        }),
    });
    (
        Mailbox {
            shared: Arc::clone(&shared),
        },
        Inbox { shared },
    )
}

impl<R> Mailbox<R> {
    /// Queues `message`; gives it back if the receiver is gone.
    pub fn send(&self, message: R) -> Result<(), R> {
        let waiting = {
            let mut queue = self.shared.queue.lock();
            if !queue.receiver_alive {
                return Err(message);
            }
            queue.messages.push_back(message);
            queue.waiting.take()
        };
        // Woken outside the lock: the receiver takes it at once.
        if let Some(waker) = waiting {
            waker.wake();
        }
        Ok(())
    }

    /// How many senders (this one and its clones) exist: a leak shows here.
    pub fn sender_count(&self) -> usize {
        self.shared.queue.lock().senders
    }

    /// `true` once the receiver is gone.
    pub fn is_closed(&self) -> bool {
        !self.shared.queue.lock().receiver_alive
    }
}

impl<R> Inbox<R> {
    /// The next message, oldest first; `None` once every sender is gone and
    /// the queue is empty. Cancel-safe: a dropped `recv` loses no message.
    pub async fn recv(&mut self) -> Option<R> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// [`recv`](Self::recv) as a poll: the next message, `Ready(None)` once
    /// every sender is gone, or `Pending` with `cx`'s waker kept until a
    /// message comes (the check and the registration happen under one lock,
    /// so no message slips between them).
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<R>> {
        let mut queue = self.shared.queue.lock();
        if let Some(message) = queue.messages.pop_front() {
            return Poll::Ready(Some(message));
        }
        if queue.senders == 0 {
            return Poll::Ready(None);
        }
        match &mut queue.waiting {
            Some(waker) => waker.clone_from(cx.waker()),
            slot @ None => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<R> Inbox<R> {
    /// The next message if one is waiting, without waiting.
    pub fn try_recv(&mut self) -> Option<R> {
        self.shared.queue.lock().messages.pop_front()
    }

    /// How many messages wait.
    pub fn len(&self) -> usize {
        self.shared.queue.lock().messages.len()
    }

    /// `true` when no message waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<R> Clone for Mailbox<R> {
    fn clone(&self) -> Self {
        self.shared.queue.lock().senders += 1;
        Mailbox {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<R> Drop for Mailbox<R> {
    fn drop(&mut self) {
        let waiting = {
            let mut queue = self.shared.queue.lock();
            queue.senders -= 1;
            if queue.senders == 0 {
                queue.waiting.take()
            } else {
                None
            }
        };
        if let Some(waker) = waiting {
            waker.wake();
        }
    }
}

impl<R> Drop for Inbox<R> {
    fn drop(&mut self) {
        // Dropped outside the lock: dropping a request drops its reply
        // channel, which tells the caller the process exited.
        let (unread, waker) = {
            let mut queue = self.shared.queue.lock();
            queue.receiver_alive = false;
            (std::mem::take(&mut queue.messages), queue.waiting.take())
        };
        drop((unread, waker));
    }
}

impl<R> fmt::Debug for Inbox<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inbox")
            .field("queued", &self.len())
            .finish()
    }
}

impl<R> fmt::Debug for Mailbox<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailbox")
            .field("queued", &self.shared.queue.lock().messages.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;

    use super::*;

    #[tokio::test]
    async fn messages_arrive_in_order_and_the_inbox_ends_with_the_last_sender() {
        let (mailbox, mut inbox) = mailbox();
        let second = mailbox.clone();
        mailbox.send(1).unwrap();
        second.send(2).unwrap();
        drop(mailbox);
        assert_eq!(inbox.recv().await, Some(1));
        assert_eq!(inbox.recv().await, Some(2));
        drop(second);
        assert_eq!(inbox.recv().await, None);
    }

    #[tokio::test]
    async fn a_waiting_receiver_is_woken_by_a_send() {
        let (mailbox, mut inbox) = mailbox();
        let receiver = tokio::spawn(async move { inbox.recv().await });
        tokio::task::yield_now().await;
        mailbox.send("hello").unwrap();
        assert_eq!(receiver.await.unwrap(), Some("hello"));
    }

    #[tokio::test]
    async fn a_waiting_receiver_is_woken_when_the_last_sender_leaves() {
        let (mailbox, mut inbox) = mailbox::<u8>();
        let second = mailbox.clone();
        let receiver = tokio::spawn(async move { inbox.recv().await });
        tokio::task::yield_now().await;
        drop(mailbox);
        tokio::task::yield_now().await;
        assert!(!receiver.is_finished(), "one sender is still there");
        drop(second);
        assert_eq!(receiver.await.unwrap(), None);
    }

    #[tokio::test]
    async fn sending_to_a_dropped_inbox_gives_the_message_back() {
        let (mailbox, inbox) = mailbox();
        drop(inbox);
        assert_eq!(mailbox.send(7), Err(7));
    }

    #[tokio::test]
    async fn a_cancelled_recv_loses_nothing() {
        let (mailbox, mut inbox) = mailbox();
        {
            let recv = inbox.recv();
            tokio::pin!(recv);
            assert!(recv.as_mut().now_or_never().is_none());
            mailbox.send(5).unwrap();
        }
        assert_eq!(inbox.recv().await, Some(5));
    }
}
