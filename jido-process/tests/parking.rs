//! Issue 23: an idle supervisor has no task of its own. It parks with its
//! mailbox when idle, and whatever would have woken it — a child's end, a
//! command, a stop request, a kill — spawns a task on the same pid that
//! goes on where it left off. Each way of waking a parked supervisor, and
//! a runtime dropped while one is parked.

mod common;

use std::time::Duration;

use common::{drain, watch};
use jido_process::{ChildSpec, Down, ExitReason, Pid, Restart, Supervisor, SupervisorSpec, spawn};

fn alive_tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

/// Yields (current-thread runtime: every ready task runs) until `expected`
/// tasks are alive; fails after a thousand turns.
async fn tasks_settle_at(expected: usize) {
    for _ in 0..1000 {
        if alive_tasks() == expected {
            return;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(alive_tasks(), expected, "tasks did not settle");
}

/// How many rounds the racing tests run: `JIDO_PARKING_ROUNDS`, default
/// 200.
fn rounds() -> usize {
    std::env::var("JIDO_PARKING_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200)
}

/// Runs `setup` on a current-thread runtime, monitors the supervisor it
/// returns, drops the runtime: the supervisor must have ended `Killed`, its
/// monitor told.
fn ends_killed_with_its_runtime(setup: impl std::future::Future<Output = Supervisor<()>>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let (supervisor, mut downs) = runtime.block_on(async {
        let supervisor = setup.await;
        let downs = watch(supervisor.pid());
        (supervisor, downs)
    });
    drop(runtime);
    assert!(!supervisor.pid().is_alive());
    assert_eq!(supervisor.pid().exit_reason(), Some(ExitReason::Killed));
    let downs: Vec<Down> = drain(&mut downs);
    assert_eq!(downs.len(), 1, "the monitor fired once");
    assert_eq!(downs[0].reason, ExitReason::Killed);
}

/// A child that runs until asked to stop.
fn worker(name: &'static str) -> ChildSpec<()> {
    ChildSpec::task(name, |_: &(), me: Pid| async move {
        me.stop_requested().await;
        me.stop_reason()
    })
}

async fn two_children() -> Supervisor<()> {
    SupervisorSpec::new()
        .child(worker("a"))
        .child(worker("b"))
        .start(())
        .await
        .unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn an_idle_supervisor_has_no_task_and_wakes_for_a_childs_end() {
    let before = alive_tasks();
    let supervisor = two_children().await;
    // Its two children run; it does not.
    tasks_settle_at(before + 2).await;
    assert!(supervisor.pid().is_alive());

    // A child's end wakes it: the child is restarted, and it parks again.
    let a = supervisor.whereis("a").unwrap();
    a.exit(ExitReason::error("boom"));
    let mut restarted = None;
    for _ in 0..1000 {
        restarted = supervisor.whereis("a").filter(|pid| *pid != a);
        if restarted.is_some() {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(restarted.is_some(), "the child was not restarted");
    tasks_settle_at(before + 2).await;

    // A command wakes it too.
    let c = supervisor.start_child(worker("c")).await.unwrap().unwrap();
    assert!(c.is_alive());
    tasks_settle_at(before + 3).await;
    assert_eq!(supervisor.count_children().active, 3);
}

/// A supervisor of two children, parked, monitored into `downs`.
struct Parked {
    supervisor: Supervisor<()>,
    downs: jido_process::Inbox<Down>,
    children: [Pid; 2],
}

async fn parked() -> Parked {
    let before = alive_tasks();
    let supervisor = two_children().await;
    tasks_settle_at(before + 2).await;
    let downs = watch(supervisor.pid());
    let children = [
        supervisor.whereis("a").unwrap(),
        supervisor.whereis("b").unwrap(),
    ];
    Parked {
        supervisor,
        downs,
        children,
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_parked_supervisor_asked_to_stop_terminates_its_children_and_ends() {
    let before = alive_tasks();
    let Parked {
        supervisor,
        mut downs,
        children,
    } = parked().await;

    supervisor.pid().request_stop_with("done");
    assert_eq!(
        supervisor.pid().wait().await,
        ExitReason::shutdown_with("done")
    );
    assert_eq!(
        downs.recv().await.unwrap().reason,
        ExitReason::shutdown_with("done")
    );
    for child in children {
        assert_eq!(child.wait().await, ExitReason::Shutdown);
    }
    tasks_settle_at(before).await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_parked_supervisor_killed_ends_killed_and_takes_its_children() {
    let before = alive_tasks();
    let Parked {
        supervisor,
        mut downs,
        children,
    } = parked().await;

    supervisor.pid().exit(ExitReason::error("cut off"));
    assert!(!supervisor.pid().is_alive());
    assert_eq!(supervisor.pid().wait().await, ExitReason::error("cut off"));
    assert_eq!(
        downs.recv().await.unwrap().reason,
        ExitReason::error("cut off")
    );
    // Linked: killed with it.
    for child in children {
        assert_eq!(child.wait().await, ExitReason::Killed);
    }
    tasks_settle_at(before).await;
}

/// Many wake-ups racing one another on a multi-thread runtime: children
/// ending (and restarted), commands and lookups, then a stop; the
/// supervisor always answers, never runs twice (its invariants are checked
/// after every step in debug builds), and ends once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wake_ups_racing_each_other_never_lose_one() {
    let rounds = rounds();
    let supervisor = SupervisorSpec::new()
        .intensity(jido_process::RestartIntensity::new(u32::MAX, Duration::from_secs(1)).unwrap())
        .child(worker("a").restart(Restart::Permanent))
        .child(worker("b").restart(Restart::Permanent))
        .start(())
        .await
        .unwrap();
    for _ in 0..rounds {
        // The two children killed from other tasks while a command comes.
        let killers: Vec<_> = ["a", "b"]
            .into_iter()
            .filter_map(|name| supervisor.whereis(name))
            .map(|pid| {
                spawn(async move {
                    pid.kill();
                    ExitReason::Normal
                })
            })
            .collect();
        let started = supervisor.start_child(worker("x").restart(Restart::Temporary));
        let started = tokio::time::timeout(Duration::from_secs(10), started)
            .await
            .expect("a parked supervisor answers its commands");
        assert!(started.unwrap().is_some());
        for killer in killers {
            killer.wait().await;
        }
        let terminated =
            tokio::time::timeout(Duration::from_secs(10), supervisor.terminate_child("x"))
                .await
                .expect("a parked supervisor answers its commands");
        assert!(terminated.is_ok());
    }
    // Every end was seen: both children run again (the restarts come as
    // the supervisor handles the `Down`s; the time limit only guards
    // against hanging).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while ["a", "b"]
        .iter()
        .any(|name| !supervisor.whereis(name).is_some_and(|pid| pid.is_alive()))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "a child's end was lost"
        );
        tokio::task::yield_now().await;
    }
    supervisor.pid().request_stop();
    let ended = tokio::time::timeout(Duration::from_secs(10), supervisor.pid().wait())
        .await
        .expect("a parked supervisor stops when asked");
    assert_eq!(ended, ExitReason::Shutdown);
}

/// A runtime dropped while a supervisor is parked: its children's tasks
/// are dropped, their ends wake it, and it ends (`Killed`) with them, its
/// monitors told.
#[test]
fn a_runtime_dropped_under_a_parked_supervisor_ends_it() {
    ends_killed_with_its_runtime(async {
        let supervisor = two_children().await;
        tasks_settle_at(2).await;
        supervisor
    });
}

/// Review: a supervisor with no child running keeps its task — nothing
/// would wake it when its runtime shuts down — and a runtime dropped under
/// it ends it `Killed`, its monitors told, as before.
#[test]
fn a_supervisor_with_no_child_running_keeps_its_task_and_ends_with_its_runtime() {
    ends_killed_with_its_runtime(async {
        let supervisor = SupervisorSpec::<()>::new().start(()).await.unwrap();
        tasks_settle_at(1).await;
        // A child started, then ended: it parks, then keeps its task again.
        supervisor.start_child(worker("a")).await.unwrap();
        tasks_settle_at(1).await;
        supervisor.terminate_child("a").await.unwrap();
        tasks_settle_at(1).await;
        supervisor
    });
}

/// Review: kills and commands from threads outside the runtime (their
/// wake-ups spawn the supervisor's next task from there, where another
/// worker may run it before it is recorded): the kill always ends it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_from_outside_the_runtime_ends_a_supervisor_being_woken() {
    let rounds = rounds();
    for _ in 0..rounds {
        let supervisor = two_children().await;
        let handle = supervisor.clone();
        let runtime = tokio::runtime::Handle::current();
        let outside = std::thread::spawn(move || {
            // A command sent from here wakes the parked supervisor.
            let start = runtime.spawn({
                let handle = handle.clone();
                async move { handle.start_child(worker("x")).await }
            });
            handle.pid().kill();
            drop(start);
        });
        outside.join().unwrap();
        let ended = tokio::time::timeout(Duration::from_secs(10), supervisor.pid().wait())
            .await
            .expect("a killed supervisor ends");
        assert_eq!(ended, ExitReason::Killed);
    }
}
