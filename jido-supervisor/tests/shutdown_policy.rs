//! `stop_session` terminates a tree by its shutdown policy: brutal kill,
//! timeout then kill, or waiting as long as it takes (paused time).

mod common;

use std::time::Duration;

use common::{
    assert_empty, assert_gone, assert_no_event, next_kind, project, session, supervisor_with,
};
use jido_supervisor::ExitReason;
use jido_supervisor::process::Shutdown;
use jido_supervisor::tree::SessionSup;
use jido_supervisor::{EventKind, SessionSupervisor};
use jido_testkit::{Script, SessionSupervisorStub};
use tokio::time::Instant;

/// Starts one session with `stub` following `script`, stops it, and returns
/// the reason `stop_session` gave and how much (virtual) time it took; checks
/// that the session is gone and that the events were Started then
/// Stopped{reason}.
async fn stop_with(stub: SessionSupervisorStub, script: Script) -> (ExitReason, Duration) {
    let supervisor = supervisor_with(&stub);
    let mut events = supervisor.subscribe();
    let dir = project();
    let session = session(&dir);
    let id = session.id();
    stub.script_next(script);
    let handle = supervisor.start_session(session).await.unwrap();
    let before = Instant::now();

    let reason = supervisor.stop_session(id).await.unwrap();

    let took = Instant::now() - before;
    assert!(!handle.is_alive());
    assert_eq!(handle.pid().exit_reason(), Some(reason.clone()));
    assert_eq!(stub.pid(id), None);
    assert_gone(&supervisor, id);
    assert_empty(&supervisor);
    assert_eq!(next_kind(&mut events, id).await, EventKind::Started);
    assert_eq!(
        next_kind(&mut events, id).await,
        EventKind::Stopped {
            reason: reason.clone()
        }
    );
    assert_no_event(&mut events);
    // The project can be opened again.
    supervisor
        .start_session(common::session(&dir))
        .await
        .unwrap();
    (reason, took)
}

#[tokio::test(start_paused = true)]
async fn a_child_that_ignores_stop_is_killed_after_the_timeout() {
    let timeout = Duration::from_secs(3);
    let stub = SessionSupervisorStub::with_shutdown(Shutdown::Timeout(timeout));

    let (reason, took) = stop_with(stub, Script::IgnoreStop).await;

    assert_eq!(reason, ExitReason::Killed);
    assert!(took >= timeout, "killed after {took:?}, before the timeout");
}

#[tokio::test(start_paused = true)]
async fn a_cooperative_child_stops_before_the_timeout() {
    let timeout = Duration::from_secs(3);
    let stub = SessionSupervisorStub::with_shutdown(Shutdown::Timeout(timeout));

    let (reason, took) = stop_with(stub, Script::Succeed).await;

    assert_eq!(reason, ExitReason::Shutdown);
    assert!(took < timeout, "waited the whole timeout: {took:?}");
}

#[tokio::test(start_paused = true)]
async fn brutal_kill_kills_at_once() {
    let stub = SessionSupervisorStub::with_shutdown(Shutdown::BrutalKill);

    let (reason, took) = stop_with(stub, Script::IgnoreStop).await;

    assert_eq!(reason, ExitReason::Killed);
    assert_eq!(took, Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn brutal_kill_does_not_ask_a_cooperative_child() {
    let stub = SessionSupervisorStub::with_shutdown(Shutdown::BrutalKill);

    let (reason, _) = stop_with(stub, Script::Succeed).await;

    assert_eq!(reason, ExitReason::Killed);
}

#[tokio::test(start_paused = true)]
async fn infinity_waits_for_a_cooperative_child() {
    let stub = SessionSupervisorStub::with_shutdown(Shutdown::Infinity);

    let (reason, _) = stop_with(stub, Script::Succeed).await;

    assert_eq!(reason, ExitReason::Shutdown);
}

#[tokio::test(start_paused = true)]
async fn infinity_waits_for_as_long_as_it_takes() {
    let stub = SessionSupervisorStub::with_shutdown(Shutdown::Infinity);
    let supervisor = supervisor_with(&stub);
    let dir = project();
    let session = session(&dir);
    let id = session.id();
    stub.script_next(Script::IgnoreStop);
    let handle = supervisor.start_session(session).await.unwrap();

    let stop = supervisor.stop_session(id);
    tokio::pin!(stop);
    tokio::select! {
        result = &mut stop => panic!("stop_session returned {result:?} while the child runs"),
        () = tokio::time::sleep(Duration::from_secs(24 * 3600)) => {}
    }
    assert!(handle.is_alive());
    assert!(supervisor.registry().contains(id));

    handle.pid().kill();

    assert_eq!(stop.await, Ok(ExitReason::Killed));
    assert_gone(&supervisor, id);
    assert_empty(&supervisor);
}

#[tokio::test(start_paused = true)]
async fn a_real_tree_with_brutal_kill_is_killed_with_its_children() {
    let supervisor = SessionSupervisor::builder()
        .session_child(SessionSup::new().shutdown(Shutdown::BrutalKill))
        .build();
    let dir = project();
    let session = session(&dir);
    let id = session.id();
    supervisor.start_session(session).await.unwrap();
    let manager = supervisor.manager(id).unwrap().pid().unwrap();
    let state = supervisor.state(id).unwrap().pid().unwrap();

    assert_eq!(supervisor.stop_session(id).await, Ok(ExitReason::Killed));

    assert!(!manager.is_alive());
    assert!(!state.is_alive());
    assert_eq!(state.wait().await, ExitReason::Killed);
    assert_gone(&supervisor, id);
    assert_empty(&supervisor);
}

#[tokio::test(start_paused = true)]
async fn a_real_tree_is_waited_for_by_default() {
    let supervisor = SessionSupervisor::new();
    let dir = project();
    let session = session(&dir);
    let id = session.id();
    let handle = supervisor.start_session(session).await.unwrap();
    assert_eq!(handle.tree().shutdown_policy(), Shutdown::Infinity);

    assert_eq!(supervisor.stop_session(id).await, Ok(ExitReason::Shutdown));
    assert_gone(&supervisor, id);
}
