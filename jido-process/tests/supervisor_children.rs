//! Children added and removed at run time: `start_child`,
//! `terminate_child`, `restart_child`, `delete_child`, `which_children`,
//! `count_children`.

mod common;

use jido_process::{
    ChildSpec, ChildStatus, ExitReason, Restart, SpecError, SupervisorError, SupervisorSpec, Term,
};
use jido_testkit::{ScriptedChildren, ScriptedWorker, WorkerCommand, WorkerStart};

#[tokio::test]
async fn start_child_adds_a_running_child_after_the_others() {
    let children = ScriptedChildren::new();
    let supervisor = SupervisorSpec::new()
        .child(children.spec("a"))
        .start(())
        .await
        .unwrap();

    let pid = supervisor
        .start_child(children.spec("agent"))
        .await
        .unwrap()
        .unwrap();

    assert!(pid.is_alive());
    let names: Vec<String> = supervisor
        .which_children()
        .iter()
        .map(|c| c.name.to_string())
        .collect();
    assert_eq!(names, ["a", "agent"]);
    assert_eq!(
        supervisor
            .child_ref::<ScriptedWorker>("agent")
            .call(WorkerCommand::Ping)
            .await
            .unwrap(),
        1
    );
    // It is supervised like the others: restarted when it crashes.
    pid.kill();
    assert_eq!(
        supervisor
            .child_ref::<ScriptedWorker>("agent")
            .call(WorkerCommand::Ping)
            .await
            .unwrap(),
        2
    );
}

#[tokio::test]
async fn a_taken_name_is_already_started_or_already_present() {
    let children = ScriptedChildren::new();
    let supervisor = SupervisorSpec::new()
        .child(children.spec("agent"))
        .start(())
        .await
        .unwrap();
    let running = supervisor.whereis("agent").unwrap();

    assert_eq!(
        supervisor.start_child(children.spec("agent")).await,
        Err(SupervisorError::AlreadyStarted {
            name: "agent".into(),
            pid: running
        })
    );
    supervisor.terminate_child("agent").await.unwrap();
    assert_eq!(
        supervisor.start_child(children.spec("agent")).await,
        Err(SupervisorError::AlreadyPresent {
            name: "agent".into()
        })
    );
}

#[tokio::test]
async fn start_child_reports_failures_ignores_and_bad_specs() {
    let children = ScriptedChildren::new();
    let supervisor = SupervisorSpec::<()>::new().start(()).await.unwrap();

    children.plan("broken", [WorkerStart::Fail(Term::msg("no binary"))]);
    assert_eq!(
        supervisor.start_child(children.spec("broken")).await,
        Err(SupervisorError::StartFailed {
            name: "broken".into(),
            reason: Term::msg("no binary")
        })
    );
    assert!(
        supervisor.which_children().is_empty(),
        "a failed child is not kept"
    );

    children.plan("lazy", [WorkerStart::Ignore]);
    assert_eq!(
        supervisor.start_child(children.spec("lazy")).await,
        Ok(None)
    );
    assert_eq!(supervisor.which_children()[0].status, ChildStatus::Stopped);

    children.plan("once", [WorkerStart::Ignore]);
    assert_eq!(
        supervisor
            .start_child(children.spec("once").restart(Restart::Temporary))
            .await,
        Ok(None)
    );
    assert_eq!(
        supervisor.which_children().len(),
        1,
        "an ignoring temporary child is not kept"
    );

    assert_eq!(
        supervisor
            .start_child(
                children
                    .spec("agent")
                    .restart(Restart::Transient)
                    .significant(true)
            )
            .await,
        Err(SupervisorError::InvalidSpec(
            SpecError::SignificantWithoutAutoShutdown {
                name: "agent".into()
            }
        ))
    );
}

#[tokio::test]
async fn terminate_child_keeps_the_spec_and_does_not_restart() {
    let children = ScriptedChildren::new();
    let supervisor = SupervisorSpec::new()
        .child(children.spec("w"))
        .start(())
        .await
        .unwrap();
    let pid = supervisor.whereis("w").unwrap();
    children.journal().take();

    supervisor.terminate_child("w").await.unwrap();

    assert!(!pid.is_alive());
    assert_eq!(
        children.journal().take(),
        ["stop w shutdown"],
        "terminated by its policy, not restarted"
    );
    let child = &supervisor.which_children()[0];
    assert_eq!(
        (child.status, child.pid.clone()),
        (ChildStatus::Stopped, None)
    );
    assert_eq!(
        supervisor
            .child_ref::<ScriptedWorker>("w")
            .call(WorkerCommand::Ping)
            .await
            .unwrap_err()
            .to_string(),
        "child w is not running"
    );
    // Terminating a stopped child is fine.
    supervisor.terminate_child("w").await.unwrap();
    assert_eq!(
        supervisor.terminate_child("nope").await,
        Err(SupervisorError::NotFound {
            name: "nope".into()
        })
    );
}

