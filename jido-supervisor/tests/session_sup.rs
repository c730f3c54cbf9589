//! The real per-session supervisor (the default child): its Manager and State
//! children, their names, the State's calls, and how the tree stops.

mod common;

use std::sync::{Arc, Mutex};

use common::{alive_tasks, assert_empty, assert_gone, assert_tasks_settle, project, session};
use jido_registry::ExitReason;
use jido_supervisor::{
    CallError, Message, PROMPT_HISTORY_LIMIT, ProcessKey, ProcessValue, Role, SessionSupervisor,
    Todo, TodoStatus,
};

#[tokio::test]
async fn the_tree_registers_session_manager_and_state() {
    let supervisor = SessionSupervisor::new();
    let dir = project();
    let session = session(&dir);
    let id = session.id();

    let handle = supervisor.start_session(session).await.unwrap();

    let processes = supervisor.processes();
    assert_eq!(
        processes.whereis(&ProcessKey::Session(id)).as_ref(),
        Some(handle.pid())
    );
    let (manager, manager_value) = processes.lookup(&ProcessKey::Manager(id)).unwrap();
    let (state, state_value) = processes.lookup(&ProcessKey::State(id)).unwrap();
    assert!(matches!(manager_value, ProcessValue::Manager(_)));
    assert!(matches!(state_value, ProcessValue::State(_)));
    assert!(manager.is_alive() && state.is_alive());
    assert_ne!(&manager, handle.pid());
    assert_ne!(&state, handle.pid());
    assert_ne!(manager, state);
    let mut keys = processes.keys();
    keys.sort();
    assert_eq!(
        keys,
        vec![
            ProcessKey::Session(id),
            ProcessKey::Manager(id),
            ProcessKey::State(id)
        ]
    );
    assert_eq!(supervisor.manager(id).unwrap().pid(), Some(manager));
    assert_eq!(supervisor.state(id).unwrap().pid(), Some(state));
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

    assert!(state.messages().await.unwrap().is_empty());
    state
        .append_message(Message::new(Role::User, "hello"))
        .await
        .unwrap();
    state
        .append_message(Message::new(Role::Assistant, "hi"))
        .await
        .unwrap();
    assert_eq!(
        state.messages().await.unwrap(),
        vec![
            Message::new(Role::User, "hello"),
            Message::new(Role::Assistant, "hi")
        ]
    );

    let todos = vec![
        Todo {
            content: "write tests".into(),
            status: TodoStatus::InProgress,
        },
        Todo {
            content: "ship".into(),
            status: TodoStatus::Pending,
        },
    ];
    state.set_todos(todos.clone()).await.unwrap();
    assert_eq!(state.todos().await.unwrap(), todos);
    state.set_todos(Vec::new()).await.unwrap();
    assert!(state.todos().await.unwrap().is_empty());

    for n in 0..PROMPT_HISTORY_LIMIT + 5 {
        state.record_prompt(format!("prompt {n}")).await.unwrap();
    }
    let history = state.prompt_history().await.unwrap();
    assert_eq!(PROMPT_HISTORY_LIMIT, 100);
    assert_eq!(history.len(), PROMPT_HISTORY_LIMIT);
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
    let baseline = alive_tasks();
    let dir = project();
    let session = session(&dir);
    let id = session.id();
    supervisor.start_session(session).await.unwrap();
    let state_ref = supervisor.state(id).unwrap();
    let manager_ref = supervisor.manager(id).unwrap();
    let manager = manager_ref.pid().unwrap();
    let state = state_ref.pid().unwrap();
    let order = Arc::new(Mutex::new(Vec::new()));
    for (pid, name) in [(&manager, "manager"), (&state, "state")] {
        let order = Arc::clone(&order);
        pid.monitor(move |_, _| order.lock().unwrap().push(name));
    }

    // The tree itself is waited for (Shutdown::Infinity), as OTP does for a
    // supervisor child.
    assert_eq!(supervisor.stop_session(id).await, Ok(ExitReason::Shutdown));

    assert_eq!(*order.lock().unwrap(), vec!["state", "manager"]);
    assert_eq!(manager.exit_reason(), Some(ExitReason::Shutdown));
    assert_eq!(state.exit_reason(), Some(ExitReason::Shutdown));
    assert_gone(&supervisor, id);
    assert_empty(&supervisor);
    assert_eq!(
        state_ref.messages().await,
        Err(CallError::NotRunning {
            key: ProcessKey::State(id)
        })
    );
    assert_eq!(
        manager_ref.session().await.unwrap_err(),
        CallError::NotRunning {
            key: ProcessKey::Manager(id)
        }
    );
    assert_tasks_settle(baseline).await;
}
