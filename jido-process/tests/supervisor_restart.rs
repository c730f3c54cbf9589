//! What a supervisor does when a child ends: strategies, restart types,
//! `{shutdown, term}`, the intensity window, failed restarts retried.

mod common;

use std::time::Duration;

use jido_process::{
    ChildStatus, ExitReason, Pid, Restart, RestartIntensity, Strategy, Supervisor, SupervisorEvent,
    SupervisorExit, SupervisorSpec, Term,
};
use jido_testkit::{
    ScriptedChildren, ScriptedWorker, SupervisorEvents, WorkerCommand, WorkerStart,
};

async fn start(spec: SupervisorSpec<()>) -> Supervisor<()> {
    spec.start(()).await.unwrap()
}

fn pids(supervisor: &Supervisor<()>) -> Vec<Option<Pid>> {
    supervisor
        .which_children()
        .into_iter()
        .map(|c| c.pid)
        .collect()
}

/// Kills child `name` and waits until its supervisor has handled it: the
/// next call through a child reference is answered by whatever runs then.
async fn crash(supervisor: &Supervisor<()>, name: &str) -> usize {
    supervisor.whereis(name).unwrap().kill();
    supervisor
        .child_ref::<ScriptedWorker>(name)
        .call(WorkerCommand::Ping)
        .await
        .unwrap()
}

#[tokio::test]
async fn one_for_one_restarts_only_the_child_that_ended() {
    let children = ScriptedChildren::new();
    let (observer, mut events) = SupervisorEvents::channel();
    let supervisor = SupervisorSpec::new()
        .child(children.spec("a"))
        .child(children.spec("b"))
        .child(children.spec("c"))
        .start_observed((), observer)
        .await
        .unwrap();
    let before = pids(&supervisor);
    children.journal().take();

    assert_eq!(
        crash(&supervisor, "b").await,
        2,
        "a new incarnation answers"
    );

    let after = pids(&supervisor);
    assert_eq!((&after[0], &after[2]), (&before[0], &before[2]));
    assert_ne!(after[1], before[1]);
    assert_eq!(children.journal().take(), ["start b"]);
    assert_eq!(
        events.recv().await.unwrap(),
        SupervisorEvent::ChildRestarted {
            child: "b".into(),
            reason: ExitReason::Killed
        }
    );
}

#[tokio::test]
async fn one_for_all_terminates_the_others_last_first_then_starts_all_in_order() {
    let children = ScriptedChildren::new();
    let supervisor = start(
        SupervisorSpec::new()
            .strategy(Strategy::OneForAll)
            .child(children.spec("a"))
            .child(children.spec("b"))
            .child(children.spec("c")),
    )
    .await;
    let before = pids(&supervisor);
    children.journal().take();

    crash(&supervisor, "b").await;

    assert_eq!(
        children.journal().take(),
        [
            "stop c shutdown",
            "stop a shutdown",
            "start a",
            "start b",
            "start c"
        ]
    );
    let after = pids(&supervisor);
    assert!(before.iter().zip(&after).all(|(old, new)| old != new));
}

#[tokio::test]
async fn rest_for_one_restarts_the_child_and_those_started_after_it() {
    let children = ScriptedChildren::new();
    let supervisor = start(
        SupervisorSpec::new()
            .strategy(Strategy::RestForOne)
            .child(children.spec("a"))
            .child(children.spec("b"))
            .child(children.spec("c")),
    )
    .await;
    let before = pids(&supervisor);
    children.journal().take();

    crash(&supervisor, "b").await;

    assert_eq!(
        children.journal().take(),
        ["stop c shutdown", "start b", "start c"]
    );
    let after = pids(&supervisor);
    assert_eq!(after[0], before[0]);
    assert_ne!(after[1], before[1]);
    assert_ne!(after[2], before[2]);
}

#[tokio::test]
async fn temporary_siblings_terminated_by_a_strategy_are_forgotten() {
    let children = ScriptedChildren::new();
    let supervisor = start(
        SupervisorSpec::new()
            .strategy(Strategy::OneForAll)
            .child(children.spec("a"))
            .child(children.spec("temp").restart(Restart::Temporary)),
    )
    .await;

    crash(&supervisor, "a").await;

    let names: Vec<String> = supervisor
        .which_children()
        .into_iter()
        .map(|c| c.name.to_string())
        .collect();
    assert_eq!(names, ["a"]);
}

