//! Dropping a `start_session` future at any await point leaves no
//! registration, no process name, no counted child and no running task, and
//! the project can be started again.

mod common;

use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use common::{
    assert_empty, assert_gone, assert_no_event, assert_tasks_settle, baseline, next_kind,
    poll_once, project, session, stub_supervisor, within_a_minute,
};
use jido_supervisor::ExitReason;
use jido_supervisor::{EventKind, SessionSupervisor, StartError};
use jido_testkit::{Script, SessionSupervisorStub};

/// (yields before spawning, yields after spawning) of the slow starts tried.
const SHAPES: [(u32, u32); 8] = [
    (0, 0),
    (0, 1),
    (1, 0),
    (1, 1),
    (2, 3),
    (3, 2),
    (0, 4),
    (4, 0),
];

#[tokio::test]
async fn dropping_a_slow_start_at_every_await_point_leaves_nothing() {
    let (supervisor, stub) = stub_supervisor();
    let mut events = supervisor.subscribe();
    let baseline = baseline(&supervisor);
    let dir = project();

    for (before, after) in SHAPES {
        let script = Script::Slow { before, after };
        let await_points = (before + after) as usize;
        for polls in 0..=await_points {
            let session = session(&dir);
            let id = session.id();
            stub.script_session(id, script.clone());
            {
                let mut start = pin!(supervisor.start_session(session));
                for _ in 0..polls {
                    assert!(
                        poll_once(start.as_mut()).is_pending(),
                        "{script:?} finished before {polls} polls"
                    );
                }
                // While in flight, the session is registered but not counted.
                assert_eq!(supervisor.registry().contains(id), polls > 0);
                assert_eq!(supervisor.count_children(), 0);
                assert!(!supervisor.session_running(id));
                // The stub has spawned its process once the yields before
                // spawning are behind.
                assert_eq!(
                    stub.pid(id).is_some(),
                    polls > before as usize,
                    "{script:?} after {polls} polls"
                );
            }

            assert_gone(&supervisor, id);
            assert_empty(&supervisor);
            assert_eq!(stub.pid(id), None, "{script:?} after {polls} polls");
            assert_no_event(&mut events);
            assert_tasks_settle(baseline).await;
        }

        // One poll more than there are await points completes the start: the
        // loop above did drop it at every one of them.
        let session = session(&dir);
        let id = session.id();
        stub.script_session(id, script.clone());
        let handle = {
            let mut start = pin!(supervisor.start_session(session));
            for _ in 0..await_points {
                assert!(poll_once(start.as_mut()).is_pending());
            }
            match poll_once(start.as_mut()) {
                Poll::Ready(result) => result.unwrap(),
                Poll::Pending => panic!("{script:?} has more than {await_points} await points"),
            }
        };
        assert!(handle.is_alive());
        assert_eq!(supervisor.count_children(), 1);
        assert_eq!(next_kind(&mut events, id).await, EventKind::Started);
        assert_eq!(supervisor.stop_session(id).await, Ok(ExitReason::Shutdown));
        assert_eq!(
            next_kind(&mut events, id).await,
            EventKind::Stopped {
                reason: ExitReason::Shutdown
            }
        );
        assert_empty(&supervisor);
        assert_tasks_settle(baseline).await;
    }
}

#[tokio::test]
async fn a_dropped_start_does_not_disturb_other_sessions() {
    let (supervisor, stub) = stub_supervisor();
    let (running_dir, dropped_dir) = (project(), project());
    let running = session(&running_dir);
    let running_id = running.id();
    let running_handle = supervisor.start_session(running).await.unwrap();
    let dropped = session(&dropped_dir);
    let dropped_id = dropped.id();
    stub.script_session(
        dropped_id,
        Script::Slow {
            before: 1,
            after: 1,
        },
    );

    {
        let mut start = pin!(supervisor.start_session(dropped));
        assert!(poll_once(start.as_mut()).is_pending());
        assert!(poll_once(start.as_mut()).is_pending());
    }

    assert_gone(&supervisor, dropped_id);
    assert_eq!(supervisor.find_session(running_id), Some(running_handle));
    assert_eq!(supervisor.count_children(), 1);
    assert_eq!(supervisor.registry().count(), 1);
    assert_eq!(stub.running_count(), 1);
}

