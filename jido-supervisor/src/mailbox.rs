//! [`Mailbox`]: the sending side of a process's unbounded mailbox, and
//! request/reply calls over it.

use std::fmt;

use tokio::sync::oneshot;

use crate::CallError;

/// The sending side of a process's mailbox. Unbounded, like an Erlang
/// mailbox; it allocates nothing until a message waits in it.
pub(crate) struct Mailbox<R> {
    sender: flume::Sender<R>,
}

impl<R> Clone for Mailbox<R> {
    fn clone(&self) -> Self {
        Mailbox {
            sender: self.sender.clone(),
        }
    }
}

impl<R> fmt::Debug for Mailbox<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailbox")
            .field("queued", &self.sender.len())
            .finish()
    }
}

/// A new mailbox and the receiving end its process reads.
pub(crate) fn mailbox<R>() -> (Mailbox<R>, flume::Receiver<R>) {
    let (sender, receiver) = flume::unbounded();
    (Mailbox { sender }, receiver)
}

impl<R> Mailbox<R> {
    /// Sends the request `make` builds around a reply channel and waits for
    /// the reply (a `GenServer.call`). Fails with [`CallError::Exited`] if the
    /// process ends before replying.
    pub(crate) async fn call<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> R,
    ) -> Result<T, CallError> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(make(reply))
            .map_err(|_| CallError::Exited)?;
        answer.await.map_err(|_| CallError::Exited)
    }
}
