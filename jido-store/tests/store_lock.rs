//! One process per store directory: a second process is refused with a
//! typed error naming the holder; handles of one process share the
//! directory; the lock goes with the process, however it ends.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use jido_store::{Persistence, StoreLocked};

const DIR: &str = "JIDO_STORE_LOCK_DIR";

/// The child's part: holds the store until its standard input closes.
#[test]
fn child_holds_the_store() {
    let Ok(dir) = std::env::var(DIR) else { return };
    let _persistence = Persistence::in_dir(&dir).unwrap();
    println!("holding");
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
}

/// A child process holding the store `dir`, once it says so.
fn holder(dir: &std::path::Path) -> std::process::Child {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["child_holds_the_store", "--exact", "--nocapture"])
        .env(DIR, dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while lines.next().expect("the child ended early").unwrap() != "holding" {}
    child
}

#[test]
fn a_second_process_is_refused_and_told_who_holds_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = holder(dir.path());

    let error = Persistence::in_dir(dir.path()).unwrap_err();
    let locked = StoreLocked::of(&error).expect("a StoreLocked error");
    assert_eq!(locked.holder, Some(child.id()));
    assert_eq!(locked.dir, dir.path().canonicalize().unwrap());
    assert_eq!(error.kind(), std::io::ErrorKind::WouldBlock);

    // Killed, the holder lets go.
    child.kill().unwrap();
    child.wait().unwrap();
    let first = Persistence::in_dir(dir.path()).unwrap();
    // Handles of one process share it.
    let second = Persistence::in_dir(dir.path()).unwrap();
    drop((first, second));
    let _again = Persistence::in_dir(dir.path()).unwrap();
}

#[test]
fn a_released_store_can_be_taken_by_another_process() {
    let dir = tempfile::tempdir().unwrap();
    drop(Persistence::in_dir(dir.path()).unwrap());
    let mut child = holder(dir.path());
    assert!(Persistence::in_dir(dir.path()).is_err());
    child.stdin.take().unwrap().write_all(b"\n").unwrap();
    child.wait().unwrap();
    Persistence::in_dir(dir.path()).unwrap();
}

#[test]
fn temporary_files_of_killed_saves_are_removed_when_the_store_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    let id = jido_session::SessionId::new();
    let stray = dir
        .path()
        .join(format!(".{id}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let stranger = dir.path().join(".notes.tmp");
    std::fs::write(&stray, b"half a snapshot").unwrap();
    std::fs::write(&stranger, b"not ours").unwrap();
    let _persistence = Persistence::in_dir(dir.path()).unwrap();
    assert!(!stray.exists());
    assert!(stranger.exists());
}

/// A handle of this process dropped on one thread while another opens the
/// store: the opening shares the lock or takes it afresh, and is never
/// refused by its own process's lock in the middle of its release.
#[test]
fn a_handle_released_while_another_opens_the_store_does_not_refuse_it() {
    let rounds: usize = std::env::var("JIDO_LOCK_RACE_ROUNDS")
        .ok()
        .and_then(|rounds| rounds.parse().ok())
        .unwrap_or(2_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    for round in 0..rounds {
        let held = Persistence::in_dir(&path).unwrap();
        let start = std::sync::Arc::new(std::sync::Barrier::new(2));
        let dropper = std::thread::spawn({
            let start = start.clone();
            move || {
                start.wait();
                drop(held);
            }
        });
        start.wait();
        let opened = Persistence::in_dir(&path);
        dropper.join().unwrap();
        if let Err(error) = opened {
            panic!("round {round}: refused by this process's own lock: {error}");
        }
    }
}
