//! `Script::CrashAfterStart` on a multi-thread runtime.

use jido_supervisor::Session;
use jido_supervisor::SessionSupervisor;
use jido_testkit::{Script, SessionSupervisorStub};

/// A start scripted `CrashAfterStart` must succeed (then the session ends),
/// whatever thread calls it. Called from outside a worker (as the body of a
/// multi-thread `#[tokio::test]` is), the stub's process can run on a worker
/// and end before the stub registers it, and the start would fail with
/// `Child(OwnerExited)`: about 3 times in 4 before the stub's process waited
/// for its registration, so 1000 tries catch that race with near certainty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_after_start_starts_on_a_multi_thread_runtime() {
    let dir = tempfile::tempdir().unwrap();
    for attempt in 0..1000 {
        let stub = SessionSupervisorStub::new();
        stub.script_default(Script::exit_normally());
        let supervisor = SessionSupervisor::builder()
            .session_child(stub.clone())
            .build();
        let session = Session::new(dir.path()).unwrap();
        let handle = match supervisor.start_session(session).await {
            Ok(handle) => handle,
            Err(error) => panic!("attempt {attempt}: {error:?}"),
        };
        handle.wait().await;
        assert_eq!(supervisor.registry().count(), 0);
    }
}