#[tokio::test]
async fn terminating_a_temporary_child_forgets_it() {
    let children = ScriptedChildren::new();
    let supervisor = SupervisorSpec::new()
        .child(children.spec("t").restart(Restart::Temporary))
        .start(())
        .await
        .unwrap();
    supervisor.terminate_child("t").await.unwrap();
    assert!(supervisor.which_children().is_empty());
}

#[tokio::test]
async fn restart_child_starts_a_stopped_child_only() {
    let children = ScriptedChildren::new();
    let supervisor = SupervisorSpec::new()
        .child(children.spec("w"))
        .start(())
        .await
        .unwrap();
    let first = supervisor.whereis("w").unwrap();

    assert_eq!(
        supervisor.restart_child("w").await,
        Err(SupervisorError::Running { name: "w".into() })
    );
    supervisor.terminate_child("w").await.unwrap();
    let second = supervisor.restart_child("w").await.unwrap().unwrap();

    assert_ne!(first, second);
    assert_eq!(supervisor.whereis("w"), Some(second));
    assert_eq!(
        supervisor.restart_child("nope").await,
        Err(SupervisorError::NotFound {
            name: "nope".into()
        })
    );
    // A failing restart leaves it stopped.
    supervisor.terminate_child("w").await.unwrap();
    children.plan("w", [WorkerStart::Fail(Term::msg("busy"))]);
    assert!(matches!(
        supervisor.restart_child("w").await,
        Err(SupervisorError::StartFailed { .. })
    ));
    assert_eq!(supervisor.which_children()[0].status, ChildStatus::Stopped);
}

#[tokio::test]
async fn delete_child_forgets_a_stopped_child_only() {
    let children = ScriptedChildren::new();
    let supervisor = SupervisorSpec::new()
        .child(children.spec("w"))
        .start(())
        .await
        .unwrap();

    assert_eq!(
        supervisor.delete_child("w").await,
        Err(SupervisorError::Running { name: "w".into() })
    );
    supervisor.terminate_child("w").await.unwrap();
    supervisor.delete_child("w").await.unwrap();

    assert!(supervisor.which_children().is_empty());
    assert_eq!(
        supervisor.delete_child("w").await,
        Err(SupervisorError::NotFound { name: "w".into() })
    );
    // The name is free again.
    assert!(
        supervisor
            .start_child(children.spec("w"))
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn count_children_breaks_down_specs_active_supervisors_and_workers() {
    let children = ScriptedChildren::new();
    let supervisor = SupervisorSpec::new()
        .child(children.spec("a"))
        .child(children.spec("b"))
        .child(ChildSpec::supervisor(
            "tools",
            SupervisorSpec::new().child(children.spec("lsp")),
        ))
        .start(())
        .await
        .unwrap();
    supervisor.terminate_child("b").await.unwrap();

    let counts = supervisor.count_children();

    assert_eq!(
        (
            counts.specs,
            counts.active,
            counts.supervisors,
            counts.workers
        ),
        (3, 2, 1, 2)
    );
}

#[tokio::test]
async fn requests_to_a_stopped_supervisor_say_so() {
    let children = ScriptedChildren::new();
    let supervisor = SupervisorSpec::new()
        .child(children.spec("w"))
        .start(())
        .await
        .unwrap();
    assert_eq!(supervisor.stop().await, ExitReason::Shutdown);

    assert_eq!(
        supervisor.start_child(children.spec("x")).await,
        Err(SupervisorError::NotRunning)
    );
    assert_eq!(
        supervisor.terminate_child("w").await,
        Err(SupervisorError::NotRunning)
    );
    assert_eq!(
        supervisor.restart_child("w").await,
        Err(SupervisorError::NotRunning)
    );
    assert_eq!(
        supervisor.delete_child("w").await,
        Err(SupervisorError::NotRunning)
    );
    assert_eq!(supervisor.count_children().active, 0);
}
