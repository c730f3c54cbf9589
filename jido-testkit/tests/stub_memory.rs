//! Issue 8, item 14: the stub used to keep every session it ever ran and
//! log every call (100k start/stop cycles: +260 MB). Ended sessions are
//! forgotten and the call log is a ring.

use jido_supervisor::{ExitReason, Session, SessionSupervisor};
use jido_testkit::{DEFAULT_CALL_LOG, Script, SessionSupervisorStub};

#[tokio::test]
async fn many_start_stop_cycles_leave_the_stub_holding_nothing_but_a_bounded_log() {
    let stub = SessionSupervisorStub::new().call_log(16);
    let supervisor = SessionSupervisor::builder()
        .session_child(stub.clone())
        .build();
    let dir = tempfile::tempdir().unwrap();
    const CYCLES: usize = 2_000;

    for n in 0..CYCLES {
        let session = Session::new(dir.path()).unwrap();
        let id = session.id();
        if n % 3 == 0 {
            // A per-session script is consumed, not kept.
            stub.script_session(id, Script::Succeed);
        }
        supervisor.start_session(session).await.unwrap();
        if n % 2 == 0 {
            supervisor.stop_session(id).await.unwrap();
        } else {
            stub.crash(id, ExitReason::error("boom"))
                .unwrap()
                .wait()
                .await;
            supervisor.settle().await;
        }
    }
    // Let the last tasks be dropped.
    for _ in 0..3 {
        tokio::task::yield_now().await;
    }

    assert_eq!(stub.call_count(), CYCLES);
    assert_eq!(stub.calls().len(), 16);
    assert_eq!(stub.calls().last().unwrap().number, CYCLES);
    assert_eq!(stub.tracked_sessions(), 0);
    assert_eq!(stub.running_count(), 0);
    assert_eq!(supervisor.registry().count(), 0);
}

#[tokio::test]
async fn the_call_log_keeps_the_default_number_of_calls() {
    let stub = SessionSupervisorStub::new();
    let supervisor = SessionSupervisor::builder()
        .session_child(stub.clone())
        .build();
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..DEFAULT_CALL_LOG + 5 {
        stub.script_next(Script::Ignore);
        let _ = supervisor
            .start_session(Session::new(dir.path()).unwrap())
            .await;
    }
    assert_eq!(stub.calls().len(), DEFAULT_CALL_LOG);
    assert_eq!(stub.calls()[0].number, 6);
    assert_eq!(stub.tracked_sessions(), 0);
}
