//! Supervisors as children: their own strategy and intensity, and links.

mod common;

use jido_process::{
    ChildKind, ChildSpec, ExitReason, RestartIntensity, Strategy, SupervisorEvent, SupervisorSpec,
};
use jido_testkit::{ScriptedChildren, ScriptedWorker, SupervisorEvents, WorkerCommand};

fn tools(children: &ScriptedChildren) -> SupervisorSpec<()> {
    SupervisorSpec::new()
        .strategy(Strategy::OneForAll)
        .intensity(RestartIntensity::new(1, std::time::Duration::from_secs(5)).unwrap())
        .child(children.spec("lsp"))
        .child(children.spec("watcher"))
}

#[tokio::test]
async fn a_nested_supervisor_restarts_its_own_children_with_its_own_strategy() {
    let children = ScriptedChildren::new();
    let (observer, mut events) = SupervisorEvents::channel();
    let top = SupervisorSpec::new()
        .child(children.spec("manager"))
        .child(ChildSpec::supervisor("tools", tools(&children)))
        .start_observed((), observer)
        .await
        .unwrap();
    let tools = top.supervisor("tools").unwrap();
    assert_eq!(top.which_children()[1].kind, ChildKind::Supervisor);
    let (manager, tools_pid) = (top.whereis("manager"), top.whereis("tools"));
    children.journal().take();

    tools.whereis("lsp").unwrap().kill();
    assert_eq!(
        tools
            .child_ref::<ScriptedWorker>("lsp")
            .call(WorkerCommand::Ping)
            .await
            .unwrap(),
        2
    );

    // one-for-all inside `tools`; nothing changed above it.
    assert_eq!(
        children.journal().take(),
        ["stop watcher shutdown", "start lsp", "start watcher"]
    );
    assert_eq!(
        (top.whereis("manager"), top.whereis("tools")),
        (manager, tools_pid)
    );
    assert_eq!(
        events.recv().await.unwrap(),
        SupervisorEvent::ChildRestarted {
            child: "tools/lsp".into(),
            reason: ExitReason::Killed
        }
    );
}

#[tokio::test]
async fn a_nested_supervisor_past_its_intensity_is_restarted_by_its_parent() {
    let children = ScriptedChildren::new();
    let top = SupervisorSpec::new()
        .child(ChildSpec::supervisor("tools", tools(&children)))
        .start(())
        .await
        .unwrap();
    let first = top.supervisor("tools").unwrap();
    first.whereis("lsp").unwrap().kill();
    first
        .child_ref::<ScriptedWorker>("lsp")
        .call(WorkerCommand::Ping)
        .await
        .unwrap();

    // Its second restart within 5 s is one too many: it exits, and the top
    // supervisor starts a fresh one.
    first.whereis("lsp").unwrap().kill();
    assert!(first.pid().wait().await.is_shutdown());

    let second = loop {
        if let Some(tools) = top.supervisor("tools")
            && tools != first
        {
            break tools;
        }
        tokio::task::yield_now().await;
    };
    // lsp's third start: the first tree's start and restart, then this tree.
    assert_eq!(
        second
            .child_ref::<ScriptedWorker>("lsp")
            .call(WorkerCommand::Ping)
            .await
            .unwrap(),
        3
    );
}

#[tokio::test]
async fn killing_a_supervisor_kills_its_whole_tree() {
    let children = ScriptedChildren::new();
    let top = SupervisorSpec::new()
        .child(children.spec("manager"))
        .child(ChildSpec::supervisor("tools", tools(&children)))
        .start(())
        .await
        .unwrap();
    let tools = top.supervisor("tools").unwrap();
    let leaves = [
        top.whereis("manager").unwrap(),
        tools.whereis("lsp").unwrap(),
        tools.whereis("watcher").unwrap(),
    ];

    // Killed before its task was ever polled: the tree still goes with it.
    top.pid().kill();
    top.pid().wait().await;
    tools.pid().wait().await;

    for leaf in leaves {
        assert_eq!(leaf.wait().await, ExitReason::Killed);
    }
}

#[tokio::test]
async fn stopping_a_supervisor_stops_nested_ones_depth_first_in_reverse_order() {
    let children = ScriptedChildren::new();
    let top = SupervisorSpec::new()
        .child(children.spec("manager"))
        .child(ChildSpec::supervisor("tools", tools(&children)))
        .child(children.spec("state"))
        .start(())
        .await
        .unwrap();
    children.journal().take();

    assert_eq!(top.stop().await, ExitReason::Shutdown);

    assert_eq!(
        children.journal().take(),
        [
            "stop state shutdown",
            "stop watcher shutdown",
            "stop lsp shutdown",
            "stop manager shutdown"
        ]
    );
}
