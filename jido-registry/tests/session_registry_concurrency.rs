//! `SessionRegistry` under concurrent callers: one winner per project and per
//! id, exactly `limit` winners, never more than `limit` entries at any
//! instant; and a large registry still behaves (no timing is asserted).

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

use common::{Projects, session, stored, with_id};
use jido_registry::{Registration, RegistryError, SessionRegistry};
use jido_session::{ProjectPath, Session, SessionId};

/// Registers every session from its own task, all released at once by a
/// barrier, and returns the results in the order of `sessions`.
async fn race(
    registry: &SessionRegistry,
    sessions: Vec<Session>,
) -> Vec<Result<Registration, RegistryError>> {
    let barrier = Arc::new(tokio::sync::Barrier::new(sessions.len()));
    let tasks: Vec<_> = sessions
        .into_iter()
        .map(|session| {
            let registry = registry.clone();
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                registry.register(session)
            })
        })
        .collect();
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_racers_for_one_project_yield_exactly_one_winner() {
    let projects = Projects::new();
    let dir = projects.dir("contested");
    let registry = SessionRegistry::with_limit(2_000);
    let sessions: Vec<Session> = (0..1_000).map(|_| session(&dir)).collect();

    let results = race(&registry, sessions).await;

    let winners: Vec<SessionId> = results
        .iter()
        .filter_map(|result| result.as_ref().ok().map(|r| r.id()))
        .collect();
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    let winner = winners[0];
    let path = ProjectPath::new(&dir).unwrap();
    for error in results.into_iter().filter_map(Result::err) {
        assert_eq!(
            error,
            RegistryError::DuplicateProject {
                path: path.clone(),
                owner: winner
            }
        );
    }
    assert_eq!(registry.count(), 1);
    assert_eq!(registry.lookup_by_path(&dir).unwrap().id(), winner);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_racers_for_one_id_yield_exactly_one_winner() {
    let projects = Projects::new();
    let id = SessionId::new();
    let registry = SessionRegistry::with_limit(2_000);
    let sessions: Vec<Session> = projects
        .dirs(1_000)
        .iter()
        .map(|dir| with_id(dir, id))
        .collect();

    let results = race(&registry, sessions).await;

    let wins = results.iter().filter(|result| result.is_ok()).count();
    assert_eq!(wins, 1);
    for error in results.into_iter().filter_map(Result::err) {
        assert_eq!(error, RegistryError::DuplicateId { id });
    }
    assert_eq!(registry.count(), 1);
    assert_eq!(registry.list_ids(), vec![id]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_distinct_projects_fill_the_registry_to_exactly_its_limit() {
    const LIMIT: usize = 37;
    let projects = Projects::new();
    let registry = SessionRegistry::with_limit(LIMIT);
    let sessions: Vec<Session> = projects.dirs(1_000).iter().map(session).collect();

    let results = race(&registry, sessions).await;

    let mut winners: Vec<SessionId> = results
        .iter()
        .filter_map(|result| result.as_ref().ok().map(|r| r.id()))
        .collect();
    assert_eq!(winners.len(), LIMIT);
    for error in results.into_iter().filter_map(Result::err) {
        assert_eq!(
            error,
            RegistryError::LimitReached {
                count: LIMIT,
                limit: LIMIT
            }
        );
    }
    let mut registered = registry.list_ids();
    winners.sort();
    registered.sort();
    assert_eq!(registered, winners);
    assert_eq!(registry.count(), LIMIT);
}

/// Sets its flag when dropped, including while unwinding.
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

#[test]
fn never_more_than_limit_entries_at_any_instant() {
    const LIMIT: usize = 4;
    const WORKERS: usize = 8;
    const PER_WORKER: usize = 25;
    const ROUNDS: usize = 20;
    let projects = Projects::new();
    let registry = SessionRegistry::with_limit(LIMIT);
    // Each worker owns its projects, so the only refusal it can meet is the limit.
    let dirs = projects.dirs(WORKERS * PER_WORKER);
    let owned: Vec<Vec<Session>> = dirs
        .chunks(PER_WORKER)
        .map(|chunk| chunk.iter().map(session).collect())
        .collect();
    let done = AtomicBool::new(false);
    let successes = AtomicUsize::new(0);
    let start = Barrier::new(WORKERS + 1);

    let (samples, most_seen) = std::thread::scope(|scope| {
        let observer = scope.spawn(|| {
            start.wait();
            let (mut samples, mut most_seen) = (0_usize, 0_usize);
            while !done.load(Ordering::Acquire) {
                let count = registry.count();
                let listed = registry.list_all();
                assert!(count <= LIMIT, "count() = {count} > {LIMIT}");
                assert!(listed.len() <= LIMIT, "list_all() has {}", listed.len());
                let distinct: HashSet<SessionId> = listed.iter().map(|s| s.id()).collect();
                assert_eq!(distinct.len(), listed.len(), "list_all() repeats an id");
                most_seen = most_seen.max(count).max(listed.len());
                samples += 1;
            }
            (samples, most_seen)
        });
        // Stops the observer even if a worker's assertion fails, so that a
        // failure is reported instead of hanging the scope.
        let stop_observer = SetOnDrop(&done);
        let workers: Vec<_> = owned
            .iter()
            .map(|sessions| {
                let (registry, start, successes) = (&registry, &start, &successes);
                scope.spawn(move || {
                    start.wait();
                    for _ in 0..ROUNDS {
                        for session in sessions {
                            match registry.register(session.clone()) {
                                Ok(registration) => {
                                    successes.fetch_add(1, Ordering::Relaxed);
                                    std::thread::yield_now();
                                    let removed = registry.unregister_ticket(registration.ticket());
                                    assert_eq!(removed.map(|s| s.id()), Some(session.id()));
                                }
                                Err(RegistryError::LimitReached { count, limit }) => {
                                    assert_eq!((count, limit), (LIMIT, LIMIT));
                                }
                                Err(other) => panic!("unexpected refusal: {other}"),
                            }
                        }
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.join().unwrap();
        }
        drop(stop_observer);
        observer.join().unwrap()
    });

    assert!(samples > 0);
    assert!(most_seen <= LIMIT);
    assert!(successes.load(Ordering::Relaxed) > 0);
    assert_eq!(registry.count(), 0);
}

#[test]
fn a_hundred_thousand_sessions_register_list_and_unregister() {
    const N: usize = 100_000;
    let registry = SessionRegistry::with_limit(N);
    let ids: Vec<SessionId> = (0..N).map(|_| SessionId::new()).collect();
    // Stored sessions need no directory; one creation instant per second.
    for (i, id) in ids.iter().enumerate() {
        let at = chrono::DateTime::from_timestamp(1_700_000_000 + i as i64, 0)
            .unwrap()
            .to_rfc3339();
        let session = stored(*id, &format!("s{i}"), &format!("/scale/{i}"), &at);
        registry.register(session).unwrap();
    }

    assert_eq!(registry.count(), N);
    assert_eq!(
        registry
            .register(stored(
                SessionId::new(),
                "extra",
                "/scale/extra",
                "2024-01-01T00:00:00Z"
            ))
            .unwrap_err(),
        RegistryError::LimitReached { count: N, limit: N }
    );
    assert_eq!(registry.list_ids(), ids);
    for i in [0, 1, N / 2, N - 1] {
        assert_eq!(registry.lookup(ids[i]).unwrap().name(), format!("s{i}"));
        assert_eq!(
            registry.lookup_by_name(&format!("s{i}")).unwrap().id(),
            ids[i]
        );
        let project = ProjectPath::new(common::stored_dir(&format!("/scale/{i}"))).unwrap();
        assert_eq!(registry.lookup_by_project(&project).unwrap().id(), ids[i]);
    }
    for id in &ids {
        assert!(registry.unregister(*id).is_some());
    }
    assert_eq!(registry.count(), 0);
    assert!(registry.list_all().is_empty());
}
