//! The real per-session supervisor (the default child): its Manager and State
//! children, their names, the State's calls, and how the tree stops.

mod common;

use common::{assert_empty, assert_gone, assert_tasks_settle, baseline, project, session};
use jido_supervisor::ExitReason;
use jido_supervisor::process::{CallError, ChildKind, ChildStatus, Down, Restart, mailbox};
use jido_supervisor::session::{Todo, TodoStatus};
use jido_supervisor::tree::ProcessKey;
use jido_supervisor::{Message, Role, SessionSupervisor};

#[tokio::test]
async fn the_tree_is_a_supervisor_of_a_manager_and_a_state_reached_by_name() {
    let supervisor = SessionSupervisor::new();
    let dir = project();
    let session = session(&dir);
    let id = session.id();

    let handle = supervisor.start_session(session).await.unwrap();

    let tree = supervisor
        .tree(id)
        .expect("the default tree is a supervisor");
    assert_eq!(tree.pid(), handle.pid());
    let children = tree.which_children();
    let names: Vec<&str> = children.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["manager", "state"], "started in this order");
    assert!(children.iter().all(|c| c.status == ChildStatus::Running
        && c.kind == ChildKind::Worker
        && c.restart == Restart::Permanent));
    let manager = supervisor.whereis(&ProcessKey::new(id, "manager")).unwrap();
    let state = supervisor.whereis(&ProcessKey::new(id, "state")).unwrap();
    assert!(manager.is_alive() && state.is_alive());
    assert_ne!(&manager, handle.pid());
    assert_ne!(manager, state);
    assert_eq!(supervisor.manager(id).unwrap().pid(), Some(manager));
    assert_eq!(supervisor.state(id).unwrap().pid(), Some(state));
    assert_eq!(supervisor.whereis(&ProcessKey::new(id, "nope")), None);
}

#[tokio::test]
async fn the_manager_holds_the_registered_session() {
    let supervisor = SessionSupervisor::new();
    let dir = project();
    let session = session(&dir);
    let id = session.id();
    supervisor.start_session(session.clone()).await.unwrap();

    let manager = supervisor.manager(id).unwrap();

    assert_eq!(manager.session_id(), id);
    assert_eq!(*manager.session().await.unwrap(), session);
}

#[tokio::test]
async fn the_state_keeps_messages_todos_and_prompts() {
    let supervisor = SessionSupervisor::new();
    let dir = project();
    let session = session(&dir);
    let id = session.id();
    supervisor.start_session(session).await.unwrap();
    let state = supervisor.state(id).unwrap();
    assert_eq!(state.session_id(), id);

    assert_eq!(state.message_count().await, Ok(0));
    state
        .append_message(Message::new(Role::User, "hello"))
        .await
        .unwrap();
    state
        .append_message(Message::new(Role::Assistant, "hi"))
        .await
        .unwrap();
    let page = state.messages(0, None).await.unwrap();
    let said: Vec<(Role, &str)> = page
        .items
        .iter()
        .map(|m| (m.role, m.content.as_str()))
        .collect();
    assert_eq!(said, [(Role::User, "hello"), (Role::Assistant, "hi")]);

    let mut writing = Todo::new("write tests");
    writing.status = TodoStatus::InProgress;
    let todos = vec![writing, Todo::new("ship")];
    state.set_todos(todos.clone()).await.unwrap();
    assert_eq!(state.todos().await.unwrap(), todos);
    state.set_todos(Vec::new()).await.unwrap();
    assert!(state.todos().await.unwrap().is_empty());

    for n in 0..105 {
        state.record_prompt(format!("prompt {n}")).await.unwrap();
    }
    let history = state.prompt_history().await.unwrap();
    assert_eq!(history.len(), 100);
    assert_eq!(history.first().unwrap(), "prompt 5");
    assert_eq!(history.last().unwrap(), "prompt 104");
}

#[tokio::test]
async fn each_session_has_its_own_state() {
    let supervisor = SessionSupervisor::new();
    let (first_dir, second_dir) = (project(), project());
    let first = session(&first_dir);
    let first_id = first.id();
    let second = session(&second_dir);
    let second_id = second.id();
    supervisor.start_session(first).await.unwrap();
    supervisor.start_session(second).await.unwrap();

    supervisor
        .state(first_id)
        .unwrap()
        .record_prompt("only in the first")
        .await
        .unwrap();

    assert_eq!(
        supervisor.state(first_id).unwrap().prompt_history().await,
        Ok(vec!["only in the first".to_string()])
    );
    assert_eq!(
        supervisor.state(second_id).unwrap().prompt_history().await,
        Ok(Vec::new())
    );
}

#[tokio::test]
async fn stopping_the_tree_stops_state_then_manager_gracefully() {
    let supervisor = SessionSupervisor::new();
    let baseline = baseline(&supervisor);
    let dir = project();
    let session = session(&dir);
    let id = session.id();
    supervisor.start_session(session).await.unwrap();
    let state_ref = supervisor.state(id).unwrap();
    let manager_ref = supervisor.manager(id).unwrap();
    let manager = manager_ref.pid().unwrap();
    let state = state_ref.pid().unwrap();
    let (watcher, mut downs) = mailbox::<Down<&str>>();
    manager.monitor(&watcher, "manager");
    state.monitor(&watcher, "state");

    // The tree itself is waited for (Shutdown::Infinity), as OTP does for a
    // supervisor child.
    assert_eq!(supervisor.stop_session(id).await, Ok(ExitReason::Shutdown));

    let order: Vec<&str> = std::iter::from_fn(|| downs.try_recv().map(|d| d.tag)).collect();
    assert_eq!(order, ["state", "manager"]);
    assert_eq!(manager.exit_reason(), Some(ExitReason::Shutdown));
    assert_eq!(state.exit_reason(), Some(ExitReason::Shutdown));
    assert_gone(&supervisor, id);
    assert_empty(&supervisor);
    // The session is gone: its children's references say so.
    assert_eq!(
        state_ref.message_count().await,
        Err(CallError::SupervisorDown {
            name: "state".into()
        })
    );
    assert_eq!(
        manager_ref.session().await.unwrap_err(),
        CallError::SupervisorDown {
            name: "manager".into()
        }
    );
    assert_tasks_settle(baseline).await;
}
