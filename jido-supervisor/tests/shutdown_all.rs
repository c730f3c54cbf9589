//! `SessionSupervisor::shutdown`: every session stopped (concurrently, each
//! by its policy), nothing left, and no start accepted afterwards; and what
//! dropping the supervisor does.

mod common;

use std::collections::HashMap;
use std::pin::pin;
use std::time::Duration;

use common::{
    alive_tasks, assert_empty, assert_gone, assert_no_event, assert_tasks_settle, baseline,
    next_event, poll_once, project, projects, session, stub_supervisor, supervisor_with,
    within_a_minute,
};
use jido_supervisor::ExitReason;
use jido_supervisor::SessionId;
use jido_supervisor::process::Shutdown;
use jido_supervisor::{EventKind, SessionSupervisor, StartError};
use jido_testkit::{Script, SessionSupervisorStub};
use tokio::time::Instant;

/// Starts a session on each of `n` fresh projects; returns the projects
/// (kept alive) and the handles.
async fn start_sessions(
    supervisor: &SessionSupervisor,
    n: usize,
) -> (
    Vec<tempfile::TempDir>,
    Vec<(SessionId, jido_supervisor::SessionHandle)>,
) {
    let dirs = projects(n);
    let mut started = Vec::new();
    for dir in &dirs {
        let session = session(dir);
        let id = session.id();
        started.push((id, supervisor.start_session(session).await.unwrap()));
    }
    (dirs, started)
}

/// Reads `n` events and returns them as (session, kind) pairs.
async fn read_events(
    events: &mut tokio::sync::broadcast::Receiver<jido_supervisor::SessionEvent>,
    n: usize,
) -> Vec<(SessionId, EventKind)> {
    let mut read = Vec::new();
    for _ in 0..n {
        let event = next_event(events).await;
        read.push((event.session_id, event.kind));
    }
    read
}

/// After `shutdown`: nothing is left and starts are refused.
async fn assert_shut_down(supervisor: &SessionSupervisor, baseline: usize) {
    assert_empty(supervisor);
    assert_tasks_settle(baseline).await;
    let dir = project();
    let session = session(&dir);
    let id = session.id();
    assert_eq!(
        supervisor.start_session(session).await.unwrap_err(),
        StartError::ShuttingDown
    );
    assert_gone(supervisor, id);
    assert_empty(supervisor);
}

#[tokio::test]
async fn shutdown_stops_every_real_tree() {
    let supervisor = SessionSupervisor::new();
    let mut events = supervisor.subscribe();
    let baseline = baseline(&supervisor);
    let (_dirs, started) = start_sessions(&supervisor, 3).await;
    let children: Vec<_> = started
        .iter()
        .flat_map(|(id, _)| {
            [
                supervisor.manager(*id).unwrap().pid().unwrap(),
                supervisor.state(*id).unwrap().pid().unwrap(),
            ]
        })
        .collect();
    let started_events = read_events(&mut events, 3).await;

    supervisor.shutdown().await;

    for (id, handle) in &started {
        assert!(!handle.is_alive());
        assert_eq!(handle.pid().exit_reason(), Some(ExitReason::Shutdown));
        assert_gone(&supervisor, *id);
    }
    for child in &children {
        assert_eq!(child.exit_reason(), Some(ExitReason::Shutdown));
    }
    let ids: Vec<SessionId> = started.iter().map(|(id, _)| *id).collect();
    assert_eq!(
        started_events,
        ids.iter()
            .map(|id| (*id, EventKind::Started))
            .collect::<Vec<_>>()
    );
    let stopped: HashMap<_, _> = read_events(&mut events, 3).await.into_iter().collect();
    let expected: HashMap<_, _> = ids
        .iter()
        .map(|id| {
            (
                *id,
                EventKind::Stopped {
                    reason: ExitReason::Shutdown,
                },
            )
        })
        .collect();
    assert_eq!(stopped, expected);
    assert_no_event(&mut events);
    assert_shut_down(&supervisor, baseline).await;
}

#[tokio::test]
async fn shutdown_stops_every_stub_tree() {
    let (supervisor, stub) = stub_supervisor();
    let baseline = baseline(&supervisor);
    let (_dirs, started) = start_sessions(&supervisor, 5).await;

    supervisor.shutdown().await;

    for (id, handle) in &started {
        assert_eq!(handle.pid().exit_reason(), Some(ExitReason::Shutdown));
        assert_eq!(stub.pid(*id), None);
    }
    assert_shut_down(&supervisor, baseline).await;
    assert_eq!(
        stub.calls().len(),
        5,
        "the refused start did not reach the child"
    );
}

