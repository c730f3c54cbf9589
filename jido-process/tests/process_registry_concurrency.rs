//! `ProcessRegistry` on a multi-thread runtime: one winner per key, and
//! cleanup after owners that panic on other threads.

mod common;

use std::sync::Arc;

use common::{Token, forever, gated, token};
use jido_process::{ExitReason, Pid, ProcessRegistry, RegisterError};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_racers_for_one_key_yield_exactly_one_winner() {
    const RACERS: usize = 500;
    let names: ProcessRegistry<u32, usize> = ProcessRegistry::new();
    let owners: Vec<Pid> = (0..RACERS).map(|_| forever()).collect();
    let barrier = Arc::new(tokio::sync::Barrier::new(RACERS));
    let tasks: Vec<_> = owners
        .iter()
        .enumerate()
        .map(|(i, owner)| {
            let (names, owner, barrier) = (names.clone(), owner.clone(), Arc::clone(&barrier));
            tokio::spawn(async move {
                barrier.wait().await;
                names.register(7, &owner, i)
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }

    let winners: Vec<usize> = (0..RACERS).filter(|&i| results[i].is_ok()).collect();
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    let winner = &owners[winners[0]];
    for result in results.into_iter().filter_map(Result::err) {
        assert_eq!(
            result,
            RegisterError::Taken {
                key: 7,
                owner: winner.clone()
            }
        );
    }
    assert_eq!(names.lookup(&7), Some((winner.clone(), winners[0])));
    assert_eq!(names.len(), 1);
    for owner in &owners {
        owner.kill();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn keys_of_panicking_owners_are_freed_on_a_multi_thread_runtime() {
    const OWNERS: usize = 200;
    let names: ProcessRegistry<usize, Token> = ProcessRegistry::new();
    let values: Vec<Token> = (0..OWNERS).map(|_| token()).collect();
    let mut owners = Vec::new();
    let mut gates = Vec::new();
    for (i, value) in values.iter().enumerate() {
        let (owner, go) = gated(move || panic!("owner {i} crashed"));
        names.register(i, &owner, value.clone()).unwrap();
        owners.push(owner);
        gates.push(go);
    }
    assert_eq!(names.len(), OWNERS);

    for go in gates {
        go.send(()).unwrap();
    }
    for (i, owner) in owners.iter().enumerate() {
        assert_eq!(
            owner.wait().await,
            ExitReason::Panic(format!("owner {i} crashed").into())
        );
    }

    assert!(names.is_empty());
    assert!(names.keys().is_empty());
    for value in &values {
        assert_eq!(Arc::strong_count(value), 1, "an entry was not removed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn owners_ending_while_others_register_leave_only_live_owners() {
    const KEYS: usize = 100;
    let names: ProcessRegistry<usize, Token> = ProcessRegistry::new();
    let mut dying = Vec::new();
    let mut gates = Vec::new();
    for key in 0..KEYS {
        let (owner, go) = gated(|| ExitReason::error("done"));
        names.register(key, &owner, token()).unwrap();
        dying.push(owner);
        gates.push(go);
    }
    // Successors kill nothing: they only take keys whose owners have ended.
    let successors: Vec<Pid> = (0..KEYS).map(|_| forever()).collect();
    let takers: Vec<_> = successors
        .iter()
        .enumerate()
        .map(|(key, successor)| {
            let (names, successor, owner) = (names.clone(), successor.clone(), dying[key].clone());
            tokio::spawn(async move {
                owner.wait().await;
                names.register(key, &successor, token()).unwrap();
            })
        })
        .collect();
    for go in gates {
        go.send(()).unwrap();
    }
    for taker in takers {
        taker.await.unwrap();
    }

    for (key, successor) in successors.iter().enumerate() {
        assert_eq!(names.whereis(&key).as_ref(), Some(successor));
    }
    assert_eq!(names.len(), KEYS);
    for successor in &successors {
        successor.kill();
    }
}
