//! `ProcessRegistry`: unique keys naming live processes, freed when the owner
//! ends (normally, by error, by panic, by kill) or unregisters.

mod common;

use std::sync::Arc;

use common::{Token, forever, gated, token};
use jido_process::{ExitReason, Pid, ProcessRegistry, RegisterError, spawn_with_pid};

type Names = ProcessRegistry<&'static str, Token>;

#[tokio::test]
async fn register_then_lookup_whereis_keys_and_len() {
    let names = Names::new();
    assert!(names.is_empty());
    let (a, b) = (forever(), forever());
    let (ta, tb) = (token(), token());

    names.register("a", &a, ta.clone()).unwrap();
    names.register("b", &b, tb.clone()).unwrap();

    let (owner, value) = names.lookup(&"a").unwrap();
    assert_eq!(owner, a);
    assert!(Arc::ptr_eq(&value, &ta));
    assert_eq!(names.whereis(&"b"), Some(b.clone()));
    assert_eq!(names.whereis(&"c"), None);
    assert!(names.lookup(&"c").is_none());
    let mut keys = names.keys();
    keys.sort();
    assert_eq!(keys, vec!["a", "b"]);
    assert_eq!(names.len(), 2);
    assert!(!names.is_empty());
}

#[tokio::test]
async fn a_taken_key_names_its_current_owner() {
    let names = Names::new();
    let (owner, other) = (forever(), forever());
    names.register("k", &owner, token()).unwrap();
    let refused = token();

    let error = names.register("k", &other, refused.clone()).unwrap_err();

    assert_eq!(
        error,
        RegisterError::Taken {
            key: "k",
            owner: owner.clone()
        }
    );
    assert_eq!(names.whereis(&"k"), Some(owner.clone()));
    assert_eq!(Arc::strong_count(&refused), 1, "the refused value was kept");
    // The owner itself cannot take its key twice either.
    assert_eq!(
        names.register("k", &owner, token()).unwrap_err(),
        RegisterError::Taken {
            key: "k",
            owner: owner.clone()
        }
    );
}

#[tokio::test]
async fn an_owner_that_has_ended_cannot_register() {
    let names = Names::new();
    let (done, go) = gated(|| ExitReason::Normal);
    go.send(()).unwrap();
    assert_eq!(done.wait().await, ExitReason::Normal);
    let value = token();

    let error = names.register("k", &done, value.clone()).unwrap_err();

    assert_eq!(error, RegisterError::OwnerExited { key: "k" });
    assert!(names.is_empty());
    assert_eq!(Arc::strong_count(&value), 1);
}

#[tokio::test]
async fn a_killed_owner_cannot_register_even_before_its_task_is_dropped() {
    let names = Names::new();
    let owner = forever();
    owner.kill();
    assert_eq!(
        owner.exit_reason(),
        None,
        "the task should not be dropped yet"
    );

    let error = names.register("k", &owner, token()).unwrap_err();

    assert_eq!(error, RegisterError::OwnerExited { key: "k" });
    assert_eq!(names.whereis(&"k"), None);
    assert_eq!(owner.wait().await, ExitReason::Killed);
}

#[tokio::test]
async fn only_the_owner_can_unregister_its_key() {
    let names = Names::new();
    let (owner, other) = (forever(), forever());
    let value = token();
    names.register("k", &owner, value.clone()).unwrap();

    assert!(!names.unregister(&"k", &other));
    assert_eq!(names.whereis(&"k"), Some(owner.clone()));
    assert!(!names.unregister(&"missing", &owner));

    assert!(names.unregister(&"k", &owner));
    assert_eq!(names.whereis(&"k"), None);
    assert_eq!(Arc::strong_count(&value), 1);
    assert!(!names.unregister(&"k", &owner));
    // The key can be taken again, by anyone.
    names.register("k", &other, token()).unwrap();
    assert_eq!(names.whereis(&"k"), Some(other));
}

#[tokio::test]
async fn an_owner_ending_after_unregistering_leaves_the_next_owner_alone() {
    let names = Names::new();
    let (first, go) = gated(|| ExitReason::Normal);
    let second = forever();
    names.register("k", &first, token()).unwrap();
    assert!(names.unregister(&"k", &first));
    let value = token();
    names.register("k", &second, value.clone()).unwrap();

    go.send(()).unwrap();
    assert_eq!(first.wait().await, ExitReason::Normal);

    assert_eq!(names.whereis(&"k"), Some(second));
    assert_eq!(Arc::strong_count(&value), 2);
}

#[tokio::test]
async fn a_successor_registered_while_the_old_owner_exits_keeps_the_key() {
    let names = Names::new();
    let old = forever();
    names.register("k", &old, token()).unwrap();
    // Killed: dead at once, though its task (and the registry's cleanup)
    // ends only when the runtime next schedules it. A successor takes the
    // key in between; the old owner's late cleanup must leave it alone.
    old.kill();
    let successor = forever();
    names.register("k", &successor, token()).unwrap();

    old.wait().await;

    assert_eq!(names.whereis(&"k"), Some(successor));
}

