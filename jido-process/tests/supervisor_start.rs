//! Starting a supervisor: order, failures (what was started is terminated
//! before the error returns), `ignore`, panics, spec validation, and a
//! dropped start.

mod common;

use std::time::Duration;

use common::probe::{Plan, Probes};
use futures_util::FutureExt;
use jido_process::{
    AutoShutdown, ChildKind, ChildSpec, ChildStatus, ExitReason, Restart, Shutdown, SpecError,
    StartPanicked, SupervisorError, SupervisorSpec, Term,
};

#[tokio::test]
async fn children_start_in_order_and_are_listed_in_order() {
    let probes = Probes::new();
    let supervisor = SupervisorSpec::new()
        .child(probes.spec("a"))
        .child(probes.spec("b"))
        .child(probes.spec("c"))
        .start(())
        .await
        .unwrap();

    assert_eq!(probes.log.take(), ["start a", "start b", "start c"]);
    let children = supervisor.which_children();
    let names: Vec<&str> = children.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert!(children.iter().all(|c| c.status == ChildStatus::Running
        && c.pid.as_ref().is_some_and(|p| p.is_alive())
        && c.kind == ChildKind::Worker));
    let counts = supervisor.count_children();
    assert_eq!(
        (
            counts.specs,
            counts.active,
            counts.workers,
            counts.supervisors
        ),
        (3, 3, 3, 0)
    );

    assert_eq!(supervisor.stop().await, ExitReason::Shutdown);
    assert_eq!(
        probes.log.take(),
        ["stop c shutdown", "stop b shutdown", "stop a shutdown"]
    );
}

// Issue 8, item 6: a failed start used to return while the children it had
// started were still alive. As in OTP, they are terminated (by their
// shutdown policies, last first) before the error returns.
#[tokio::test]
async fn a_failed_start_terminates_what_it_started_before_it_returns() {
    let probes = Probes::new();
    probes.plan("c", [Plan::Fail("no API key")]);
    let spec = SupervisorSpec::new()
        .child(probes.spec("a"))
        .child(probes.spec("b"))
        .child(probes.spec("c"));

    let error = spec.start(()).await.unwrap_err();

    assert_eq!(
        error,
        SupervisorError::StartFailed {
            name: "c".into(),
            reason: Term::msg("no API key")
        }
    );
    assert_eq!(
        probes.log.take(),
        [
            "start a",
            "start b",
            "fail c",
            "stop b shutdown",
            "stop a shutdown"
        ]
    );
    // An immediate retry starts cleanly.
    let supervisor = spec.start(()).await.unwrap();
    assert_eq!(supervisor.count_children().active, 3);
}

#[tokio::test]
async fn a_panicking_start_is_a_start_failure() {
    let probes = Probes::new();
    probes.plan("b", [Plan::Panic]);
    let error = SupervisorSpec::new()
        .child(probes.spec("a"))
        .child(probes.spec("b"))
        .start(())
        .await
        .unwrap_err();
    let SupervisorError::StartFailed { name, reason } = error else {
        panic!("expected StartFailed, got {error:?}");
    };
    assert_eq!(name, "b");
    assert_eq!(
        reason
            .downcast_ref::<StartPanicked>()
            .map(|p| p.message.as_str()),
        Some("start of b panics")
    );
    assert_eq!(probes.log.take(), ["start a", "stop a shutdown"]);
}

#[tokio::test]
async fn a_child_that_ignores_its_start_is_kept_stopped_unless_temporary() {
    let probes = Probes::new();
    probes.plan("kept", [Plan::Ignore]);
    probes.plan("gone", [Plan::Ignore]);
    let supervisor = SupervisorSpec::new()
        .child(probes.spec("kept"))
        .child(probes.spec("gone").restart(Restart::Temporary))
        .child(probes.spec("runs"))
        .start(())
        .await
        .unwrap();

    let children = supervisor.which_children();
    assert_eq!(children.len(), 2);
    assert_eq!(
        (children[0].name.as_str(), children[0].status),
        ("kept", ChildStatus::Stopped)
    );
    assert_eq!(children[0].pid, None);
    assert_eq!(
        (children[1].name.as_str(), children[1].status),
        ("runs", ChildStatus::Running)
    );

    // The ignored child can be started later.
    assert!(supervisor.restart_child("kept").await.unwrap().is_some());
    assert_eq!(supervisor.count_children().active, 2);
}

#[tokio::test]
async fn specs_that_cannot_work_are_refused_before_anything_starts() {
    let probes = Probes::new();
    let permanent_significant = SupervisorSpec::<()>::new()
        .auto_shutdown(AutoShutdown::AnySignificant)
        .child(probes.spec("agent").significant(true));
    assert_eq!(
        permanent_significant.start(()).await.unwrap_err(),
        SupervisorError::InvalidSpec(SpecError::SignificantPermanent {
            name: "agent".into()
        })
    );
    let without_auto_shutdown = SupervisorSpec::<()>::new().child(
        probes
            .spec("agent")
            .restart(Restart::Transient)
            .significant(true),
    );
    assert_eq!(
        without_auto_shutdown.start(()).await.unwrap_err(),
        SupervisorError::InvalidSpec(SpecError::SignificantWithoutAutoShutdown {
            name: "agent".into()
        })
    );
    assert_eq!(probes.starts(), 0);
}

#[tokio::test]
async fn replacing_a_child_keeps_its_place_in_the_start_order() {
    let probes = Probes::new();
    let spec = SupervisorSpec::<()>::new()
        .child(probes.spec("a"))
        .child(probes.spec("b"))
        .child(probes.spec("a").restart(Restart::Transient))
        .without_child("b")
        .child(probes.spec("c"));
    let names: Vec<&str> = spec.children().iter().map(|c| c.name().as_str()).collect();
    assert_eq!(names, ["a", "c"]);
    assert_eq!(spec.children()[0].restart_type(), Restart::Transient);
    assert_eq!(spec.validate(), Ok(()));
}

#[tokio::test(start_paused = true)]
async fn a_start_dropped_while_it_cleans_up_kills_what_it_started() {
    let probes = Probes::new();
    probes.plan("b", [Plan::Fail("nope")]);
    // `a` ignores stop requests: the failed start waits 5 s before killing it.
    let spec = SupervisorSpec::new()
        .child(probes.stubborn("a"))
        .child(probes.spec("b"));
    let mut start = Box::pin(spec.start(()));
    assert!(start.as_mut().now_or_never().is_none());
    assert_eq!(probes.log.take(), ["start a", "fail b"]);
    assert_eq!(
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks(),
        1
    );

    // `a` is the only process the start holds: dropping the start kills it.
    drop(start);
    // Nothing is left running: the runtime has no task but this one.
    for _ in 0..3 {
        tokio::task::yield_now().await;
    }
    assert_eq!(
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks(),
        0,
        "a child outlived its dropped start"
    );
}

#[tokio::test]
async fn a_task_child_runs_its_future_with_its_own_pid() {
    let supervisor = SupervisorSpec::new()
        .child(
            ChildSpec::task("job", |_: &(), me| async move {
                me.stop_requested().await;
                me.stop_reason()
            })
            .shutdown(Shutdown::Timeout(Duration::from_secs(1))),
        )
        .start(())
        .await
        .unwrap();
    let pid = supervisor.whereis("job").unwrap();
    assert!(pid.is_alive());

    assert_eq!(supervisor.stop().await, ExitReason::Shutdown);
    // The task saw the stop request and ended with the reason it chose.
    assert_eq!(pid.wait().await, ExitReason::Shutdown);
}
