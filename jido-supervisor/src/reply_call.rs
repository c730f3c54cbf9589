//! [`call_for_reply`]: a call whose answer comes back on a oneshot carried
//! in the request — how [`StateRef`](crate::StateRef) and
//! [`ManagerRef`](crate::ManagerRef) get typed replies from one worker.

use jido_process::{CallError, ChildRef, Worker};
use tokio::sync::oneshot;

/// Calls `child` with the request `make` builds around a reply sender, and
/// waits for what the worker sends on it.
pub(crate) async fn call_for_reply<W: Worker, T>(
    child: &ChildRef<W>,
    make: impl FnOnce(oneshot::Sender<T>) -> W::Request,
) -> Result<T, CallError> {
    child.call_with(make).await
}
