//! A session's tree is the user's (issue 9): children declared as data,
//! added and removed at run time, reached by name across restarts, nested
//! supervisors, and a session that ends when its significant agent does.

mod common;

use std::time::Duration;

use common::{assert_gone, next_kind, project};
use jido_supervisor::process::{
    AutoShutdown, CallError, ChildSpec, ChildStatus, Restart, SupervisorError, SupervisorExit,
    SupervisorSpec,
};
use jido_supervisor::tree::{ProcessKey, SessionContext, SessionSup};
use jido_supervisor::{EventKind, ExitReason, SessionSupervisor, Term};
use jido_testkit::{ScriptedChildren, ScriptedWorker, WorkerCommand, WorkerStart};

/// jido_code's `start_agent/1`: starts the session's agent lazily.
async fn start_agent(
    supervisor: &SessionSupervisor,
    children: &ScriptedChildren,
    id: jido_supervisor::SessionId,
) -> Result<Option<jido_supervisor::process::Pid>, SupervisorError> {
    let tree = supervisor.tree(id).expect("the session runs");
    tree.start_child(
        children
            .spec::<SessionContext>("agent")
            .restart(Restart::Transient),
    )
    .await
}

#[tokio::test]
async fn every_session_runs_the_children_its_tree_declares() {
    let children = ScriptedChildren::new();
    let tree = SessionSup::new()
        .child(children.spec("tools"))
        .child(children.spec("watcher"));
    let supervisor = SessionSupervisor::builder().session_child(tree).build();
    let (a, b) = (project(), project());
    let first = supervisor.create_session(a.path()).await.unwrap().id();
    let second = supervisor.create_session(b.path()).await.unwrap().id();

    for id in [first, second] {
        let names: Vec<String> = supervisor
            .tree(id)
            .unwrap()
            .which_children()
            .iter()
            .map(|child| child.name.to_string())
            .collect();
        assert_eq!(names, ["manager", "state", "tools", "watcher"]);
        let tools = supervisor.child_ref::<ScriptedWorker>(id, "tools");
        assert!(tools.call(WorkerCommand::Ping).await.is_ok());
    }
    // Each session has its own processes.
    assert_ne!(
        supervisor.whereis(&ProcessKey::new(first, "tools")),
        supervisor.whereis(&ProcessKey::new(second, "tools"))
    );
}

#[tokio::test]
async fn an_agent_started_lazily_is_already_started_then_not_running_once_stopped() {
    let children = ScriptedChildren::new();
    let supervisor = SessionSupervisor::new();
    let dir = project();
    let id = supervisor.create_session(dir.path()).await.unwrap().id();
    let agent = supervisor.child_ref::<ScriptedWorker>(id, "agent");
    // get_agent before start_agent: no such child.
    assert_eq!(
        agent.call(WorkerCommand::Ping).await,
        Err(CallError::NoSuchChild {
            name: "agent".into()
        })
    );

    let pid = start_agent(&supervisor, &children, id)
        .await
        .unwrap()
        .unwrap();
    // agent_running?
    assert_eq!(
        supervisor.whereis(&ProcessKey::new(id, "agent")),
        Some(pid.clone())
    );
    // start_agent again → :already_started, naming the running one.
    assert_eq!(
        start_agent(&supervisor, &children, id).await,
        Err(SupervisorError::AlreadyStarted {
            name: "agent".into(),
            pid: pid.clone()
        })
    );
    assert_eq!(agent.call(WorkerCommand::Ping).await, Ok(1));

    // stop_agent: terminated, then forgotten; stopping again → :not_running.
    let tree = supervisor.tree(id).unwrap();
    tree.terminate_child("agent").await.unwrap();
    tree.delete_child("agent").await.unwrap();
    assert!(!pid.is_alive());
    assert_eq!(
        tree.terminate_child("agent").await,
        Err(SupervisorError::NotFound {
            name: "agent".into()
        })
    );
    assert_eq!(supervisor.whereis(&ProcessKey::new(id, "agent")), None);
    // And it can be started again.
    assert!(
        start_agent(&supervisor, &children, id)
            .await
            .unwrap()
            .is_some()
    );
    let counts = tree.count_children();
    assert_eq!((counts.specs, counts.active, counts.workers), (3, 3, 3));
}

#[tokio::test]
async fn a_crashed_user_child_is_restarted_and_reported_for_its_session() {
    let children = ScriptedChildren::new();
    let supervisor = SessionSupervisor::builder()
        .session_child(SessionSup::new().child(children.spec("agent")))
        .build();
    let mut events = supervisor.subscribe();
    let dir = project();
    let id = supervisor.create_session(dir.path()).await.unwrap().id();
    assert_eq!(next_kind(&mut events, id).await, EventKind::Started);
    let agent = supervisor.child_ref::<ScriptedWorker>(id, "agent");

    // Its restart fails once, then succeeds: a call made now waits for it.
    children.plan("agent", [WorkerStart::Fail(Term::msg("port busy"))]);
    agent.pid().unwrap().exit(ExitReason::error("bug"));
    assert_eq!(agent.call(WorkerCommand::Ping).await, Ok(2));

    assert_eq!(
        next_kind(&mut events, id).await,
        EventKind::RestartFailed {
            child: "agent".into(),
            error: Term::msg("port busy")
        }
    );
    assert_eq!(
        next_kind(&mut events, id).await,
        EventKind::Restarted {
            child: "agent".into(),
            reason: ExitReason::error("bug")
        }
    );
}

