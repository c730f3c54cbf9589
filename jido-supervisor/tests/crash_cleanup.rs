//! A tree that ends by itself (error, panic, kill, normal exit) leaves both
//! registries at once, with an event saying why, and its project can be
//! opened again: no stale entry, unlike the original.

mod common;

use async_trait::async_trait;
use common::{
    assert_empty, assert_gone, assert_no_event, assert_tasks_settle, baseline, next_kind, project,
    projects, session, stub_supervisor,
};
use jido_supervisor::ExitReason;
use jido_supervisor::process::spawn;
use jido_supervisor::process::{Shutdown, StartOutcome};
use jido_supervisor::tree::{ChildContext, SessionChild, TreeHandle};
use jido_supervisor::{EventKind, SessionSupervisor, StopError, Term};
use jido_testkit::{Script, SessionSupervisorStub};

/// Starts a session on `dir`, ends its tree with `end`, waits for the end,
/// and checks the cleanup and the events (`Started`, then `expected`).
async fn assert_end_is_cleaned_up(
    end: impl FnOnce(
        &SessionSupervisorStub,
        jido_supervisor::SessionId,
    ) -> Option<jido_supervisor::process::Pid>,
    expected_reason: ExitReason,
    expected_event: EventKind,
) {
    let (supervisor, stub) = stub_supervisor();
    let mut events = supervisor.subscribe();
    let baseline = baseline(&supervisor);
    let dir = project();
    let session = session(&dir);
    let id = session.id();
    let handle = supervisor.start_session(session).await.unwrap();

    let pid = end(&stub, id).expect("the stub's process runs");
    assert_eq!(&pid, handle.pid());
    assert_eq!(pid.wait().await, expected_reason);

    assert_gone(&supervisor, id);
    assert_empty(&supervisor);
    assert_eq!(stub.pid(id), None);
    assert_eq!(next_kind(&mut events, id).await, EventKind::Started);
    assert_eq!(next_kind(&mut events, id).await, expected_event);
    assert_no_event(&mut events);
    assert_tasks_settle(baseline).await;

    // The project can be opened again, and stopping the new one works.
    let again = common::session(&dir);
    let again_id = again.id();
    supervisor.start_session(again).await.unwrap();
    assert!(supervisor.session_running(again_id));
    assert_eq!(
        supervisor.stop_session(id).await,
        Err(StopError::NotFound { id })
    );
    assert_eq!(
        supervisor.stop_session(again_id).await,
        Ok(ExitReason::Shutdown)
    );
}

#[tokio::test]
async fn a_tree_ending_with_an_error_is_cleaned_up_as_a_crash() {
    assert_end_is_cleaned_up(
        |stub, id| stub.crash(id, ExitReason::error("boom")),
        ExitReason::error("boom"),
        EventKind::Crashed {
            reason: ExitReason::error("boom"),
        },
    )
    .await;
}

#[tokio::test]
async fn a_panicking_tree_is_cleaned_up_as_a_crash() {
    assert_end_is_cleaned_up(
        |stub, id| stub.panic(id, "kaboom"),
        ExitReason::Panic("kaboom".into()),
        EventKind::Crashed {
            reason: ExitReason::Panic("kaboom".into()),
        },
    )
    .await;
}

#[tokio::test]
async fn a_killed_tree_is_cleaned_up_as_a_crash() {
    assert_end_is_cleaned_up(
        |stub, id| {
            let pid = stub.pid(id)?;
            pid.kill();
            Some(pid)
        },
        ExitReason::Killed,
        EventKind::Crashed {
            reason: ExitReason::Killed,
        },
    )
    .await;
}

#[tokio::test]
async fn a_tree_ending_normally_is_cleaned_up_as_stopped() {
    assert_end_is_cleaned_up(
        |stub, id| stub.crash(id, ExitReason::Normal),
        ExitReason::Normal,
        EventKind::Stopped {
            reason: ExitReason::Normal,
        },
    )
    .await;
}

#[tokio::test]
async fn a_tree_ending_with_shutdown_by_itself_is_cleaned_up_as_stopped() {
    assert_end_is_cleaned_up(
        |stub, id| stub.crash(id, ExitReason::Shutdown),
        ExitReason::Shutdown,
        EventKind::Stopped {
            reason: ExitReason::Shutdown,
        },
    )
    .await;
}

