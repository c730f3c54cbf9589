//! `Addr::call`: answered at once without a timer in the common case, and
//! still bounded by its timeout when the answer is slow (issue 23: the
//! call looks again after one yield before it arms its timer).

use std::time::Duration;

use jido_process::{CallError, Context, Worker, spawn_worker};

/// Answers after `yields` yields (0: at once), or never (`None`).
struct Slow;

impl Worker for Slow {
    type Request = Option<u32>;
    type Reply = u32;

    async fn handle(&mut self, yields: Option<u32>, _ctx: &mut Context) -> u32 {
        match yields {
            Some(yields) => {
                for _ in 0..yields {
                    tokio::task::yield_now().await;
                }
                yields
            }
            None => std::future::pending().await,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_that_take_more_than_one_yield_still_arrive() {
    let worker = spawn_worker(Slow);
    for yields in [0, 1, 2, 5, 50] {
        assert_eq!(worker.call(Some(yields)).await.unwrap(), yields);
    }
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_call_that_is_never_answered_times_out() {
    let worker = spawn_worker(Slow);
    assert_eq!(worker.call(Some(0)).await.unwrap(), 0);
    assert_eq!(
        worker
            .call_timeout(None, Duration::from_millis(300))
            .await
            .unwrap_err(),
        CallError::Timeout {
            after: Duration::from_millis(300)
        }
    );
}

/// Answers on the channel its request carries, or drops it for 0.
struct Replier;

impl Worker for Replier {
    type Request = (u32, tokio::sync::oneshot::Sender<u32>);
    type Reply = ();

    async fn handle(&mut self, (n, reply): Self::Request, _ctx: &mut Context) {
        if n > 0 {
            let _ = reply.send(n + 1);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_with_answers_on_the_requests_channel_and_an_unanswered_one_is_exited() {
    use jido_process::{ChildSpec, SupervisorSpec};
    let supervisor = SupervisorSpec::new()
        .child(ChildSpec::worker("replier", |_: &()| Replier))
        .start(())
        .await
        .unwrap();
    let replier = supervisor.child_ref::<Replier>("replier");
    assert_eq!(replier.call_with(|reply| (41, reply)).await.unwrap(), 42);
    // Dropped unanswered: said at once, not after the 5 s timeout.
    assert!(matches!(
        replier.call_with(|reply| (0, reply)).await,
        Err(CallError::Exited { .. })
    ));
    // Through a restart, as `call`.
    replier.pid().unwrap().kill();
    assert_eq!(replier.call_with(|reply| (1, reply)).await.unwrap(), 2);
}
