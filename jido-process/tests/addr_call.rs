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
