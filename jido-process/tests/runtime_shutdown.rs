//! Dropping a runtime that still runs processes: each records
//! `ExitReason::Killed`, sends its `Down`s, and leaves the process registry.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::{Token, forever, token};
use futures_util::FutureExt;
use jido_process::{Down, ExitReason, Inbox, Pid, ProcessRegistry, mailbox, spawn};
use parking_lot::Mutex;
use tokio::runtime::{Builder, Runtime};

/// What the test keeps to inspect once the runtime is gone.
struct Survivors {
    names: ProcessRegistry<&'static str, Token>,
    running: Pid,
    unpolled: Pid,
    unpolled_ran: Arc<AtomicBool>,
    finished: Pid,
    values: Vec<Token>,
    downs: Mutex<Inbox<Down>>,
}

/// On `runtime`, starts a process that is running (and registered under two
/// keys, and monitored), one that ended normally (its key already freed), and
/// one spawned but never polled.
fn populate(runtime: &Runtime) -> Survivors {
    let names = ProcessRegistry::new();
    let values = vec![token(), token(), token()];
    let (watcher, downs) = mailbox();
    let (running, finished) = runtime.block_on(async {
        let running = forever();
        names.register("a", &running, values[0].clone()).unwrap();
        names.register("b", &running, values[1].clone()).unwrap();
        running.monitor(&watcher, ());
        let finished = spawn(async { ExitReason::Normal });
        names.register("c", &finished, values[2].clone()).unwrap();
        assert_eq!(finished.wait().await, ExitReason::Normal);
        tokio::task::yield_now().await;
        assert!(running.is_alive());
        (running, finished)
    });
    let unpolled_ran = Arc::new(AtomicBool::new(false));
    let unpolled = {
        let _entered = runtime.enter();
        let flag = Arc::clone(&unpolled_ran);
        spawn(async move {
            flag.store(true, Ordering::SeqCst);
            std::future::pending().await
        })
    };
    Survivors {
        names,
        running,
        unpolled,
        unpolled_ran,
        finished,
        values,
        downs: Mutex::new(downs),
    }
}

fn check_after_drop(s: &Survivors) {
    assert_eq!(s.running.exit_reason(), Some(ExitReason::Killed));
    assert_eq!(s.running.wait().now_or_never(), Some(ExitReason::Killed));
    let mut downs = s.downs.lock();
    assert_eq!(downs.try_recv().map(|d| d.reason), Some(ExitReason::Killed));
    assert!(downs.try_recv().is_none());
    assert_eq!(s.unpolled.wait().now_or_never(), Some(ExitReason::Killed));
    assert_eq!(s.finished.exit_reason(), Some(ExitReason::Normal));
    assert!(s.names.is_empty());
    for value in &s.values {
        assert_eq!(
            Arc::strong_count(value),
            1,
            "a registry entry was not removed"
        );
    }
}

#[test]
fn dropping_a_current_thread_runtime_kills_its_processes_and_frees_their_keys() {
    let runtime = Builder::new_current_thread().build().unwrap();
    let survivors = populate(&runtime);
    assert!(survivors.unpolled.is_alive());

    drop(runtime);

    check_after_drop(&survivors);
    assert!(!survivors.unpolled_ran.load(Ordering::SeqCst));
}

#[test]
fn dropping_a_multi_thread_runtime_kills_its_processes_and_frees_their_keys() {
    let runtime = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let survivors = populate(&runtime);

    drop(runtime);

    check_after_drop(&survivors);
}
