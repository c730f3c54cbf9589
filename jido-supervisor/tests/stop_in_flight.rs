//! `stop_session` against a start still in flight, against another stop,
//! and dropped half-way.

mod common;

use std::pin::pin;
use std::time::Duration;

use common::{
    assert_empty, assert_gone, assert_no_event, assert_tasks_settle, baseline, next_kind,
    poll_once, project, session, stub_supervisor, supervisor_with, within_a_minute,
};
use jido_supervisor::ExitReason;
use jido_supervisor::process::Shutdown;
use jido_supervisor::{EventKind, SessionSupervisor, StartError, StopError};
use jido_testkit::{Script, SessionSupervisorStub};
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn a_stop_during_a_start_waits_for_it_then_stops_the_tree() {
    let (supervisor, stub) = stub_supervisor();
    let mut events = supervisor.subscribe();
    let baseline = baseline(&supervisor);
    let dir = project();
    let (before, after) = (3, 3);
    // Issue the stop after every number of polls of the start.
    for polls in 1..=before + after {
        let session = session(&dir);
        let id = session.id();
        stub.script_session(id, Script::Slow { before, after });
        let mut start = pin!(supervisor.start_session(session));
        for _ in 0..polls {
            assert!(poll_once(start.as_mut()).is_pending());
        }

        let (started, stopped) =
            within_a_minute(async { tokio::join!(start, supervisor.stop_session(id)) }).await;

        let handle = started.unwrap();
        assert_eq!(stopped, Ok(ExitReason::Shutdown), "after {polls} polls");
        assert!(!handle.is_alive());
        assert_eq!(stub.pid(id), None);
        assert_gone(&supervisor, id);
        assert_empty(&supervisor);
        assert_eq!(next_kind(&mut events, id).await, EventKind::Started);
        assert_eq!(
            next_kind(&mut events, id).await,
            EventKind::Stopped {
                reason: ExitReason::Shutdown
            }
        );
        assert_no_event(&mut events);
        assert_tasks_settle(baseline).await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_stop_during_a_start_that_fails_is_not_found() {
    let stub = SessionSupervisorStub::new();
    let timeout = Duration::from_secs(2);
    let supervisor = SessionSupervisor::builder()
        .session_child(stub.clone())
        .start_timeout(timeout)
        .build();
    let mut events = supervisor.subscribe();
    let dir = project();
    let session = session(&dir);
    let id = session.id();
    stub.script_session(id, Script::Hang);
    let mut start = pin!(supervisor.start_session(session));
    assert!(poll_once(start.as_mut()).is_pending());

    let (started, stopped) =
        within_a_minute(async { tokio::join!(start, supervisor.stop_session(id)) }).await;

    assert_eq!(started.unwrap_err(), StartError::Timeout { after: timeout });
    assert_eq!(stopped, Err(StopError::NotFound { id }));
    assert_gone(&supervisor, id);
    assert_empty(&supervisor);
    assert_no_event(&mut events);
}

#[tokio::test(start_paused = true)]
async fn a_stop_during_a_start_that_is_dropped_is_not_found() {
    let (supervisor, stub) = stub_supervisor();
    let baseline = baseline(&supervisor);
    let dir = project();
    let session = session(&dir);
    let id = session.id();
    stub.script_session(
        id,
        Script::Slow {
            before: 0,
            after: 5,
        },
    );
    let mut start = Box::pin(supervisor.start_session(session));
    assert!(poll_once(start.as_mut()).is_pending());
    let mut stop = pin!(supervisor.stop_session(id));
    assert!(
        poll_once(stop.as_mut()).is_pending(),
        "the stop waits for the start"
    );

    drop(start);

    assert_eq!(within_a_minute(stop).await, Err(StopError::NotFound { id }));
    assert_gone(&supervisor, id);
    assert_empty(&supervisor);
    assert_eq!(stub.pid(id), None);
    assert_tasks_settle(baseline).await;
}

#[tokio::test]
async fn a_second_stop_after_the_first_is_not_found() {
    let (supervisor, _stub) = stub_supervisor();
    let mut events = supervisor.subscribe();
    let dir = project();
    let session = session(&dir);
    let id = session.id();
    supervisor.start_session(session).await.unwrap();

    assert_eq!(supervisor.stop_session(id).await, Ok(ExitReason::Shutdown));
    assert_eq!(
        supervisor.stop_session(id).await,
        Err(StopError::NotFound { id })
    );

    assert_eq!(next_kind(&mut events, id).await, EventKind::Started);
    assert_eq!(
        next_kind(&mut events, id).await,
        EventKind::Stopped {
            reason: ExitReason::Shutdown
        }
    );
    assert_no_event(&mut events);
}

#[tokio::test]
async fn concurrent_stops_of_one_session_both_succeed_with_one_event() {
    let (supervisor, _stub) = stub_supervisor();
    let mut events = supervisor.subscribe();
    let dir = project();
    let session = session(&dir);
    let id = session.id();
    supervisor.start_session(session).await.unwrap();

    let (first, second) = tokio::join!(supervisor.stop_session(id), supervisor.stop_session(id));

    assert_eq!(first, Ok(ExitReason::Shutdown));
    assert_eq!(second, Ok(ExitReason::Shutdown));
    assert_gone(&supervisor, id);
    assert_empty(&supervisor);
    assert_eq!(next_kind(&mut events, id).await, EventKind::Started);
    assert_eq!(
        next_kind(&mut events, id).await,
        EventKind::Stopped {
            reason: ExitReason::Shutdown
        }
    );
    assert_no_event(&mut events);
}

#[tokio::test(start_paused = true)]
async fn concurrent_stops_of_a_stubborn_session_both_see_the_kill() {
    let timeout = Duration::from_secs(3);
    let stub = SessionSupervisorStub::with_shutdown(Shutdown::Timeout(timeout));
    let supervisor = supervisor_with(&stub);
    let dir = project();
    let session = session(&dir);
    let id = session.id();
    stub.script_session(id, Script::IgnoreStop);
    supervisor.start_session(session).await.unwrap();

    let (first, second) = tokio::join!(supervisor.stop_session(id), supervisor.stop_session(id));

    assert_eq!(first, Ok(ExitReason::Killed));
    assert_eq!(second, Ok(ExitReason::Killed));
    assert_gone(&supervisor, id);
}

#[tokio::test(start_paused = true)]
async fn a_dropped_stop_can_be_retried() {
    let timeout = Duration::from_secs(3);
    let stub = SessionSupervisorStub::with_shutdown(Shutdown::Timeout(timeout));
    let supervisor = supervisor_with(&stub);
    let mut events = supervisor.subscribe();
    let dir = project();
    let session = session(&dir);
    let id = session.id();
    stub.script_session(id, Script::IgnoreStop);
    let handle = supervisor.start_session(session).await.unwrap();
    assert_eq!(next_kind(&mut events, id).await, EventKind::Started);

    {
        let mut stop = pin!(supervisor.stop_session(id));
        assert!(poll_once(stop.as_mut()).is_pending());
    }
    // The child ignored the request and nobody killed it: it still runs.
    assert!(handle.is_alive());
    assert!(supervisor.session_running(id));
    assert_no_event(&mut events);

    let before = Instant::now();
    assert_eq!(supervisor.stop_session(id).await, Ok(ExitReason::Killed));
    assert!(Instant::now() - before >= timeout);
    assert_gone(&supervisor, id);
    assert_eq!(
        next_kind(&mut events, id).await,
        EventKind::Stopped {
            reason: ExitReason::Killed
        }
    );
}