/// Ends child `name` with `reason` through a request (the worker stops
/// itself), and reports whether the supervisor restarted it.
async fn restarted_after(restart: Restart, reason: ExitReason) -> bool {
    let children = ScriptedChildren::new();
    let supervisor = start(SupervisorSpec::new().child(children.spec("w").restart(restart))).await;
    let worker = supervisor.child_ref::<ScriptedWorker>("w");
    let pid = worker.pid().unwrap();
    worker
        .call(WorkerCommand::Stop(reason.clone()))
        .await
        .unwrap();
    assert_eq!(pid.wait().await, reason);
    // Either a new incarnation answers, or the child is stopped for good.
    match worker.call(WorkerCommand::Ping).await {
        Ok(incarnation) => {
            assert_eq!(incarnation, 2);
            true
        }
        Err(error) => {
            let listed = supervisor.which_children();
            if restart == Restart::Temporary {
                // A temporary child's spec is forgotten with it.
                assert_eq!(error.to_string(), "no child named w");
                assert!(listed.is_empty());
            } else {
                assert_eq!(error.to_string(), "child w is not running");
                assert_eq!(listed[0].status, ChildStatus::Stopped);
            }
            false
        }
    }
}

#[tokio::test]
async fn restart_types_follow_otp() {
    let shutdown_term = ExitReason::shutdown_with("user closed the tab");
    let error = ExitReason::error("bug");
    // permanent: always
    for reason in [
        ExitReason::Normal,
        ExitReason::Shutdown,
        shutdown_term.clone(),
        error.clone(),
    ] {
        assert!(
            restarted_after(Restart::Permanent, reason.clone()).await,
            "permanent after {reason}"
        );
    }
    // transient: only after an abnormal exit; {shutdown, term} is normal
    for reason in [
        ExitReason::Normal,
        ExitReason::Shutdown,
        shutdown_term.clone(),
    ] {
        assert!(
            !restarted_after(Restart::Transient, reason.clone()).await,
            "transient after {reason}"
        );
    }
    assert!(restarted_after(Restart::Transient, error.clone()).await);
    // temporary: never
    for reason in [ExitReason::Normal, error] {
        assert!(
            !restarted_after(Restart::Temporary, reason.clone()).await,
            "temporary after {reason}"
        );
    }
}

#[tokio::test]
async fn exit_with_a_chosen_reason_is_what_the_supervisor_sees() {
    let children = ScriptedChildren::new();
    let (observer, mut events) = SupervisorEvents::channel();
    let supervisor = SupervisorSpec::new()
        .child(children.spec("w").restart(Restart::Transient))
        .start_observed((), observer)
        .await
        .unwrap();
    let worker = supervisor.child_ref::<ScriptedWorker>("w");

    // {shutdown, term}: a normal exit, not restarted.
    let pid = worker.pid().unwrap();
    pid.exit(ExitReason::shutdown_with("done"));
    pid.wait().await;
    assert!(worker.call(WorkerCommand::Ping).await.is_err());

    // A chosen error: restarted.
    supervisor.restart_child("w").await.unwrap();
    worker.pid().unwrap().exit(ExitReason::error("bad input"));
    assert_eq!(worker.call(WorkerCommand::Ping).await.unwrap(), 3);
    assert_eq!(
        events.recv().await.unwrap(),
        SupervisorEvent::ChildRestarted {
            child: "w".into(),
            reason: ExitReason::error("bad input")
        }
    );
}

#[tokio::test]
async fn a_panicking_worker_is_restarted_with_the_panic_as_reason() {
    let children = ScriptedChildren::new();
    let (observer, mut events) = SupervisorEvents::channel();
    let supervisor = SupervisorSpec::new()
        .child(children.spec("w"))
        .start_observed((), observer)
        .await
        .unwrap();
    let worker = supervisor.child_ref::<ScriptedWorker>("w");
    assert!(
        worker
            .call(WorkerCommand::Panic("probe w panics".into()))
            .await
            .is_err()
    );
    assert_eq!(worker.call(WorkerCommand::Ping).await.unwrap(), 2);
    assert_eq!(
        events.recv().await.unwrap(),
        SupervisorEvent::ChildRestarted {
            child: "w".into(),
            reason: ExitReason::Panic("probe w panics".into())
        }
    );
}

#[tokio::test(start_paused = true)]
async fn past_the_intensity_the_supervisor_terminates_its_children_and_exits_with_shutdown() {
    let children = ScriptedChildren::new();
    let supervisor = start(
        SupervisorSpec::new()
            .child(children.spec("a"))
            .child(children.spec("b")),
    )
    .await;
    for expected in 2..=4 {
        assert_eq!(crash(&supervisor, "b").await, expected);
        tokio::time::advance(Duration::from_secs(1)).await;
    }
    children.journal().take();
    let a = supervisor.whereis("a").unwrap();

    supervisor.whereis("b").unwrap().kill();
    let reason = supervisor.pid().wait().await;

    // OTP exits with `shutdown`; the term says why.
    assert!(reason.is_shutdown());
    assert_eq!(
        SupervisorExit::of(&reason),
        Some(&SupervisorExit::ReachedMaxRestartIntensity {
            child: "b".into(),
            reason: ExitReason::Killed
        })
    );
    assert_eq!(children.journal().take(), ["stop a shutdown"]);
    assert!(!a.is_alive());
}

