//! `Pid`, `spawn` and `spawn_with_pid`: exit reasons, `wait`, `kill`,
//! `exit`, stop requests, and monitors (`Down` messages).

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::{drain, forever, gated, watch};
use futures_util::FutureExt;
use jido_process::{Down, ExitReason, Pid, Term, mailbox, spawn, spawn_with_pid};
use parking_lot::Mutex;

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
async fn a_monitor_sends_exactly_one_down_with_the_reason_and_the_pid() {
    let (pid, go) = gated(|| ExitReason::error("oops"));
    let mut downs = watch(&pid);
    assert!(drain(&mut downs).is_empty());

    go.send(()).unwrap();
    pid.wait().await;
    pid.kill();
    pid.wait().await;

    let got = drain(&mut downs);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].reason, ExitReason::error("oops"));
    assert_eq!(got[0].pid, pid);
}

#[tokio::test]
async fn the_down_is_queued_before_waiters_are_released() {
    let (pid, go) = gated(|| ExitReason::Shutdown);
    let mut downs = watch(&pid);

    go.send(()).unwrap();
    pid.wait().await;

    // `wait` returned: the Down is already there, no need to wait for it.
    let down = downs
        .try_recv()
        .expect("the Down was queued before wait returned");
    assert_eq!(down.reason, ExitReason::Shutdown);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wait_returns_only_after_every_down_was_sent_from_another_thread() {
    for _ in 0..50 {
        let (pid, go) = gated(|| panic!("crash"));
        let (watcher, mut downs) = mailbox::<Down<usize>>();
        for n in 0..5 {
            pid.monitor(&watcher, n);
        }
        let waiter = {
            let pid = pid.clone();
            tokio::spawn(async move { pid.wait().await })
        };

        go.send(()).unwrap();

        waiter.await.unwrap();
        let mut tags: Vec<usize> = drain(&mut downs).into_iter().map(|d| d.tag).collect();
        tags.sort_unstable();
        assert_eq!(tags, vec![0, 1, 2, 3, 4]);
    }
}

#[tokio::test]
async fn a_monitor_on_an_ended_process_sends_its_down_at_once() {
    let pid = spawn(async { ExitReason::error("gone") });
    pid.wait().await;

    let mut downs = watch(&pid);

    let got = drain(&mut downs);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].reason, ExitReason::error("gone"));
}

#[tokio::test]
async fn a_monitor_on_a_killed_process_sends_one_down_at_once() {
    let pid = forever();
    pid.kill();

    let mut downs = watch(&pid);
    assert_eq!(drain(&mut downs).len(), 1);

    assert_eq!(pid.wait().await, ExitReason::Killed);
    assert!(drain(&mut downs).is_empty(), "a second Down");
}

// Issue 8, item 8: monitoring a process that has already ended used to run
// the caller's hook inline, so a caller holding a lock the hook takes
// deadlocked. Now nothing but a mailbox send happens: the caller's lock is
// never touched, and the Down waits in the mailbox.
#[tokio::test]
async fn monitoring_an_ended_process_under_the_callers_lock_runs_none_of_its_code() {
    let pid = spawn(async { ExitReason::Normal });
    pid.wait().await;
    let (watcher, mut downs) = mailbox::<Down<&str>>();
    let callers_lock = Mutex::new(Vec::<&str>::new());

    {
        let mut held = callers_lock.lock();
        // Would deadlock if monitor ran code that takes `callers_lock`.
        pid.monitor(&watcher, "tag");
        held.push("still here");
    }

    assert_eq!(downs.try_recv().map(|d| d.tag), Some("tag"));
    assert_eq!(*callers_lock.lock(), vec!["still here"]);
}

#[tokio::test]
async fn demonitor_removes_a_monitor_before_it_fires() {
    let (pid, go) = gated(|| ExitReason::Normal);
    let (watcher, mut downs) = mailbox::<Down<&str>>();
    let removed = pid.monitor(&watcher, "removed");
    let kept = pid.monitor(&watcher, "kept");

    assert!(pid.demonitor(removed));
    assert!(!pid.demonitor(removed));
    go.send(()).unwrap();
    pid.wait().await;

    let got = drain(&mut downs);
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].tag, got[0].monitor), ("kept", kept));
}

#[tokio::test]
async fn demonitor_after_the_exit_is_false() {
    let pid = spawn(async { ExitReason::Normal });
    let (watcher, _downs) = mailbox::<Down>();
    let monitor = pid.monitor(&watcher, ());
    pid.wait().await;

    assert!(!pid.demonitor(monitor));
}

// Issue 8, item 7: monitor references used to be numbered per process, so
// a reference returned by one process's `monitor` named a monitor of any
// other process too. Now a reference names one monitor of one process.
#[tokio::test]
async fn a_monitor_ref_of_one_process_cancels_nothing_on_another() {
    let (a, b) = (forever(), forever());
    let (watcher, mut downs) = mailbox::<Down<&str>>();
    let on_a = a.monitor(&watcher, "a");
    let on_b = b.monitor(&watcher, "b");
    assert_ne!(on_a, on_b);

    assert!(!b.demonitor(on_a), "b cancelled a's monitor");
    b.kill();
    b.wait().await;

    let got = drain(&mut downs);
    assert_eq!(got.len(), 1, "b's own monitor was removed");
    assert_eq!((got[0].tag, got[0].monitor), ("b", on_b));
    a.kill();
}

#[tokio::test]
async fn a_down_to_a_dropped_mailbox_is_dropped_quietly() {
    let (pid, go) = gated(|| ExitReason::Normal);
    let downs = watch(&pid);
    drop(downs);

    go.send(()).unwrap();

    assert_eq!(pid.wait().await, ExitReason::Normal);
}

#[tokio::test]
async fn exit_ends_a_process_with_the_chosen_reason_at_once() {
    let pid = forever();
    let mut downs = watch(&pid);

    pid.exit(ExitReason::error("bad input"));
    assert!(!pid.is_alive());
    // The first exit wins.
    pid.exit(ExitReason::Normal);
    pid.kill();

    assert_eq!(pid.wait().await, ExitReason::error("bad input"));
    assert_eq!(drain(&mut downs)[0].reason, ExitReason::error("bad input"));
}

#[tokio::test]
async fn exit_with_shutdown_and_a_term() {
    let pid = forever();
    pid.exit(ExitReason::shutdown_with("closed by the user"));
    let reason = pid.wait().await;
    assert!(!reason.is_abnormal());
    assert_eq!(reason.term(), Some(&Term::msg("closed by the user")));
}

#[tokio::test]
async fn exit_on_an_ended_process_keeps_its_reason() {
    let pid = spawn(async { ExitReason::Normal });
    pid.wait().await;
    pid.exit(ExitReason::error("late"));
    assert_eq!(pid.wait().await, ExitReason::Normal);
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
async fn a_stop_requested_with_a_term_asks_for_that_reason() {
    let pid = spawn_with_pid(|me| async move {
        me.stop_requested().await;
        me.stop_reason()
    });
    assert_eq!(pid.stop_reason(), ExitReason::Shutdown);
    pid.request_stop_with("user closed the tab");
    pid.request_stop_with("second term is ignored");
    assert_eq!(
        pid.wait().await,
        ExitReason::shutdown_with("user closed the tab")
    );
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
