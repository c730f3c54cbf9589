//! A start that fails in any way (child error, ignore, panic, timeout, a
//! process name already taken) leaves nothing behind, and the project can be
//! started again.

mod common;

use std::time::Duration;

use common::{
    assert_empty, assert_gone, assert_no_event, next_kind, project, projects, session,
    stub_supervisor,
};
use jido_registry::{ExitReason, RegisterError, SessionRegistry, spawn, spawn_with_pid};
use jido_supervisor::{
    ChildError, ChildHandle, EventKind, ProcessKey, ProcessValue, SessionSupervisor, Shutdown,
    StartError, StartOutcome,
};
use jido_testkit::{MockSessionChild, Script, SessionSupervisorStub};
use tokio::time::Instant;

/// After a failed start of a session on `dir`: nothing is left, no event was
/// sent, and the same project starts (and stops) fine.
async fn assert_rolled_back_and_restartable(
    supervisor: &SessionSupervisor,
    stub: &SessionSupervisorStub,
    dir: &tempfile::TempDir,
    failed: jido_session::SessionId,
    events: &mut tokio::sync::broadcast::Receiver<jido_supervisor::SessionEvent>,
) {
    assert_gone(supervisor, failed);
    assert_empty(supervisor);
    assert_eq!(stub.pid(failed), None);
    assert_no_event(events);

    let again = session(dir);
    let id = again.id();
    let handle = supervisor.start_session(again).await.unwrap();
    assert!(handle.is_alive());
    assert_eq!(next_kind(events, id).await, EventKind::Started);
    assert_eq!(supervisor.count_children(), 1);
    supervisor.stop_session(id).await.unwrap();
    assert_empty(supervisor);
}

#[tokio::test]
async fn a_child_error_is_returned_unchanged_and_rolled_back() {
    let (supervisor, stub) = stub_supervisor();
    let mut events = supervisor.subscribe();
    let dir = project();
    let session = session(&dir);
    let id = session.id();
    let cause = ChildError::new(std::io::Error::other("disk full"));
    stub.script_next(Script::Fail(cause.clone()));

    let error = supervisor.start_session(session).await.unwrap_err();

    let StartError::Child(returned) = error else {
        panic!("expected StartError::Child, got {error:?}");
    };
    assert_eq!(returned, cause);
    assert_eq!(returned.to_string(), "disk full");
    assert_eq!(
        returned
            .downcast_ref::<std::io::Error>()
            .map(std::io::Error::kind),
        Some(std::io::ErrorKind::Other)
    );
    assert_eq!(stub.calls().len(), 1);
    assert_rolled_back_and_restartable(&supervisor, &stub, &dir, id, &mut events).await;
}

#[tokio::test]
async fn an_ignored_start_is_rolled_back() {
    let (supervisor, stub) = stub_supervisor();
    let mut events = supervisor.subscribe();
    let dir = project();
    let session = session(&dir);
    let id = session.id();
    stub.script_next(Script::Ignore);

    assert_eq!(
        supervisor.start_session(session).await,
        Err(StartError::Ignored)
    );

    assert_rolled_back_and_restartable(&supervisor, &stub, &dir, id, &mut events).await;
}

#[tokio::test]
async fn a_panicking_start_is_an_error_and_the_supervisor_survives() {
    let (supervisor, stub) = stub_supervisor();
    let mut events = supervisor.subscribe();
    let dirs = projects(2);
    let running = session(&dirs[1]);
    let running_id = running.id();
    supervisor.start_session(running).await.unwrap();
    assert_eq!(next_kind(&mut events, running_id).await, EventKind::Started);
    let session = session(&dirs[0]);
    let id = session.id();
    stub.script_next(Script::Panic("boom".into()));

    assert_eq!(
        supervisor.start_session(session).await,
        Err(StartError::Panicked {
            message: "boom".into()
        })
    );

    // The session that was running is untouched.
    assert!(supervisor.session_running(running_id));
    supervisor.stop_session(running_id).await.unwrap();
    assert_eq!(
        next_kind(&mut events, running_id).await,
        EventKind::Stopped {
            reason: ExitReason::Shutdown
        }
    );
    assert_rolled_back_and_restartable(&supervisor, &stub, &dirs[0], id, &mut events).await;
}

#[tokio::test(start_paused = true)]
async fn a_start_that_does_not_finish_in_time_is_rolled_back() {
    let stub = SessionSupervisorStub::new();
    let timeout = Duration::from_millis(250);
    let supervisor = SessionSupervisor::builder()
        .child(stub.clone())
        .start_timeout(timeout)
        .build();
    let mut events = supervisor.subscribe();
    let dir = project();
    let session = session(&dir);
    let id = session.id();
    stub.script_next(Script::Hang);
    let before = Instant::now();

    assert_eq!(
        supervisor.start_session(session).await,
        Err(StartError::Timeout { after: timeout })
    );

    assert!(
        Instant::now() - before >= timeout,
        "gave up before the timeout"
    );
    assert_rolled_back_and_restartable(&supervisor, &stub, &dir, id, &mut events).await;
}

