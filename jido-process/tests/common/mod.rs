//! Helpers shared by the process runtime's integration tests.

// Each test crate uses a different subset of these helpers.
#![allow(dead_code)]

use std::sync::Arc;

use jido_process::{Down, ExitReason, Inbox, Pid, mailbox, spawn};
use tokio::sync::oneshot;

/// A value whose strong count tells whether a registry still holds a clone
/// of it (that is, whether the entry was really removed, not only hidden).
pub type Token = Arc<()>;

/// A new [`Token`].
pub fn token() -> Token {
    Arc::new(())
}

/// Spawns a process that waits for the returned sender to fire (or be
/// dropped), then ends with whatever `end` returns — or panics, if `end` does.
pub fn gated<F>(end: F) -> (Pid, oneshot::Sender<()>)
where
    F: FnOnce() -> ExitReason + Send + 'static,
{
    let (go, gate) = oneshot::channel();
    let pid = spawn(async move {
        let _ = gate.await;
        end()
    });
    (pid, go)
}

/// Spawns a process that never ends on its own.
pub fn forever() -> Pid {
    spawn(std::future::pending())
}

/// Monitors `pid` into a fresh mailbox and returns its inbox.
pub fn watch(pid: &Pid) -> Inbox<Down> {
    let (watcher, downs) = mailbox();
    pid.monitor(&watcher, ());
    downs
}

/// Every `Down` waiting in `downs`, without waiting.
pub fn drain<T>(downs: &mut Inbox<Down<T>>) -> Vec<Down<T>> {
    std::iter::from_fn(|| downs.try_recv()).collect()
}