#[tokio::test(start_paused = true)]
async fn dropping_a_hanging_start_leaves_nothing() {
    let stub = SessionSupervisorStub::new();
    let supervisor = SessionSupervisor::builder()
        .session_child(stub.clone())
        .start_timeout(Duration::from_secs(10))
        .build();
    let mut events = supervisor.subscribe();
    let baseline = baseline(&supervisor);
    let dir = project();
    let session = session(&dir);
    let id = session.id();
    stub.script_session(id, Script::Hang);

    {
        let mut start = pin!(supervisor.start_session(session));
        assert!(poll_once(start.as_mut()).is_pending());
        // Just before the start timeout, it still hangs.
        tokio::time::advance(Duration::from_millis(9_999)).await;
        assert!(poll_once(start.as_mut()).is_pending());
        assert!(supervisor.registry().contains(id));
    }

    assert_gone(&supervisor, id);
    assert_empty(&supervisor);
    assert_no_event(&mut events);
    assert_tasks_settle(baseline).await;
    // Past the (dropped) start's timeout, nothing fires.
    tokio::time::advance(Duration::from_secs(60)).await;
    assert_no_event(&mut events);

    let again = common::session(&dir);
    let again_id = again.id();
    supervisor.start_session(again).await.unwrap();
    assert!(supervisor.session_running(again_id));
}

#[tokio::test(start_paused = true)]
async fn a_start_cut_short_by_an_outer_timeout_leaves_nothing() {
    let (supervisor, stub) = stub_supervisor();
    let baseline = baseline(&supervisor);
    let dir = project();
    let session = session(&dir);
    let id = session.id();
    stub.script_session(id, Script::Hang);

    let result =
        tokio::time::timeout(Duration::from_secs(1), supervisor.start_session(session)).await;

    assert!(
        result.is_err(),
        "the hanging start cannot finish: {result:?}"
    );
    assert_gone(&supervisor, id);
    assert_empty(&supervisor);
    assert_tasks_settle(baseline).await;
    supervisor
        .start_session(common::session(&dir))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_start_dropped_inside_select_leaves_nothing() {
    let (supervisor, stub) = stub_supervisor();
    let baseline = baseline(&supervisor);
    let dir = project();
    let session = session(&dir);
    let id = session.id();
    // Spawned on the first poll, then still yielding when cut short.
    stub.script_session(
        id,
        Script::Slow {
            before: 0,
            after: 3,
        },
    );
    let (cancel, cancelled) = tokio::sync::oneshot::channel::<()>();
    cancel.send(()).unwrap();

    let outcome = tokio::select! {
        biased;
        result = supervisor.start_session(session) => Some(result),
        _ = cancelled => None,
    };

    assert!(outcome.is_none(), "the start should have been cut short");
    assert_gone(&supervisor, id);
    assert_empty(&supervisor);
    assert_eq!(stub.pid(id), None);
    assert_tasks_settle(baseline).await;
}

#[tokio::test(start_paused = true)]
async fn an_abandoned_start_cannot_block_a_later_stop() {
    let (supervisor, stub) = stub_supervisor();
    let dir = project();
    let session = session(&dir);
    let id = session.id();
    stub.script_session(
        id,
        Script::Slow {
            before: 2,
            after: 0,
        },
    );
    {
        let mut start = pin!(supervisor.start_session(session));
        assert!(poll_once(start.as_mut()).is_pending());
    }

    assert_eq!(
        within_a_minute(supervisor.stop_session(id))
            .await
            .unwrap_err(),
        jido_supervisor::StopError::NotFound { id }
    );
    // And starts after it are not refused as duplicates.
    assert!(!matches!(
        supervisor.start_session(common::session(&dir)).await,
        Err(StartError::Registry(_))
    ));
}
