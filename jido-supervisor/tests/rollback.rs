//! A start that fails in any way (child error, ignore, panic, timeout, a
//! tree whose own children fail to start) leaves nothing behind, and the
//! project can be started again.

mod common;

use std::time::Duration;

use common::{
    assert_empty, assert_gone, assert_no_event, next_kind, project, projects, session,
    stub_supervisor,
};
use jido_supervisor::process::{Shutdown, StartOutcome, SupervisorError, spawn_with_pid};
use jido_supervisor::tree::{SessionContext, SessionSup, TreeHandle};
use jido_supervisor::{EventKind, ExitReason, SessionSupervisor, StartError, Term};
use jido_testkit::{
    MockSessionChild, Script, ScriptedChildren, SessionSupervisorStub, WorkerStart,
};
use tokio::time::Instant;

/// After a failed start of a session on `dir`: nothing is left, no event was
/// sent, and the same project starts (and stops) fine.
async fn assert_rolled_back_and_restartable(
    supervisor: &SessionSupervisor,
    stub: &SessionSupervisorStub,
    dir: &tempfile::TempDir,
    failed: jido_supervisor::SessionId,
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
    let cause = Term::new(std::io::Error::other("disk full"));
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
        .session_child(stub.clone())
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

// Issue 8, item 6: when a tree failed to start after some of its children
// had started, the error came back while those children were still alive.
// As in OTP, the tree terminates what it started before the error returns,
// and an immediate retry of the project works.
#[tokio::test]
async fn a_tree_whose_child_fails_terminates_what_it_started_before_returning() {
    let children = ScriptedChildren::new();
    children.plan("agent", [WorkerStart::Fail(Term::msg("no API key"))]);
    let tree = SessionSup::empty()
        .child(children.spec::<SessionContext>("manager"))
        .child(children.spec::<SessionContext>("state"))
        .child(children.spec::<SessionContext>("agent"));
    let supervisor = SessionSupervisor::builder().session_child(tree).build();
    let mut events = supervisor.subscribe();
    let dir = project();
    let session = session(&dir);
    let id = session.id();

    let error = supervisor.start_session(session).await.unwrap_err();

    let StartError::Child(reason) = error else {
        panic!("expected StartError::Child, got {error:?}");
    };
    assert_eq!(
        reason.downcast_ref::<SupervisorError>(),
        Some(&SupervisorError::StartFailed {
            name: "agent".into(),
            reason: Term::msg("no API key")
        })
    );
    // Both started children were terminated, last first, before the error.
    assert_eq!(
        children.journal().take(),
        [
            "start manager",
            "start state",
            "fail agent",
            "stop state shutdown",
            "stop manager shutdown"
        ]
    );
    assert_gone(&supervisor, id);
    assert_no_event(&mut events);
    let retry = supervisor
        .start_session(common::session(&dir))
        .await
        .unwrap();
    assert!(retry.is_alive());
}

#[tokio::test]
async fn a_failing_nth_start_leaves_the_others_running() {
    let (supervisor, stub) = stub_supervisor();
    let dirs = projects(3);
    stub.fail_nth(2, Term::msg("second fails"));
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
            Err(StartError::Child(Term::msg("second fails"))),
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
        .returning(|_| Err(Term::msg("refused by the mock")));
    let supervisor = SessionSupervisor::builder().session_child(child).build();

    assert_eq!(
        supervisor.start_session(session).await,
        Err(StartError::Child(Term::msg("refused by the mock")))
    );
    assert_gone(&supervisor, id);
    assert_empty(&supervisor);
    // The mock checks `times(1)` when the supervisor (which owns it) drops.
}

#[tokio::test]
async fn a_mock_child_starts_the_tree_of_the_registered_session() {
    let dir = project();
    let session = session(&dir);
    let id = session.id();
    let mut child = MockSessionChild::new();
    child
        .expect_start()
        .withf(move |ctx| ctx.session().id() == id && ctx.events().session_id() == id)
        .times(1)
        .returning(|_| {
            let pid = spawn_with_pid(|me| async move {
                me.stop_requested().await;
                ExitReason::Shutdown
            });
            Ok(StartOutcome::Started(TreeHandle::new(
                pid,
                Shutdown::Infinity,
            )))
        });
    let supervisor = SessionSupervisor::builder().session_child(child).build();

    let handle = supervisor.start_session(session).await.unwrap();

    assert_eq!(supervisor.find_session(id), Some(handle.clone()));
    assert_eq!(supervisor.stop_session(id).await, Ok(ExitReason::Shutdown));
    assert_empty(&supervisor);
}

#[tokio::test]
async fn every_failure_in_a_row_leaves_the_supervisor_usable() {
    let stub = SessionSupervisorStub::new();
    let supervisor = SessionSupervisor::builder()
        .session_child(stub.clone())
        .start_timeout(Duration::from_secs(1))
        .build();
    let dir = project();
    for script in [
        Script::Fail(Term::msg("no")),
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
