//! The start/stop workloads, generic over the [`Contender`], each timing
//! itself. Run them on the benchmark runtime with
//! [`drive`](crate::runtime::drive).

use std::sync::Arc;
use std::time::{Duration, Instant};

use jido_session::Session;

use crate::Contender;

/// Starts then stops a session, `iterations` times, one after the other;
/// returns the time taken. Iteration `i` starts a clone of
/// `sessions[i % sessions.len()]` (the clone is timed: it is part of every
/// contender's work alike, and small next to a start).
///
/// # Panics
///
/// If `sessions` is empty, or the contender fails.
pub async fn sequential<C: Contender>(
    contender: C,
    sessions: Arc<[Session]>,
    iterations: u64,
) -> Duration {
    let started = Instant::now();
    for (_, session) in (0..iterations).zip(sessions.iter().cycle()) {
        let running = contender.start(session.clone()).await;
        contender.stop(running).await;
    }
    started.elapsed()
}

/// One round: `sessions.len()` tasks run at once, task `t` starting then
/// stopping a clone of `sessions[t]`, `per_task` times over; returns the
/// time until every task has finished. A round starts and stops
/// `sessions.len() * per_task` sessions.
///
/// # Panics
///
/// If the contender fails.
pub async fn concurrent_round<C: Contender>(
    contender: C,
    sessions: Arc<[Session]>,
    per_task: u64,
) -> Duration {
    let started = Instant::now();
    let tasks: Vec<_> = (0..sessions.len())
        .map(|task| {
            let contender = contender.clone();
            let sessions = Arc::clone(&sessions);
            tokio::spawn(async move {
                let session = &sessions[task];
                for _ in 0..per_task {
                    let running = contender.start(session.clone()).await;
                    contender.stop(running).await;
                }
            })
        })
        .collect();
    for task in tasks {
        if let Err(error) = task.await {
            std::panic::resume_unwind(error.into_panic());
        }
    }
    started.elapsed()
}

/// `rounds` [`concurrent_round`]s one after the other; returns their total
/// time.
///
/// # Panics
///
/// If the contender fails.
pub async fn concurrent<C: Contender>(
    contender: C,
    sessions: Arc<[Session]>,
    per_task: u64,
    rounds: u64,
) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..rounds {
        total += concurrent_round(contender.clone(), Arc::clone(&sessions), per_task).await;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::Projects;
    use crate::{Floor, Ours, RactorSessions};

    fn sessions(count: usize) -> (Projects, Arc<[Session]>) {
        let projects = Projects::flat(count);
        let sessions = projects.sessions().to_vec().into();
        (projects, sessions)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ours_sequential_and_concurrent_leave_nothing_open() {
        let (_projects, four) = sessions(4);
        let ours = Ours::new(8);
        sequential(ours.clone(), Arc::clone(&four), 10).await;
        concurrent(ours.clone(), four, 3, 2).await;
        assert_eq!(ours.supervisor().registry().count(), 0);
        assert_eq!(ours.supervisor().count_children(), 0);
        assert!(ours.supervisor().list_sessions().is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn floor_and_ractor_workloads_leave_nothing_open() {
        let (_projects, four) = sessions(4);
        let floor = Floor::new();
        sequential(floor.clone(), Arc::clone(&four), 10).await;
        concurrent(floor.clone(), Arc::clone(&four), 3, 2).await;
        assert!(floor.is_empty());

        let _names = crate::test_support::RACTOR_NAMES.lock().await;
        sequential(RactorSessions, Arc::clone(&four), 10).await;
        concurrent(RactorSessions, four, 3, 2).await;
        assert!(
            !ractor::registry::registered()
                .iter()
                .any(|name| name.starts_with("session-"))
        );
    }
}
