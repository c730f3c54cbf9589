//! Reaching a child by name across restarts: calls wait for a restart
//! within their timeout; typed errors otherwise.

mod common;

use std::time::Duration;

use jido_process::{
    CallError, ChildSpec, ExitReason, Restart, RestartIntensity, Shutdown, Strategy, Supervisor,
    SupervisorSpec, Term,
};
use jido_testkit::{ScriptedChildren, ScriptedWorker, WorkerCommand, WorkerStart};

#[tokio::test]
async fn a_call_during_a_restart_waits_for_the_new_incarnation() {
    let children = ScriptedChildren::new();
    let supervisor = SupervisorSpec::new()
        .intensity(RestartIntensity::new(10, Duration::from_secs(5)).unwrap())
        .child(children.spec("w"))
        .start(())
        .await
        .unwrap();
    let worker = supervisor.child_ref::<ScriptedWorker>("w");
    children.plan(
        "w",
        [
            WorkerStart::Fail(Term::msg("not yet")),
            WorkerStart::Fail(Term::msg("not yet")),
        ],
    );

    // Dead, not yet handled by the supervisor, two failed restarts ahead.
    worker.pid().unwrap().kill();
    assert_eq!(worker.call(WorkerCommand::Ping).await, Ok(2));
}

#[tokio::test(start_paused = true)]
async fn a_slow_restart_is_waited_for_within_the_timeout_only() {
    let children = ScriptedChildren::new();
    // one-for-all with a sibling that ignores stop requests: every restart
    // of `w` waits 5 s for `stubborn` to be killed.
    let supervisor = SupervisorSpec::new()
        .strategy(Strategy::OneForAll)
        .child(children.spec("w"))
        .child(children.stubborn_spec("stubborn"))
        .start(())
        .await
        .unwrap();
    let patient = supervisor.child_ref::<ScriptedWorker>("w");
    let hasty = supervisor
        .child_ref::<ScriptedWorker>("w")
        .with_timeout(Duration::from_secs(1));

    supervisor.whereis("w").unwrap().kill();
    assert_eq!(
        hasty.call(WorkerCommand::Ping).await,
        Err(CallError::Timeout {
            after: Duration::from_secs(1)
        })
    );
    assert_eq!(patient.call(WorkerCommand::Ping).await, Ok(2));
}

#[tokio::test(start_paused = true)]
async fn a_slow_reply_times_out() {
    let children = ScriptedChildren::new();
    let supervisor = SupervisorSpec::new()
        .child(children.spec("w"))
        .start(())
        .await
        .unwrap();
    let worker = supervisor.child_ref::<ScriptedWorker>("w");
    assert_eq!(
        worker
            .call(WorkerCommand::Sleep(Duration::from_secs(6)))
            .await,
        Err(CallError::Timeout {
            after: Duration::from_secs(5)
        })
    );
}

#[tokio::test]
async fn a_worker_that_dies_while_handling_a_call_says_why() {
    let children = ScriptedChildren::new();
    let supervisor = SupervisorSpec::new()
        .child(children.spec("w").restart(Restart::Temporary))
        .start(())
        .await
        .unwrap();
    assert_eq!(
        supervisor
            .child_ref::<ScriptedWorker>("w")
            .call(WorkerCommand::Panic("probe w panics".into()))
            .await,
        Err(CallError::Exited {
            reason: Some(ExitReason::Panic("probe w panics".into()))
        })
    );
}

#[tokio::test]
async fn typed_errors_say_what_is_wrong() {
    let children = ScriptedChildren::new();
    let supervisor: Supervisor<()> = SupervisorSpec::new()
        .child(children.spec("w").restart(Restart::Transient))
        .child(ChildSpec::task("task", |_: &(), me| async move {
            me.stop_requested().await;
            me.stop_reason()
        }))
        .start(())
        .await
        .unwrap();

    assert_eq!(
        supervisor
            .child_ref::<ScriptedWorker>("nope")
            .call(WorkerCommand::Ping)
            .await,
        Err(CallError::NoSuchChild {
            name: "nope".into()
        })
    );
    assert!(matches!(
        supervisor
            .child_ref::<ScriptedWorker>("task")
            .call(WorkerCommand::Ping)
            .await,
        Err(CallError::WrongType { .. })
    ));
    let worker = supervisor.child_ref::<ScriptedWorker>("w");
    worker
        .call(WorkerCommand::Stop(ExitReason::Normal))
        .await
        .unwrap();
    assert_eq!(
        worker.call(WorkerCommand::Ping).await,
        Err(CallError::NotRunning { name: "w".into() })
    );
    assert_eq!(
        worker.cast(WorkerCommand::Ping),
        Err(CallError::NotRunning { name: "w".into() })
    );

    supervisor.stop().await;
    assert_eq!(
        worker.call(WorkerCommand::Ping).await,
        Err(CallError::SupervisorDown { name: "w".into() })
    );
}

#[tokio::test]
async fn a_cast_reaches_the_running_incarnation() {
    let children = ScriptedChildren::new();
    let supervisor = SupervisorSpec::new()
        .child(
            children
                .spec("w")
                .restart(Restart::Transient)
                .shutdown(Shutdown::BrutalKill),
        )
        .start(())
        .await
        .unwrap();
    let worker = supervisor.child_ref::<ScriptedWorker>("w");
    let pid = worker.pid().unwrap();
    worker
        .cast(WorkerCommand::Stop(ExitReason::Normal))
        .unwrap();
    assert_eq!(pid.wait().await, ExitReason::Normal);
}

/// Issue 24: a cast while the child is being restarted says so — not
/// `NotRunning`, which is for a child that will not run again unless asked.
#[tokio::test]
async fn a_cast_during_a_restart_says_the_child_is_restarting() {
    let children = ScriptedChildren::new();
    let supervisor = SupervisorSpec::new()
        .child(children.spec("w"))
        .start(())
        .await
        .unwrap();
    let worker = supervisor.child_ref::<ScriptedWorker>("w");
    children.plan("w", [WorkerStart::Fail(Term::msg("not yet"))]);
    // Dead, its restart not yet made (and its first one fails).
    worker.pid().unwrap().kill();
    assert_eq!(
        worker.cast(WorkerCommand::Ping),
        Err(CallError::Restarting { name: "w".into() })
    );
    assert!(matches!(
        worker.addr(),
        Err(CallError::Restarting { .. }) | Ok(_)
    ));
    // The call waits the restarts out.
    assert_eq!(worker.call(WorkerCommand::Ping).await, Ok(2));
}

/// Issue 24: a call waiting through restarts that the supervisor then gives
/// up on (its restart intensity reached) says so.
#[tokio::test]
async fn a_call_waiting_through_restarts_the_supervisor_gives_up_on_says_so() {
    let children = ScriptedChildren::new();
    let supervisor = SupervisorSpec::new()
        .intensity(RestartIntensity::new(2, Duration::from_secs(60)).unwrap())
        .child(children.spec("w"))
        .start(())
        .await
        .unwrap();
    let worker = supervisor.child_ref::<ScriptedWorker>("w");
    children.plan(
        "w",
        (0..8).map(|_| WorkerStart::Fail(Term::msg("never again"))),
    );
    worker.pid().unwrap().kill();
    assert_eq!(
        worker.call(WorkerCommand::Ping).await,
        Err(CallError::GaveUp { name: "w".into() })
    );
    // And so does every call after, once the supervisor has ended.
    supervisor.pid().wait().await;
    assert_eq!(
        worker.cast(WorkerCommand::Ping),
        Err(CallError::GaveUp { name: "w".into() })
    );
}
