//! The loop a [`Worker`] runs in, and [`spawn_worker`].

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
    let pid = spawn_with_pid(|me| run(me, worker, inbox));
    Addr::new(pid, mailbox)
}

async fn run<W: Worker>(me: Pid, mut worker: W, mut inbox: Inbox<Envelope<W>>) -> ExitReason {
    let mut ctx = Context::new(me.clone());
    loop {
        let envelope = tokio::select! {
            biased;
            () = me.stop_requested() => {
                let reason = me.stop_reason();
                worker.terminate(&reason).await;
                return reason;
            }
            envelope = inbox.recv() => envelope,
        };
        match envelope {
            Some(Envelope::Call(request, reply)) => {
                let answer = worker.handle(request, &mut ctx).await;
                // A caller that gave up waiting dropped its receiver.
                let _ = reply.send(answer);
            }
            Some(Envelope::Cast(request)) => {
                worker.handle(request, &mut ctx).await;
            }
            None => return ExitReason::Normal,
        }
        if let Some(reason) = ctx.take_stop() {
            worker.terminate(&reason).await;
            return reason;
        }
    }
}
