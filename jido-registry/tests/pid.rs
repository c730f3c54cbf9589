//! `Pid`, `spawn` and `spawn_with_pid`: exit reasons, `wait`, `kill`, and
//! exit monitors.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::{forever, gated};
use futures_util::FutureExt;
use jido_registry::{ExitReason, Pid, spawn, spawn_with_pid};
use parking_lot::Mutex;

/// The reasons a monitor was called with, in call order.
type Calls = Arc<Mutex<Vec<ExitReason>>>;

/// Installs a monitor on `pid` that records each call into the returned list.
fn record(pid: &Pid) -> Calls {
    let calls = Calls::default();
    let sink = Arc::clone(&calls);
    pid.monitor(move |_, reason| sink.lock().push(reason.clone()));
    calls
}

#[tokio::test]
async fn the_returned_reason_is_the_exit_reason() {
    for reason in [
        ExitReason::Normal,
        ExitReason::Shutdown,
        ExitReason::error("disk full"),
    ] {
        let expected = reason.clone();
        let pid = spawn(async move { reason });
        assert_eq!(pid.wait().await, expected);
        assert_eq!(pid.exit_reason(), Some(expected));
        assert!(!pid.is_alive());
    }
}

#[tokio::test]
async fn a_panic_becomes_a_panic_reason_with_its_message() {
    let literal = spawn(async { panic!("static message") });
    let formatted = spawn(async {
        let n = 42;
        panic!("formatted {n}")
    });
    let opaque = spawn(async { std::panic::panic_any(7_u8) });

    assert_eq!(
        literal.wait().await,
        ExitReason::Panic("static message".into())
    );
    assert_eq!(
        formatted.wait().await,
        ExitReason::Panic("formatted 42".into())
    );
    assert!(matches!(opaque.wait().await, ExitReason::Panic(_)));
}

#[tokio::test]
async fn a_killed_process_is_dead_at_once_and_exits_killed() {
    let polled = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&polled);
    let pid = spawn(async move {
        flag.store(true, Ordering::SeqCst);
        std::future::pending::<ExitReason>().await
    });
    tokio::task::yield_now().await;
    assert!(polled.load(Ordering::SeqCst));
    assert!(pid.is_alive());

    pid.kill();

    assert!(!pid.is_alive());
    assert_eq!(pid.wait().await, ExitReason::Killed);
    assert_eq!(pid.exit_reason(), Some(ExitReason::Killed));
}

#[tokio::test]
async fn a_process_killed_before_its_first_poll_never_runs() {
    let polled = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&polled);
    // Killed by itself while being created: before the task even exists.
    let pid = spawn_with_pid(move |me| {
        me.kill();
        async move {
            flag.store(true, Ordering::SeqCst);
            ExitReason::Normal
        }
    });

    assert_eq!(pid.wait().await, ExitReason::Killed);
    assert!(!polled.load(Ordering::SeqCst));
}

#[tokio::test]
async fn a_process_is_alive_until_it_ends() {
    let (pid, go) = gated(|| ExitReason::Normal);
    tokio::task::yield_now().await;

    assert!(pid.is_alive());
    assert_eq!(pid.exit_reason(), None);
    assert_eq!(pid.wait().now_or_never(), None);

    go.send(()).unwrap();
    assert_eq!(pid.wait().await, ExitReason::Normal);
    assert!(!pid.is_alive());
}

#[tokio::test]
async fn killing_an_ended_process_keeps_its_reason() {
    let pid = spawn(async { ExitReason::error("first") });
    pid.wait().await;

    pid.kill();
    pid.kill();

    assert_eq!(pid.wait().await, ExitReason::error("first"));
    assert_eq!(pid.exit_reason(), Some(ExitReason::error("first")));
}

#[tokio::test]
async fn wait_after_the_exit_returns_at_once() {
    let pid = spawn(async { ExitReason::Shutdown });
    assert_eq!(pid.wait().await, ExitReason::Shutdown);

    for _ in 0..3 {
        assert_eq!(pid.wait().now_or_never(), Some(ExitReason::Shutdown));
    }
    assert_eq!(
        pid.clone().wait().now_or_never(),
        Some(ExitReason::Shutdown)
    );
}

#[tokio::test]
async fn a_cancelled_wait_does_not_stop_later_ones() {
    let (pid, go) = gated(|| ExitReason::Normal);
    assert_eq!(pid.wait().now_or_never(), None);

    go.send(()).unwrap();

    assert_eq!(pid.wait().await, ExitReason::Normal);
}

