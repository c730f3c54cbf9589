//! Concurrent starts and stops on a multi-thread runtime: one winner per
//! project, the limit never exceeded, nothing leaked.

mod common;

use std::sync::Arc;

use common::{
    assert_empty, assert_tasks_settle, baseline, project, projects, session,
    stub_supervisor_with_limit,
};
use jido_supervisor::session::ProjectPath;
use jido_supervisor::{ExitReason, RegistryError};
use jido_supervisor::{Session, SessionId};
use jido_supervisor::{SessionHandle, SessionSupervisor, StartError};
use tokio::sync::Barrier;

/// Starts every session in `sessions` at once, each from its own task (all
/// released together by a barrier); returns each session's id and result.
async fn start_all_at_once(
    supervisor: &SessionSupervisor,
    sessions: Vec<Session>,
) -> Vec<(SessionId, Result<SessionHandle, StartError>)> {
    let barrier = Arc::new(Barrier::new(sessions.len()));
    let tasks: Vec<_> = sessions
        .into_iter()
        .map(|session| {
            let supervisor = supervisor.clone();
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                let id = session.id();
                barrier.wait().await;
                (id, supervisor.start_session(session).await)
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

/// Checks that of `results` (starts of one project at `dir`) exactly one
/// won, every other was told which session has the project, and only the
/// winner is registered; returns the winner.
fn assert_one_winner(
    supervisor: &SessionSupervisor,
    dir: &tempfile::TempDir,
    results: Vec<(SessionId, Result<SessionHandle, StartError>)>,
) -> (SessionId, SessionHandle) {
    let total = results.len();
    let (winners, losers): (Vec<_>, Vec<_>) =
        results.into_iter().partition(|(_, result)| result.is_ok());
    assert_eq!(winners.len(), 1, "exactly one start wins");
    assert_eq!(losers.len(), total - 1);
    let (winner, handle) = winners.into_iter().next().unwrap();
    let handle = handle.unwrap();
    let path = ProjectPath::new(dir.path()).unwrap();
    for (_, result) in losers {
        assert_eq!(
            result.unwrap_err(),
            StartError::Registry(RegistryError::DuplicateProject {
                path: path.clone(),
                owner: winner,
            })
        );
    }
    assert_eq!(supervisor.registry().count(), 1);
    assert_eq!(supervisor.count_children(), 1);
    assert_eq!(supervisor.find_session(winner), Some(handle.clone()));
    (winner, handle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_starts_of_one_project_have_one_winner() {
    let (supervisor, stub) = stub_supervisor_with_limit(10);
    let baseline = baseline(&supervisor);
    let dir = project();
    let sessions = (0..100).map(|_| session(&dir)).collect();

    let results = start_all_at_once(&supervisor, sessions).await;

    let (winner, handle) = assert_one_winner(&supervisor, &dir, results);
    assert_eq!(stub.calls().len(), 1, "only the winner reached the child");
    assert_eq!(stub.calls()[0].session_id, winner);

    assert_eq!(
        supervisor.stop_session(winner).await,
        Ok(ExitReason::Shutdown)
    );
    assert!(!handle.is_alive());
    assert_empty(&supervisor);
    assert_tasks_settle(baseline).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_starts_of_one_project_have_one_winner_with_real_trees() {
    let supervisor = SessionSupervisor::new();
    let baseline = baseline(&supervisor);
    let dir = project();
    let sessions = (0..100).map(|_| session(&dir)).collect();

    let results = start_all_at_once(&supervisor, sessions).await;

    let (winner, _) = assert_one_winner(&supervisor, &dir, results);
    let tree = supervisor.tree(winner).expect("the winner runs a tree");
    assert_eq!(
        tree.count_children().active,
        2,
        "one tree: manager and state"
    );
    assert_eq!(
        supervisor.stop_session(winner).await,
        Ok(ExitReason::Shutdown)
    );
    assert_empty(&supervisor);
    assert_tasks_settle(baseline).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn starts_of_distinct_projects_beyond_the_limit_stop_at_the_limit() {
    let limit = 5;
    let (supervisor, stub) = stub_supervisor_with_limit(limit);
    let baseline = baseline(&supervisor);
    let dirs = projects(40);
    let sessions = dirs.iter().map(session).collect();

    let results = start_all_at_once(&supervisor, sessions).await;

    let (won, lost): (Vec<_>, Vec<_>) = results.into_iter().partition(|(_, r)| r.is_ok());
    assert_eq!(won.len(), limit);
    for (_, result) in lost {
        assert_eq!(
            result.unwrap_err(),
            StartError::Registry(RegistryError::LimitReached {
                count: limit,
                limit
            })
        );
    }
    assert_eq!(supervisor.registry().count(), limit);
    assert_eq!(supervisor.count_children(), limit);
    assert_eq!(stub.running_count(), limit);
    assert_eq!(stub.calls().len(), limit);
    for (id, _) in &won {
        assert!(supervisor.session_running(*id));
    }

    supervisor.shutdown().await;
    assert_empty(&supervisor);
    assert_tasks_settle(baseline).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_tasks_starting_and_stopping_their_own_projects_leave_nothing() {
    let limit = 8;
    let (supervisor, _stub) = stub_supervisor_with_limit(limit);
    let baseline = baseline(&supervisor);
    let dirs = Arc::new(projects(limit));
    let barrier = Arc::new(Barrier::new(limit));
    let tasks: Vec<_> = (0..limit)
        .map(|n| {
            let supervisor = supervisor.clone();
            let dirs = Arc::clone(&dirs);
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                for _ in 0..50 {
                    let session = session(&dirs[n]);
                    let id = session.id();
                    supervisor.start_session(session).await.unwrap();
                    assert_eq!(supervisor.stop_session(id).await, Ok(ExitReason::Shutdown));
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }

    assert_empty(&supervisor);
    assert_tasks_settle(baseline).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_stops_of_one_session_end_it_once() {
    let (supervisor, _stub) = stub_supervisor_with_limit(10);
    let mut events = supervisor.subscribe();
    let dir = project();
    let session = session(&dir);
    let id = session.id();
    supervisor.start_session(session).await.unwrap();
    let barrier = Arc::new(Barrier::new(10));
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let supervisor = supervisor.clone();
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                supervisor.stop_session(id).await
            })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(reason) => {
                assert_eq!(reason, ExitReason::Shutdown);
                ok += 1;
            }
            Err(error) => assert_eq!(error, jido_supervisor::StopError::NotFound { id }),
        }
    }

    assert!(ok >= 1, "at least one stop ended the session");
    assert_empty(&supervisor);
    assert_eq!(
        common::next_kind(&mut events, id).await,
        jido_supervisor::EventKind::Started
    );
    assert_eq!(
        common::next_kind(&mut events, id).await,
        jido_supervisor::EventKind::Stopped {
            reason: ExitReason::Shutdown
        }
    );
    common::assert_no_event(&mut events);
}