#[tokio::test]
async fn a_start_whose_name_is_taken_kills_what_it_spawned_and_rolls_back() {
    let (supervisor, stub) = stub_supervisor();
    let mut events = supervisor.subscribe();
    let dir = project();
    let session = session(&dir);
    let id = session.id();
    // A stray process holds the tree's name.
    let squatter = spawn(std::future::pending());
    supervisor
        .processes()
        .register(ProcessKey::Session(id), &squatter, ProcessValue::Supervisor)
        .unwrap();

    let error = supervisor.start_session(session).await.unwrap_err();

    let StartError::Child(error) = error else {
        panic!("expected StartError::Child, got {error:?}");
    };
    assert!(matches!(
        error.downcast_ref::<RegisterError<ProcessKey>>(),
        Some(RegisterError::Taken { owner, .. }) if *owner == squatter
    ));
    assert_eq!(stub.pid(id), None, "the stub's process was killed");
    assert!(supervisor.registry().lookup(id).is_none());
    assert_eq!(supervisor.count_children(), 0);
    assert_no_event(&mut events);

    squatter.kill();
    squatter.wait().await;
    assert_rolled_back_and_restartable(&supervisor, &stub, &dir, id, &mut events).await;
}

#[tokio::test]
async fn a_failing_nth_start_leaves_the_others_running() {
    let (supervisor, stub) = stub_supervisor();
    let dirs = projects(3);
    stub.fail_nth(2, ChildError::msg("second fails"));
    let mut ids = Vec::new();
    let mut results = Vec::new();
    for dir in &dirs {
        let session = session(dir);
        ids.push(session.id());
        results.push(supervisor.start_session(session).await.map(|_| ()));
    }

    assert_eq!(
        results,
        vec![
            Ok(()),
            Err(StartError::Child(ChildError::msg("second fails"))),
            Ok(())
        ]
    );
    assert!(supervisor.session_running(ids[0]));
    assert_gone(&supervisor, ids[1]);
    assert!(supervisor.session_running(ids[2]));
    assert_eq!(supervisor.count_children(), 2);
    assert_eq!(supervisor.registry().count(), 2);
}

#[tokio::test]
async fn a_mock_child_is_called_once_with_the_registered_session() {
    let dir = project();
    let session = session(&dir);
    let id = session.id();
    let project_path = session.project_path().clone();
    let mut child = MockSessionChild::new();
    child
        .expect_start()
        .withf(move |ctx| ctx.session().id() == id && *ctx.session().project_path() == project_path)
        .times(1)
        .returning(|_| Err(ChildError::msg("refused by the mock")));
    let supervisor = SessionSupervisor::builder().child(child).build();

    assert_eq!(
        supervisor.start_session(session).await,
        Err(StartError::Child(ChildError::msg("refused by the mock")))
    );
    assert_gone(&supervisor, id);
    assert_empty(&supervisor);
    // The mock checks `times(1)` when the supervisor (which owns it) drops.
}

#[tokio::test]
async fn a_mock_child_sees_the_session_registered_while_it_starts() {
    let dir = project();
    let session = session(&dir);
    let id = session.id();
    let registry = SessionRegistry::new();
    let seen_by_child = registry.clone();
    let mut child = MockSessionChild::new();
    child.expect_start().times(1).returning(move |ctx| {
        // During the start the session is already registered.
        assert!(seen_by_child.contains(id));
        let pid = spawn_with_pid(|me| async move {
            me.stop_requested().await;
            ExitReason::Shutdown
        });
        ctx.processes()
            .register(ProcessKey::Session(id), &pid, ProcessValue::Supervisor)
            .unwrap();
        Ok(StartOutcome::Started(ChildHandle::new(
            pid,
            Shutdown::Infinity,
        )))
    });
    let supervisor = SessionSupervisor::builder()
        .registry(registry)
        .child(child)
        .build();

    let handle = supervisor.start_session(session).await.unwrap();

    assert_eq!(supervisor.find_session_pid(id), Some(handle.clone()));
    assert_eq!(
        supervisor
            .processes()
            .whereis(&ProcessKey::Session(id))
            .as_ref(),
        Some(handle.pid())
    );
    assert_eq!(supervisor.stop_session(id).await, Ok(ExitReason::Shutdown));
    assert_empty(&supervisor);
}

#[tokio::test]
async fn every_failure_in_a_row_leaves_the_supervisor_usable() {
    let stub = SessionSupervisorStub::new();
    let supervisor = SessionSupervisor::builder()
        .child(stub.clone())
        .start_timeout(Duration::from_secs(1))
        .build();
    let dir = project();
    for script in [
        Script::Fail(ChildError::msg("no")),
        Script::Ignore,
        Script::Panic("again".into()),
    ] {
        stub.script_next(script);
        assert!(supervisor.start_session(session(&dir)).await.is_err());
        assert_empty(&supervisor);
    }
    let session = session(&dir);
    let id = session.id();
    supervisor.start_session(session).await.unwrap();
    assert!(supervisor.session_running(id));
    assert_eq!(supervisor.count_children(), 1);
    assert_eq!(stub.calls().len(), 4);
}