#[tokio::test]
async fn a_tree_that_exits_normally_right_after_start_is_cleaned_up() {
    let (supervisor, stub) = stub_supervisor();
    let mut events = supervisor.subscribe();
    let dir = project();
    let session = session(&dir);
    let id = session.id();
    stub.script_next(Script::exit_normally());

    let handle = supervisor.start_session(session).await.unwrap();
    assert_eq!(handle.wait().await, ExitReason::Normal);

    assert_gone(&supervisor, id);
    assert_empty(&supervisor);
    assert_eq!(next_kind(&mut events, id).await, EventKind::Started);
    assert_eq!(
        next_kind(&mut events, id).await,
        EventKind::Stopped {
            reason: ExitReason::Normal
        }
    );
    supervisor
        .start_session(common::session(&dir))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_tree_that_crashes_right_after_start_is_cleaned_up() {
    let (supervisor, stub) = stub_supervisor();
    let mut events = supervisor.subscribe();
    let dir = project();
    let session = session(&dir);
    let id = session.id();
    stub.script_next(Script::CrashAfterStart(ExitReason::error("early")));

    let handle = supervisor.start_session(session).await.unwrap();
    assert_eq!(handle.wait().await, ExitReason::error("early"));

    assert_gone(&supervisor, id);
    assert_eq!(next_kind(&mut events, id).await, EventKind::Started);
    assert_eq!(
        next_kind(&mut events, id).await,
        EventKind::Crashed {
            reason: ExitReason::error("early")
        }
    );
    supervisor
        .start_session(common::session(&dir))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_crash_leaves_the_other_sessions_alone() {
    let (supervisor, stub) = stub_supervisor();
    let dirs = projects(3);
    let mut ids = Vec::new();
    for dir in &dirs {
        let session = session(dir);
        ids.push(session.id());
        supervisor.start_session(session).await.unwrap();
    }

    let pid = stub.crash(ids[1], ExitReason::error("one down")).unwrap();
    pid.wait().await;

    assert_gone(&supervisor, ids[1]);
    assert!(supervisor.session_running(ids[0]));
    assert!(supervisor.session_running(ids[2]));
    assert_eq!(supervisor.count_children(), 2);
    assert_eq!(supervisor.registry().count(), 2);
    assert_eq!(stub.running_count(), 2);
}

#[tokio::test]
async fn a_killed_real_tree_takes_its_children_and_names_with_it() {
    let supervisor = SessionSupervisor::new();
    let mut events = supervisor.subscribe();
    let baseline = baseline(&supervisor);
    let dir = project();
    let session = session(&dir);
    let id = session.id();
    let handle = supervisor.start_session(session).await.unwrap();
    let manager = supervisor.manager(id).unwrap().pid().unwrap();
    let state = supervisor.state(id).unwrap().pid().unwrap();

    handle.pid().kill();
    assert_eq!(handle.wait().await, ExitReason::Killed);

    assert!(!manager.is_alive());
    assert!(!state.is_alive());
    assert_gone(&supervisor, id);
    assert_empty(&supervisor);
    assert_eq!(next_kind(&mut events, id).await, EventKind::Started);
    assert_eq!(
        next_kind(&mut events, id).await,
        EventKind::Crashed {
            reason: ExitReason::Killed
        }
    );
    assert_tasks_settle(baseline).await;
    supervisor
        .start_session(common::session(&dir))
        .await
        .unwrap();
}

/// A child whose tree has already ended when `start` returns its handle.
struct EndsBeforeStartReturns;

#[async_trait]
impl SessionChild for EndsBeforeStartReturns {
    async fn start(&self, _ctx: ChildContext) -> Result<StartOutcome<TreeHandle>, Term> {
        let pid = spawn(async { ExitReason::error("ended early") });
        pid.wait().await;
        Ok(StartOutcome::Started(TreeHandle::new(
            pid,
            Shutdown::BrutalKill,
        )))
    }
}

#[tokio::test]
async fn a_tree_that_ended_before_start_returned_is_cleaned_up() {
    let supervisor = SessionSupervisor::builder()
        .session_child(EndsBeforeStartReturns)
        .build();
    let dir = project();
    let session = session(&dir);
    let id = session.id();

    // Whatever start_session answers, nothing stale is left.
    let _ = supervisor.start_session(session).await;

    assert_gone(&supervisor, id);
    assert_empty(&supervisor);
}

#[tokio::test]
async fn a_tree_that_ended_before_start_returned_is_reported_started_then_crashed() {
    let supervisor = SessionSupervisor::builder()
        .session_child(EndsBeforeStartReturns)
        .build();
    let mut events = supervisor.subscribe();
    let dir = project();
    let session = session(&dir);
    let id = session.id();

    let _ = supervisor.start_session(session).await;

    // A subscriber must never see a session "started" after it "crashed".
    assert_eq!(next_kind(&mut events, id).await, EventKind::Started);
    assert_eq!(
        next_kind(&mut events, id).await,
        EventKind::Crashed {
            reason: ExitReason::error("ended early")
        }
    );
    assert_no_event(&mut events);
}