/// Registers a key to a gated owner, lets the owner end as `end` says, and
/// checks that once `wait` returns the entry is gone — dropped, not only
/// hidden — and the key is free.
async fn key_is_freed_when_owner_ends<F>(end: F, expected: fn(&ExitReason) -> bool)
where
    F: FnOnce() -> ExitReason + Send + 'static,
{
    let names = Names::new();
    let (owner, go) = gated(end);
    let value = token();
    names.register("k", &owner, value.clone()).unwrap();
    assert_eq!(Arc::strong_count(&value), 2);

    go.send(()).unwrap();
    let reason = owner.wait().await;

    assert!(expected(&reason), "unexpected reason {reason:?}");
    assert_eq!(names.whereis(&"k"), None);
    assert_eq!(Arc::strong_count(&value), 1, "the entry was not removed");
    let next = forever();
    names.register("k", &next, token()).unwrap();
    assert_eq!(names.whereis(&"k"), Some(next));
}

#[tokio::test]
async fn the_key_is_freed_when_its_owner_returns_normally() {
    key_is_freed_when_owner_ends(|| ExitReason::Normal, |r| *r == ExitReason::Normal).await;
}

#[tokio::test]
async fn the_key_is_freed_when_its_owner_returns_an_error() {
    key_is_freed_when_owner_ends(
        || ExitReason::error("disk full"),
        |r| *r == ExitReason::error("disk full"),
    )
    .await;
}

#[tokio::test]
async fn the_key_is_freed_when_its_owner_panics() {
    key_is_freed_when_owner_ends(
        || panic!("owner blew up"),
        |r| *r == ExitReason::Panic("owner blew up".into()),
    )
    .await;
}

#[tokio::test]
async fn the_key_is_freed_when_its_owner_is_killed() {
    let names = Names::new();
    let owner = forever();
    let value = token();
    names.register("k", &owner, value.clone()).unwrap();

    owner.kill();
    // Dead at once for every lookup, before the task is dropped.
    assert_eq!(names.whereis(&"k"), None);
    assert!(names.lookup(&"k").is_none());
    assert!(names.keys().is_empty());
    assert_eq!(names.len(), 0);
    assert!(names.is_empty());

    assert_eq!(owner.wait().await, ExitReason::Killed);
    assert_eq!(Arc::strong_count(&value), 1, "the entry was not removed");
}

#[tokio::test]
async fn a_killed_owners_key_can_be_taken_at_once_and_stays_taken() {
    let names = Names::new();
    let old = forever();
    let old_value = token();
    names.register("k", &old, old_value.clone()).unwrap();
    old.kill();
    assert_eq!(
        old.exit_reason(),
        None,
        "the task should not be dropped yet"
    );

    let new = forever();
    let new_value = token();
    names.register("k", &new, new_value.clone()).unwrap();
    assert_eq!(names.whereis(&"k"), Some(new.clone()));
    assert_eq!(Arc::strong_count(&old_value), 1);

    // The old owner's late cleanup must not remove the new entry.
    assert_eq!(old.wait().await, ExitReason::Killed);
    assert_eq!(names.whereis(&"k"), Some(new));
    assert_eq!(Arc::strong_count(&new_value), 2);
}

#[tokio::test]
async fn every_key_of_an_owner_is_freed_when_it_ends() {
    let names = Names::new();
    let (owner, go) = gated(|| ExitReason::Normal);
    let bystander = forever();
    let values: Vec<Token> = (0..3).map(|_| token()).collect();
    for (key, value) in ["x", "y", "z"].into_iter().zip(&values) {
        names.register(key, &owner, value.clone()).unwrap();
    }
    names.register("other", &bystander, token()).unwrap();

    go.send(()).unwrap();
    owner.wait().await;

    assert_eq!(names.keys(), vec!["other"]);
    assert!(values.iter().all(|value| Arc::strong_count(value) == 1));
}

#[tokio::test]
async fn a_process_can_register_itself() {
    let names: ProcessRegistry<String, u32> = ProcessRegistry::new();
    let (registered_tx, registered) = tokio::sync::oneshot::channel();
    let (go, gate) = tokio::sync::oneshot::channel::<()>();
    let inner = names.clone();
    let pid = spawn_with_pid(move |me| async move {
        inner.register("me".to_owned(), &me, 42).unwrap();
        registered_tx.send(me).unwrap();
        let _ = gate.await;
        ExitReason::Shutdown
    });

    let me: Pid = registered.await.unwrap();
    assert_eq!(me, pid);
    assert_eq!(names.lookup(&"me".to_owned()), Some((pid.clone(), 42)));

    go.send(()).unwrap();
    assert_eq!(pid.wait().await, ExitReason::Shutdown);
    assert!(names.is_empty());
}

#[tokio::test]
async fn clones_share_one_registry() {
    let names = Names::new();
    let clone = names.clone();
    let owner = forever();
    clone.register("k", &owner, token()).unwrap();

    assert_eq!(names.whereis(&"k"), Some(owner.clone()));
    assert!(names.unregister(&"k", &owner));
    assert!(clone.is_empty());
}

#[tokio::test]
async fn dropping_the_registry_frees_its_values_and_owners_still_end_cleanly() {
    let names = Names::new();
    let owner = forever();
    let value = token();
    names.register("k", &owner, value.clone()).unwrap();

    drop(names);
    assert_eq!(Arc::strong_count(&value), 1, "the registry was leaked");

    owner.kill();
    assert_eq!(owner.wait().await, ExitReason::Killed);
}