#[tokio::test]
async fn a_session_ends_when_its_significant_agent_ends() {
    let children = ScriptedChildren::new();
    let tree = SessionSup::new()
        .auto_shutdown(AutoShutdown::AnySignificant)
        .child(
            children
                .spec("agent")
                .restart(Restart::Transient)
                .significant(true),
        );
    let supervisor = SessionSupervisor::builder().session_child(tree).build();
    let mut events = supervisor.subscribe();
    let dir = project();
    let handle = supervisor.create_session(dir.path()).await.unwrap();
    let id = handle.id();
    assert_eq!(next_kind(&mut events, id).await, EventKind::Started);

    // A crash of the agent is a restart, not the end.
    let agent = supervisor.child_ref::<ScriptedWorker>(id, "agent");
    agent.pid().unwrap().kill();
    assert_eq!(agent.call(WorkerCommand::Ping).await, Ok(2));
    assert!(supervisor.session_running(id));
    assert!(matches!(
        next_kind(&mut events, id).await,
        EventKind::Restarted { .. }
    ));

    // The agent finishes its work: the session ends with it.
    agent
        .call(WorkerCommand::Stop(ExitReason::shutdown_with("task done")))
        .await
        .unwrap();
    let reason = handle.wait().await;
    assert_eq!(
        SupervisorExit::of(&reason),
        Some(&SupervisorExit::AutoShutdown {
            child: "agent".into()
        })
    );
    assert_gone(&supervisor, id);
    assert_eq!(
        next_kind(&mut events, id).await,
        EventKind::Stopped { reason },
        "an auto shutdown is a stop, not a crash"
    );
}

#[tokio::test]
async fn a_session_tree_may_nest_supervisors_with_their_own_strategy() {
    let children = ScriptedChildren::new();
    let tools = SupervisorSpec::new()
        .strategy(jido_supervisor::process::Strategy::OneForAll)
        .child(children.spec("lsp"))
        .child(children.spec("formatter"));
    let supervisor = SessionSupervisor::builder()
        .session_child(SessionSup::new().child(ChildSpec::supervisor("tools", tools)))
        .build();
    let mut events = supervisor.subscribe();
    let dir = project();
    let id = supervisor.create_session(dir.path()).await.unwrap().id();
    assert_eq!(next_kind(&mut events, id).await, EventKind::Started);
    let tools = supervisor.tree(id).unwrap().supervisor("tools").unwrap();
    let counts = supervisor.tree(id).unwrap().count_children();
    assert_eq!((counts.supervisors, counts.workers), (1, 2));
    children.journal().take();

    tools.whereis("lsp").unwrap().kill();
    assert_eq!(
        tools
            .child_ref::<ScriptedWorker>("lsp")
            .call(WorkerCommand::Ping)
            .await,
        Ok(2)
    );

    assert_eq!(
        children.journal().take(),
        ["stop formatter shutdown", "start lsp", "start formatter"]
    );
    assert_eq!(
        next_kind(&mut events, id).await,
        EventKind::Restarted {
            child: "tools/lsp".into(),
            reason: ExitReason::Killed
        }
    );
}

#[tokio::test(start_paused = true)]
async fn a_call_to_a_session_child_times_out_with_a_typed_error() {
    let children = ScriptedChildren::new();
    let supervisor = SessionSupervisor::builder()
        .session_child(SessionSup::new().child(children.spec("agent")))
        .build();
    let dir = project();
    let id = supervisor.create_session(dir.path()).await.unwrap().id();
    let agent = supervisor.child_ref::<ScriptedWorker>(id, "agent");

    // Default timeout: 5 s, as upstream.
    assert_eq!(
        agent
            .call(WorkerCommand::Sleep(Duration::from_secs(6)))
            .await,
        Err(CallError::Timeout {
            after: Duration::from_secs(5)
        })
    );
    let patient = agent.clone().with_timeout(Duration::from_secs(10));
    assert_eq!(
        patient
            .call(WorkerCommand::Sleep(Duration::from_secs(6)))
            .await,
        Ok(1)
    );

    // Once the session is gone, its child references say so.
    supervisor.stop_session(id).await.unwrap();
    assert_eq!(
        agent.call(WorkerCommand::Ping).await,
        Err(CallError::SupervisorDown {
            name: "agent".into()
        })
    );
}

#[tokio::test]
async fn which_children_reports_restarting_and_stopped_children() {
    let children = ScriptedChildren::new();
    let supervisor = SessionSupervisor::builder()
        .session_child(
            SessionSup::new()
                .child(children.spec("agent").restart(Restart::Transient))
                .child(children.spec("helper")),
        )
        .build();
    let dir = project();
    let id = supervisor.create_session(dir.path()).await.unwrap().id();
    let tree = supervisor.tree(id).unwrap();

    supervisor
        .child_ref::<ScriptedWorker>(id, "agent")
        .call(WorkerCommand::Stop(ExitReason::Normal))
        .await
        .unwrap();
    tree.terminate_child("helper").await.unwrap();
    // The agent's end is handled by the tree; sync with it by a request.
    assert_eq!(
        tree.restart_child("nope").await,
        Err(SupervisorError::NotFound {
            name: "nope".into()
        })
    );

    let statuses: Vec<(String, ChildStatus)> = tree
        .which_children()
        .into_iter()
        .map(|child| (child.name.to_string(), child.status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("manager".into(), ChildStatus::Running),
            ("state".into(), ChildStatus::Running),
            ("agent".into(), ChildStatus::Stopped),
            ("helper".into(), ChildStatus::Stopped),
        ]
    );
}