#[tokio::test]
async fn every_waiter_gets_the_reason() {
    let (pid, go) = gated(|| ExitReason::error("bye"));
    let waiters: Vec<_> = (0..50)
        .map(|_| {
            let pid = pid.clone();
            tokio::spawn(async move { pid.wait().await })
        })
        .collect();
    // Let every waiter park on the process before it ends.
    for _ in 0..3 {
        tokio::task::yield_now().await;
    }

    go.send(()).unwrap();

    for waiter in waiters {
        assert_eq!(waiter.await.unwrap(), ExitReason::error("bye"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_waiter_on_every_thread_gets_the_reason() {
    let (pid, go) = gated(|| panic!("threads"));
    let barrier = Arc::new(tokio::sync::Barrier::new(101));
    let waiters: Vec<_> = (0..100)
        .map(|_| {
            let (pid, barrier) = (pid.clone(), Arc::clone(&barrier));
            tokio::spawn(async move {
                barrier.wait().await;
                pid.wait().await
            })
        })
        .collect();
    barrier.wait().await;

    go.send(()).unwrap();

    for waiter in waiters {
        assert_eq!(waiter.await.unwrap(), ExitReason::Panic("threads".into()));
    }
}

#[tokio::test]
async fn a_monitor_runs_exactly_once_with_the_reason() {
    let (pid, go) = gated(|| ExitReason::error("oops"));
    let calls = record(&pid);
    let seen_pid = Arc::new(Mutex::new(None));
    let slot = Arc::clone(&seen_pid);
    pid.monitor(move |pid, _| *slot.lock() = Some(pid.clone()));
    assert!(calls.lock().is_empty());

    go.send(()).unwrap();
    pid.wait().await;
    pid.kill();
    pid.wait().await;

    assert_eq!(*calls.lock(), vec![ExitReason::error("oops")]);
    assert_eq!(seen_pid.lock().as_ref(), Some(&pid));
}

#[tokio::test]
async fn monitors_run_before_waiters_are_released_and_see_the_reason() {
    let (pid, go) = gated(|| ExitReason::Shutdown);
    let seen = Arc::new(Mutex::new(None));
    let slot = Arc::clone(&seen);
    pid.monitor(move |pid, reason| {
        // What an observer sees while the monitor runs.
        *slot.lock() = Some((
            reason.clone(),
            pid.exit_reason(),
            pid.is_alive(),
            pid.wait().now_or_never().is_some(),
        ));
    });

    go.send(()).unwrap();
    pid.wait().await;

    let (reason, recorded, alive, released) = seen.lock().clone().unwrap();
    assert_eq!(reason, ExitReason::Shutdown);
    assert_eq!(
        recorded,
        Some(ExitReason::Shutdown),
        "reason not yet recorded"
    );
    assert!(!alive);
    assert!(!released, "waiters were released before the monitors ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wait_returns_only_after_the_monitors_ran_on_another_thread() {
    for _ in 0..50 {
        let (pid, go) = gated(|| panic!("crash"));
        let ran = Arc::new(AtomicUsize::new(0));
        for _ in 0..5 {
            let ran = Arc::clone(&ran);
            pid.monitor(move |_, _| {
                ran.fetch_add(1, Ordering::SeqCst);
            });
        }
        let waiter = {
            let (pid, ran) = (pid.clone(), Arc::clone(&ran));
            tokio::spawn(async move {
                pid.wait().await;
                ran.load(Ordering::SeqCst)
            })
        };

        go.send(()).unwrap();

        assert_eq!(waiter.await.unwrap(), 5);
    }
}

#[tokio::test]
async fn a_monitor_on_an_ended_process_runs_at_once() {
    let pid = spawn(async { ExitReason::error("gone") });
    pid.wait().await;

    let calls = record(&pid);

    assert_eq!(*calls.lock(), vec![ExitReason::error("gone")]);
}

#[tokio::test]
async fn a_monitor_on_a_killed_process_runs_at_once_and_only_once() {
    let pid = forever();
    pid.kill();

    let calls = record(&pid);
    assert_eq!(*calls.lock(), vec![ExitReason::Killed]);

    assert_eq!(pid.wait().await, ExitReason::Killed);
    assert_eq!(calls.lock().len(), 1);
}

#[tokio::test]
async fn demonitor_removes_a_monitor_before_it_runs() {
    let (pid, go) = gated(|| ExitReason::Normal);
    let removed = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&removed);
    let monitor = pid.monitor(move |_, _| flag.store(true, Ordering::SeqCst));
    let kept = record(&pid);

    assert!(pid.demonitor(monitor));
    assert!(!pid.demonitor(monitor));
    go.send(()).unwrap();
    pid.wait().await;

    assert!(!removed.load(Ordering::SeqCst));
    assert_eq!(*kept.lock(), vec![ExitReason::Normal]);
}

#[tokio::test]
async fn demonitor_after_the_exit_is_false() {
    let pid = spawn(async { ExitReason::Normal });
    let monitor = pid.monitor(|_, _| {});
    pid.wait().await;

    assert!(!pid.demonitor(monitor));
}

// The clock is paused so that a waiter left hanging fails the test at once
// (the runtime is idle, so the timeout fires) instead of hanging it.
#[tokio::test(start_paused = true)]
async fn a_panicking_monitor_does_not_stop_the_others_nor_the_waiters() {
    let (pid, go) = gated(|| ExitReason::error("cause"));
    let before = record(&pid);
    pid.monitor(|_, _| panic!("bad monitor"));
    let after = record(&pid);
    let waiter = {
        let pid = pid.clone();
        tokio::spawn(async move { pid.wait().await })
    };

    go.send(()).unwrap();

    let waited = tokio::time::timeout(Duration::from_secs(60), waiter).await;
    assert_eq!(
        waited.expect("the waiter was left hanging").unwrap(),
        ExitReason::error("cause")
    );
    assert_eq!(pid.wait().now_or_never(), Some(ExitReason::error("cause")));
    assert_eq!(*before.lock(), vec![ExitReason::error("cause")]);
    assert_eq!(*after.lock(), vec![ExitReason::error("cause")]);
}

#[tokio::test]
async fn spawn_with_pid_hands_the_process_its_own_pid() {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let pid = spawn_with_pid(move |me| async move {
        tx.send(me).unwrap();
        ExitReason::Normal
    });

    assert_eq!(rx.await.unwrap(), pid);
    pid.wait().await;
}

#[tokio::test]
#[expect(
    clippy::mutable_key_type,
    reason = "a Pid hashes and compares its immutable id only"
)]
async fn pids_are_equal_only_to_their_clones() {
    let (a, b) = (forever(), forever());

    assert_eq!(a, a.clone());
    assert_ne!(a, b);
    assert_ne!(a.id(), b.id());
    let set: HashSet<Pid> = [a.clone(), a.clone(), b.clone()].into_iter().collect();
    assert_eq!(set.len(), 2);
    assert_eq!(a.to_string(), format!("<0.{}.0>", a.id()));
    assert_eq!(format!("{a:?}"), format!("Pid<0.{}.0>", a.id()));
    a.kill();
    b.kill();
}

#[tokio::test]
async fn a_stop_request_reaches_the_process_and_it_ends_with_its_own_reason() {
    let pid = spawn_with_pid(|me| async move {
        me.stop_requested().await;
        ExitReason::Shutdown
    });
    tokio::task::yield_now().await;
    assert!(pid.is_alive());
    assert!(!pid.is_stop_requested());
    pid.request_stop();
    assert!(pid.is_stop_requested());
    assert_eq!(pid.wait().await, ExitReason::Shutdown);
}

#[tokio::test(start_paused = true)]
async fn a_stop_request_does_not_end_a_process_that_ignores_it_nor_release_waiters() {
    let pid = spawn(std::future::pending());
    pid.request_stop();
    // `wait` is woken by the stop request too, but must keep waiting.
    let waited = tokio::time::timeout(std::time::Duration::from_secs(60), pid.wait()).await;
    assert!(waited.is_err(), "wait returned for a live process");
    assert!(pid.is_alive());
    pid.kill();
    assert_eq!(pid.wait().await, ExitReason::Killed);
}

#[tokio::test]
async fn stop_requested_completes_at_once_when_asked_before() {
    let pid = spawn(std::future::pending());
    pid.request_stop();
    // Already requested: no wake-up needed.
    tokio::time::timeout(std::time::Duration::from_secs(1), pid.stop_requested())
        .await
        .expect("stop_requested did not complete");
    pid.kill();
}
