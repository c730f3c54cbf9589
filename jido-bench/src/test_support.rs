//! Helpers for this crate's tests.

/// Held by tests that check ractor's global name registry, so that they do
/// not see each other's actors.
pub(crate) static RACTOR_NAMES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Waits (by yielding, a bounded number of times) until the runtime has
/// exactly `expected` live tasks, then asserts it. A task's count drops just
/// after its join handle is woken, on the worker that ran it, hence the
/// yields (to tokio and to the OS, so that the worker gets to run even on a
/// loaded machine).
pub(crate) async fn alive_tasks_settle_at(expected: usize) {
    let metrics = tokio::runtime::Handle::current().metrics();
    for _ in 0..1_000_000 {
        if metrics.num_alive_tasks() == expected {
            break;
        }
        tokio::task::yield_now().await;
        std::thread::yield_now();
    }
    assert_eq!(metrics.num_alive_tasks(), expected);
}