// Issue 8, item 11: OTP keeps restarts with `R >= Now - Period`, so a restart
// exactly one period old still counts; one extra restart used to be allowed.
#[tokio::test(start_paused = true)]
async fn a_restart_exactly_one_period_old_still_counts() {
    let children = ScriptedChildren::new();
    let supervisor = start(
        SupervisorSpec::new()
            .intensity(RestartIntensity::new(1, Duration::from_secs(5)).unwrap())
            .child(children.spec("w")),
    )
    .await;
    crash(&supervisor, "w").await;
    tokio::time::advance(Duration::from_secs(5)).await;

    supervisor.whereis("w").unwrap().kill();

    assert!(SupervisorExit::of(&supervisor.pid().wait().await).is_some());
}

#[tokio::test(start_paused = true)]
async fn a_restart_older_than_the_period_is_forgotten() {
    let children = ScriptedChildren::new();
    let supervisor = start(
        SupervisorSpec::new()
            .intensity(RestartIntensity::new(1, Duration::from_secs(5)).unwrap())
            .child(children.spec("w")),
    )
    .await;
    crash(&supervisor, "w").await;
    tokio::time::advance(Duration::from_secs(5) + Duration::from_millis(1)).await;

    assert_eq!(crash(&supervisor, "w").await, 3);
    assert!(supervisor.is_alive());
}

#[tokio::test]
async fn a_failed_restart_is_retried_and_the_child_is_restarting_meanwhile() {
    let children = ScriptedChildren::new();
    let (observer, mut events) = SupervisorEvents::channel();
    let supervisor = SupervisorSpec::new()
        .intensity(RestartIntensity::new(10, Duration::from_secs(5)).unwrap())
        .child(children.spec("w"))
        .start_observed((), observer)
        .await
        .unwrap();
    children.plan(
        "w",
        [
            WorkerStart::Fail(Term::msg("port busy")),
            WorkerStart::Fail(Term::msg("port busy")),
        ],
    );

    // A call made now waits through both failures for the third start.
    assert_eq!(crash(&supervisor, "w").await, 2);

    let seen: Vec<SupervisorEvent> = std::iter::from_fn(|| events.try_recv().ok()).collect();
    assert_eq!(
        seen,
        [
            SupervisorEvent::RestartFailed {
                child: "w".into(),
                error: Term::msg("port busy")
            },
            SupervisorEvent::RestartFailed {
                child: "w".into(),
                error: Term::msg("port busy")
            },
            SupervisorEvent::ChildRestarted {
                child: "w".into(),
                reason: ExitReason::Killed
            },
        ]
    );
    assert_eq!(
        children.journal().take()[1..],
        ["fail w", "fail w", "start w"]
    );
}

#[tokio::test]
async fn failed_restarts_count_against_the_intensity() {
    let children = ScriptedChildren::new();
    let supervisor = start(
        SupervisorSpec::new()
            .intensity(RestartIntensity::new(3, Duration::from_secs(5)).unwrap())
            .child(children.spec("w")),
    )
    .await;
    children.plan(
        "w",
        std::iter::repeat_n(WorkerStart::Fail(Term::msg("broken")), 10),
    );
    let starts_before = children.starts("w");

    supervisor.whereis("w").unwrap().kill();
    let reason = supervisor.pid().wait().await;

    // Three tries (each a restart), then the fourth is one too many.
    assert_eq!(children.starts("w") - starts_before, 3);
    assert!(matches!(
        SupervisorExit::of(&reason),
        Some(SupervisorExit::ReachedMaxRestartIntensity { .. })
    ));
}

#[tokio::test]
async fn a_child_seen_restarting_by_an_observer_is_listed_as_restarting() {
    let children = ScriptedChildren::new();
    let supervisor_slot = std::sync::Arc::new(std::sync::OnceLock::<Supervisor<()>>::new());
    let statuses = std::sync::Arc::new(parking_lot::Mutex::new(Vec::new()));
    struct Watch {
        supervisor: std::sync::Arc<std::sync::OnceLock<Supervisor<()>>>,
        statuses: std::sync::Arc<parking_lot::Mutex<Vec<ChildStatus>>>,
    }
    impl jido_process::Observer for Watch {
        fn observe(&self, event: SupervisorEvent) {
            if let (SupervisorEvent::RestartFailed { .. }, Some(supervisor)) =
                (event, self.supervisor.get())
            {
                let child = &supervisor.which_children()[0];
                assert_eq!(child.pid, None);
                self.statuses.lock().push(child.status);
            }
        }
    }
    let supervisor = SupervisorSpec::new()
        .child(children.spec("w"))
        .start_observed(
            (),
            std::sync::Arc::new(Watch {
                supervisor: supervisor_slot.clone(),
                statuses: statuses.clone(),
            }),
        )
        .await
        .unwrap();
    let _ = supervisor_slot.set(supervisor.clone());
    children.plan("w", [WorkerStart::Fail(Term::msg("once"))]);

    crash(&supervisor, "w").await;

    assert_eq!(*statuses.lock(), [ChildStatus::Restarting]);
}
