//! Helpers shared by the integration tests: projects in temporary
//! directories, supervisors around the stub, assertions that a session has
//! left every registry, event reading, manual polling and task counting.

#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use jido_supervisor::{EventKind, ExitReason, Session, SessionEvent, SessionId, SessionSupervisor};
use jido_testkit::SessionSupervisorStub;
use tempfile::TempDir;
use tokio::sync::broadcast::{self, error::TryRecvError};

/// A fresh project directory, removed when dropped.
pub fn project() -> TempDir {
    tempfile::tempdir().expect("a temporary project directory")
}

/// `n` fresh project directories.
pub fn projects(n: usize) -> Vec<TempDir> {
    (0..n).map(|_| project()).collect()
}

/// A new session (new id) on the project `dir`.
pub fn session(dir: &TempDir) -> Session {
    Session::new(dir.path()).expect("a valid session")
}

/// A supervisor whose sessions are started by `stub`.
pub fn supervisor_with(stub: &SessionSupervisorStub) -> SessionSupervisor {
    SessionSupervisor::builder()
        .session_child(stub.clone())
        .build()
}

/// A stub and a supervisor using it, with the default limit (10).
pub fn stub_supervisor() -> (SessionSupervisor, SessionSupervisorStub) {
    let stub = SessionSupervisorStub::new();
    (supervisor_with(&stub), stub)
}

/// A stub and a supervisor using it, holding at most `limit` sessions.
pub fn stub_supervisor_with_limit(limit: usize) -> (SessionSupervisor, SessionSupervisorStub) {
    let stub = SessionSupervisorStub::new();
    let supervisor = SessionSupervisor::builder()
        .session_child(stub.clone())
        .max_sessions(limit)
        .build();
    (supervisor, stub)
}

/// Asserts that session `id` has left the registry and is reported by no
/// lookup.
#[track_caller]
pub fn assert_gone(supervisor: &SessionSupervisor, id: SessionId) {
    assert!(
        supervisor.registry().lookup(id).is_none(),
        "session {id} is still registered"
    );
    assert!(!supervisor.session_running(id), "session {id} still runs");
    assert!(supervisor.find_session(id).is_none());
    assert!(
        supervisor
            .list_sessions()
            .iter()
            .all(|(listed, _)| *listed != id)
    );
    assert!(supervisor.tree(id).is_none());
    assert!(supervisor.manager(id).is_none());
    assert!(supervisor.state(id).is_none());
}

/// Asserts that no session is registered, runs or is starting.
#[track_caller]
pub fn assert_empty(supervisor: &SessionSupervisor) {
    assert_eq!(
        supervisor.registry().count(),
        0,
        "sessions still registered"
    );
    assert_eq!(supervisor.count_children(), 0, "trees still counted");
    assert!(supervisor.list_sessions().is_empty());
}

/// The next event, failing (rather than hanging) if none comes within a
/// minute (virtual time in paused tests).
pub async fn next_event(events: &mut broadcast::Receiver<SessionEvent>) -> SessionEvent {
    tokio::time::timeout(Duration::from_secs(60), events.recv())
        .await
        .expect("an event within a minute")
        .expect("the event channel is open and not lagging")
}

/// The next event, asserted to be about session `id`; returns what happened.
pub async fn next_kind(events: &mut broadcast::Receiver<SessionEvent>, id: SessionId) -> EventKind {
    let event = next_event(events).await;
    assert_eq!(event.session_id, id, "event about another session: {event}");
    event.kind
}

/// Reads the next event about `id` and asserts it is a restart of `child`.
pub async fn expect_restarted(
    events: &mut broadcast::Receiver<SessionEvent>,
    id: SessionId,
    child: &str,
) {
    match next_kind(events, id).await {
        EventKind::Restarted { child: got, reason } => {
            assert_eq!(got, *child, "wrong child restarted");
            assert_eq!(reason, ExitReason::Killed);
        }
        other => panic!("expected Restarted {{ child: {child} }}, got {other:?}"),
    }
}

/// Awaits `future`, failing (rather than hanging) if it has not finished
/// within a minute (virtual time in paused tests).
pub async fn within_a_minute<F: Future>(future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(60), future)
        .await
        .expect("finished within a minute")
}

/// Asserts that no event is waiting.
#[track_caller]
pub fn assert_no_event(events: &mut broadcast::Receiver<SessionEvent>) {
    match events.try_recv() {
        Err(TryRecvError::Empty) => {}
        other => panic!("expected no event, got {other:?}"),
    }
}

/// Polls `future` once, with a waker that does nothing.
pub fn poll_once<F: Future + ?Sized>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

/// How many tasks the current runtime should have alive once `supervisor`
/// has started a session: those alive now, plus the supervisor's own
/// process if it has not started yet.
pub fn baseline(supervisor: &SessionSupervisor) -> usize {
    alive_tasks() + usize::from(supervisor.pid().is_none())
}

/// How many tasks the current runtime has alive.
pub fn alive_tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

/// Lets the runtime drop the tasks that have ended or were killed, then
/// asserts that only `baseline` tasks are alive.
///
/// On a current-thread runtime a few yields run every killed task to its
/// end. On a multi-thread runtime a finished task is released by its worker
/// a moment after it woke its joiners, and a loaded machine may preempt that
/// worker in between; so this yields until the count is back, giving up (and
/// failing) only after ten seconds of real time. It returns as soon as the
/// count is right: the time limit is a guard against hanging, not a wait.
pub async fn assert_tasks_settle(baseline: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while alive_tasks() != baseline && std::time::Instant::now() < deadline {
        tokio::task::yield_now().await;
        std::thread::yield_now();
    }
    assert_eq!(alive_tasks(), baseline, "tasks leaked");
}
