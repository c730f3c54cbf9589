//! Starting a supervisor: order, failures (what was started is terminated
//! before the error returns), `ignore`, panics, spec validation, and a
//! dropped start.

mod common;

use std::time::Duration;

use futures_util::FutureExt;
use jido_process::{
    AutoShutdown, ChildKind, ChildSpec, ChildStatus, ExitReason, Restart, Shutdown, SpecError,
    StartPanicked, SupervisorError, SupervisorSpec, Term,
};
use jido_testkit::{ScriptedChildren, WorkerStart};

#[tokio::test]
async fn children_start_in_order_and_are_listed_in_order() {
    let children = ScriptedChildren::new();
    let supervisor = SupervisorSpec::new()
        .child(children.spec("a"))
        .child(children.spec("b"))
        .child(children.spec("c"))
        .start(())
        .await
        .unwrap();

    assert_eq!(children.journal().take(), ["start a", "start b", "start c"]);
    let listed = supervisor.which_children();
    let names: Vec<&str> = listed.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert!(listed.iter().all(|c| c.status == ChildStatus::Running
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
        children.journal().take(),
        ["stop c shutdown", "stop b shutdown", "stop a shutdown"]
    );
}

// Issue 8, item 6: a failed start used to return while the children it had
// started were still alive. As in OTP, they are terminated (by their
// shutdown policies, last first) before the error returns.
#[tokio::test]
async fn a_failed_start_terminates_what_it_started_before_it_returns() {
    let children = ScriptedChildren::new();
    children.plan("c", [WorkerStart::Fail(Term::msg("no API key"))]);
    let spec = SupervisorSpec::new()
        .child(children.spec("a"))
        .child(children.spec("b"))
        .child(children.spec("c"));

    let error = spec.start(()).await.unwrap_err();

    assert_eq!(
        error,
        SupervisorError::StartFailed {
            name: "c".into(),
            reason: Term::msg("no API key")
        }
    );
    assert_eq!(
        children.journal().take(),
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
    let children = ScriptedChildren::new();
    children.plan("b", [WorkerStart::Panic("start of b panics".into())]);
    let error = SupervisorSpec::new()
        .child(children.spec("a"))
        .child(children.spec("b"))
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
    assert_eq!(children.journal().take(), ["start a", "stop a shutdown"]);
}

#[tokio::test]
async fn a_child_that_ignores_its_start_is_kept_stopped_unless_temporary() {
    let children = ScriptedChildren::new();
    children.plan("kept", [WorkerStart::Ignore]);
    children.plan("gone", [WorkerStart::Ignore]);
    let supervisor = SupervisorSpec::new()
        .child(children.spec("kept"))
        .child(children.spec("gone").restart(Restart::Temporary))
        .child(children.spec("runs"))
        .start(())
        .await
        .unwrap();

    let listed = supervisor.which_children();
    assert_eq!(listed.len(), 2);
    assert_eq!(
        (listed[0].name.as_str(), listed[0].status),
        ("kept", ChildStatus::Stopped)
    );
    assert_eq!(listed[0].pid, None);
    assert_eq!(
        (listed[1].name.as_str(), listed[1].status),
        ("runs", ChildStatus::Running)
    );

    // The ignored child can be started later.
    assert!(supervisor.restart_child("kept").await.unwrap().is_some());
    assert_eq!(supervisor.count_children().active, 2);
}

#[tokio::test]
async fn specs_that_cannot_work_are_refused_before_anything_starts() {
    let children = ScriptedChildren::new();
    let permanent_significant = SupervisorSpec::<()>::new()
        .auto_shutdown(AutoShutdown::AnySignificant)
        .child(children.spec("agent").significant(true));
    assert_eq!(
        permanent_significant.start(()).await.unwrap_err(),
        SupervisorError::InvalidSpec(SpecError::SignificantPermanent {
            name: "agent".into()
        })
    );
    let without_auto_shutdown = SupervisorSpec::<()>::new().child(
        children
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
    assert_eq!(children.starts("agent"), 0);
}

#[tokio::test]
async fn replacing_a_child_keeps_its_place_in_the_start_order() {
    let children = ScriptedChildren::new();
    let spec = SupervisorSpec::<()>::new()
        .child(children.spec("a"))
        .child(children.spec("b"))
        .child(children.spec("a").restart(Restart::Transient))
        .without_child("b")
        .child(children.spec("c"));
    let names: Vec<&str> = spec.children().iter().map(|c| c.name().as_str()).collect();
    assert_eq!(names, ["a", "c"]);
    assert_eq!(spec.children()[0].restart_type(), Restart::Transient);
    assert_eq!(spec.validate(), Ok(()));
}

#[tokio::test(start_paused = true)]
async fn a_start_dropped_while_it_cleans_up_kills_what_it_started() {
    let children = ScriptedChildren::new();
    children.plan("b", [WorkerStart::Fail(Term::msg("nope"))]);
    // `a` ignores stop requests: the failed start waits 5 s before killing it.
    let spec = SupervisorSpec::new()
        .child(children.stubborn_spec("a"))
        .child(children.spec("b"));
    let mut start = Box::pin(spec.start(()));
    assert!(start.as_mut().now_or_never().is_none());
    assert_eq!(children.journal().take(), ["start a", "fail b"]);
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
