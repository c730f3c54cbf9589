//! How children are terminated: brutal kill, timeout then kill, infinity.

mod common;

use std::time::Duration;

use jido_process::{ExitReason, Shutdown, SupervisorSpec};
use jido_testkit::ScriptedChildren;
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn brutal_kill_ends_a_child_without_asking() {
    let children = ScriptedChildren::new();
    let supervisor = SupervisorSpec::new()
        .child(children.spec("w").shutdown(Shutdown::BrutalKill))
        .start(())
        .await
        .unwrap();
    let pid = supervisor.whereis("w").unwrap();
    children.journal().take();

    supervisor.terminate_child("w").await.unwrap();

    assert_eq!(pid.wait().await, ExitReason::Killed);
    assert!(
        children.journal().take().is_empty(),
        "terminate ran after a brutal kill"
    );
}

#[tokio::test(start_paused = true)]
async fn a_child_that_ignores_the_request_is_killed_after_the_timeout() {
    let children = ScriptedChildren::new();
    let supervisor = SupervisorSpec::new()
        .child(
            children
                .stubborn_spec("w")
                .shutdown(Shutdown::Timeout(Duration::from_secs(2))),
        )
        .start(())
        .await
        .unwrap();
    let pid = supervisor.whereis("w").unwrap();
    let begun = Instant::now();

    supervisor.terminate_child("w").await.unwrap();

    assert_eq!(begun.elapsed(), Duration::from_secs(2));
    assert_eq!(pid.wait().await, ExitReason::Killed);
}

#[tokio::test(start_paused = true)]
async fn infinity_waits_for_as_long_as_it_takes() {
    let children = ScriptedChildren::new();
    let supervisor = SupervisorSpec::new()
        .child(children.stubborn_spec("w").shutdown(Shutdown::Infinity))
        .start(())
        .await
        .unwrap();
    let pid = supervisor.whereis("w").unwrap();
    let stop = tokio::spawn({
        let supervisor = supervisor.clone();
        async move { supervisor.terminate_child("w").await }
    });

    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert!(!stop.is_finished());
    assert!(pid.is_alive());

    pid.kill();
    stop.await.unwrap().unwrap();
}
