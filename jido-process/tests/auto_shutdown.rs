//! Significant children and `auto_shutdown` (OTP 24): a supervisor that
//! ends when its significant children end by themselves.

mod common;

use jido_process::{AutoShutdown, ExitReason, Restart, Supervisor, SupervisorExit, SupervisorSpec};
use jido_testkit::{ScriptedChildren, ScriptedWorker, WorkerCommand};

async fn with(auto_shutdown: AutoShutdown, children: &ScriptedChildren) -> Supervisor<()> {
    SupervisorSpec::new()
        .auto_shutdown(auto_shutdown)
        .child(children.spec("manager"))
        .child(
            children
                .spec("agent")
                .restart(Restart::Transient)
                .significant(true),
        )
        .child(
            children
                .spec("tool")
                .restart(Restart::Temporary)
                .significant(true),
        )
        .start(())
        .await
        .unwrap()
}

async fn end(supervisor: &Supervisor<()>, name: &str, reason: ExitReason) {
    let child = supervisor.child_ref::<ScriptedWorker>(name);
    let pid = child.pid().unwrap();
    child.call(WorkerCommand::Stop(reason)).await.unwrap();
    pid.wait().await;
}

#[tokio::test]
async fn any_significant_child_ending_ends_the_supervisor() {
    let children = ScriptedChildren::new();
    let supervisor = with(AutoShutdown::AnySignificant, &children).await;
    children.journal().take();

    end(&supervisor, "agent", ExitReason::Normal).await;
    let reason = supervisor.pid().wait().await;

    assert!(reason.is_shutdown());
    assert_eq!(
        SupervisorExit::of(&reason),
        Some(&SupervisorExit::AutoShutdown {
            child: "agent".into()
        })
    );
    assert_eq!(
        children.journal().take(),
        [
            "stop agent normal",
            "stop tool shutdown",
            "stop manager shutdown"
        ]
    );
}

#[tokio::test]
async fn all_significant_waits_for_the_last_significant_child() {
    let children = ScriptedChildren::new();
    let supervisor = with(AutoShutdown::AllSignificant, &children).await;

    end(&supervisor, "agent", ExitReason::shutdown_with("task done")).await;
    assert!(supervisor.is_alive(), "one significant child is left");
    assert_eq!(supervisor.count_children().active, 2);

    end(&supervisor, "tool", ExitReason::Normal).await;
    assert!(SupervisorExit::of(&supervisor.pid().wait().await).is_some());
}

#[tokio::test]
async fn a_significant_transient_child_that_crashes_is_restarted_not_a_shutdown() {
    let children = ScriptedChildren::new();
    let supervisor = with(AutoShutdown::AnySignificant, &children).await;

    end(&supervisor, "agent", ExitReason::error("bug")).await;

    assert_eq!(
        supervisor
            .child_ref::<ScriptedWorker>("agent")
            .call(WorkerCommand::Ping)
            .await
            .unwrap(),
        2
    );
    assert!(supervisor.is_alive());
}

#[tokio::test]
async fn a_significant_temporary_child_that_crashes_ends_the_supervisor() {
    let children = ScriptedChildren::new();
    let supervisor = with(AutoShutdown::AnySignificant, &children).await;
    end(&supervisor, "tool", ExitReason::error("bug")).await;
    assert_eq!(
        SupervisorExit::of(&supervisor.pid().wait().await),
        Some(&SupervisorExit::AutoShutdown {
            child: "tool".into()
        })
    );
}

#[tokio::test]
async fn terminating_a_significant_child_is_not_an_auto_shutdown() {
    let children = ScriptedChildren::new();
    let supervisor = with(AutoShutdown::AnySignificant, &children).await;

    supervisor.terminate_child("agent").await.unwrap();
    supervisor.terminate_child("tool").await.unwrap();

    assert!(supervisor.is_alive());
    assert_eq!(
        supervisor
            .child_ref::<ScriptedWorker>("manager")
            .call(WorkerCommand::Ping)
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn a_non_significant_child_ending_changes_nothing() {
    let children = ScriptedChildren::new();
    let supervisor = SupervisorSpec::new()
        .auto_shutdown(AutoShutdown::AnySignificant)
        .child(children.spec("helper").restart(Restart::Transient))
        .start(())
        .await
        .unwrap();
    end(&supervisor, "helper", ExitReason::Normal).await;
    assert!(supervisor.is_alive());
}