#[tokio::test(start_paused = true)]
async fn shutdown_stops_sessions_concurrently_each_by_its_policy() {
    let timeout = Duration::from_secs(2);
    let stub = SessionSupervisorStub::with_shutdown(Shutdown::Timeout(timeout));
    let supervisor = supervisor_with(&stub);
    let mut events = supervisor.subscribe();
    let baseline = baseline(&supervisor);
    stub.script_nth(1, Script::IgnoreStop);
    stub.script_nth(2, Script::IgnoreStop);
    stub.script_nth(3, Script::IgnoreStop);
    let (_dirs, started) = start_sessions(&supervisor, 4).await;
    read_events(&mut events, 4).await;
    let before = Instant::now();

    supervisor.shutdown().await;

    let took = Instant::now() - before;
    assert!(
        took >= timeout,
        "the stubborn trees were given their timeout"
    );
    assert!(
        took < 3 * timeout,
        "the stubborn trees were stopped one after the other ({took:?})"
    );
    let reasons: Vec<_> = started
        .iter()
        .map(|(_, handle)| handle.pid().exit_reason().unwrap())
        .collect();
    assert_eq!(
        reasons,
        vec![
            ExitReason::Killed,
            ExitReason::Killed,
            ExitReason::Killed,
            ExitReason::Shutdown
        ]
    );
    let stopped: HashMap<_, _> = read_events(&mut events, 4).await.into_iter().collect();
    let expected: HashMap<_, _> = started
        .iter()
        .zip(&reasons)
        .map(|((id, _), reason)| {
            (
                *id,
                EventKind::Stopped {
                    reason: reason.clone(),
                },
            )
        })
        .collect();
    assert_eq!(stopped, expected);
    assert_shut_down(&supervisor, baseline).await;
}

#[tokio::test]
async fn shutdown_of_an_empty_supervisor_returns_and_can_be_repeated() {
    let (supervisor, stub) = stub_supervisor();
    let baseline = baseline(&supervisor);

    supervisor.shutdown().await;
    supervisor.shutdown().await;

    assert_shut_down(&supervisor, baseline).await;
    assert!(stub.calls().is_empty());
}

#[tokio::test(start_paused = true)]
async fn shutdown_waits_for_a_start_in_flight_and_refuses_it() {
    let (supervisor, stub) = stub_supervisor();
    let mut events = supervisor.subscribe();
    let baseline = baseline(&supervisor);
    let (_dirs, started) = start_sessions(&supervisor, 2).await;
    read_events(&mut events, 2).await;
    let dir = project();
    let session = session(&dir);
    let id = session.id();
    stub.script_session(
        id,
        Script::Slow {
            before: 2,
            after: 2,
        },
    );
    let mut start = pin!(supervisor.start_session(session));
    assert!(poll_once(start.as_mut()).is_pending());

    let (result, ()) = within_a_minute(async { tokio::join!(start, supervisor.shutdown()) }).await;

    assert_eq!(result.unwrap_err(), StartError::ShuttingDown);
    assert_eq!(stub.pid(id), None, "the tree started late was killed");
    assert_gone(&supervisor, id);
    for (id, _) in &started {
        assert_gone(&supervisor, *id);
    }
    let stopped: HashMap<_, _> = read_events(&mut events, 2).await.into_iter().collect();
    assert_eq!(
        stopped,
        started
            .iter()
            .map(|(id, _)| (
                *id,
                EventKind::Stopped {
                    reason: ExitReason::Shutdown
                }
            ))
            .collect()
    );
    assert_no_event(&mut events);
    assert_shut_down(&supervisor, baseline).await;
}

#[tokio::test]
async fn stop_session_after_shutdown_is_not_found() {
    let (supervisor, _stub) = stub_supervisor();
    let (_dirs, started) = start_sessions(&supervisor, 1).await;
    let id = started[0].0;

    supervisor.shutdown().await;

    assert_eq!(
        supervisor.stop_session(id).await,
        Err(jido_supervisor::StopError::NotFound { id })
    );
}

// Issue 8, item 3: dropping the last clone used to kill the trees but leave
// every session in a shared registry, with no `Stopped` event. The registry
// is the supervisor's own now, and every session's end is reported.
#[tokio::test]
async fn dropping_the_last_supervisor_kills_the_trees_and_reports_each_end() {
    // Before the supervisor: its own process ends with it.
    let baseline = alive_tasks();
    let (supervisor, stub) = stub_supervisor();
    let mut events = supervisor.subscribe();
    let (_dirs, started) = start_sessions(&supervisor, 3).await;
    let clone = supervisor.clone();
    drop(supervisor);
    assert!(
        started.iter().all(|(_, handle)| handle.is_alive()),
        "a clone still holds them"
    );

    drop(clone);

    for (id, handle) in &started {
        assert_eq!(handle.wait().await, ExitReason::Killed);
        assert_eq!(stub.pid(*id), None);
    }
    assert_eq!(stub.running_count(), 0);
    let mut ended = Vec::new();
    for _ in 0..6 {
        let event = events.recv().await.unwrap();
        match event.kind {
            EventKind::Started => assert!(!ended.contains(&event.session_id)),
            EventKind::Stopped { reason } => {
                assert_eq!(reason, ExitReason::Killed);
                ended.push(event.session_id);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    ended.sort();
    let mut ids: Vec<_> = started.iter().map(|(id, _)| *id).collect();
    ids.sort();
    assert_eq!(ended, ids);
    assert_tasks_settle(baseline).await;
}
