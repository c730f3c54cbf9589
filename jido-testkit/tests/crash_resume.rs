//! The kill harness of issue 20 on the file store: a child process
//! converses through a session's State, printing the number of every
//! message acknowledged; it is killed with SIGKILL at a varying moment
//! (after 1 to 47 acknowledgements, in the middle of whatever it does
//! next); the next child resumes the session and goes on. After every kill
//! the session, resumed here, holds every acknowledged message, in order,
//! nothing doubled, nothing corrupt. Rounds per durability level:
//! `JIDO_KILL_ROUNDS` (default 200). The same on PostgreSQL:
//! `jido-cluster/tests/crash_resume.rs`.

use std::path::Path;
use std::process::Command;

use jido_supervisor::session::{ConversationLimits, State};
use jido_supervisor::store::Durability;
use jido_supervisor::tree::SessionSup;
use jido_supervisor::{Persistence, SessionSupervisor};

const STORE: &str = "JIDO_CRASH_STORE";
const PROJECT: &str = "JIDO_CRASH_PROJECT";
const SYNC: &str = "JIDO_CRASH_SYNC";

fn supervisor(store: &Path, durability: Durability) -> SessionSupervisor {
    // Every message kept: the check counts them all.
    let state = State::spec_with(ConversationLimits::all(1 << 20));
    SessionSupervisor::builder()
        .persistence(Persistence::in_dir(store).unwrap())
        .durability(durability)
        .session_child(SessionSup::new().child(state))
        .build()
}

fn durability(sync: bool) -> Durability {
    if sync {
        Durability::Sync
    } else {
        Durability::Os
    }
}

/// The child's part (does nothing unless run as the child).
#[test]
fn child_converses_until_killed() {
    let (Ok(store), Ok(project)) = (std::env::var(STORE), std::env::var(PROJECT)) else {
        return;
    };
    let sync = std::env::var(SYNC).is_ok();
    let runtime = jido_testkit::multi_thread_runtime(2).unwrap();
    let ended = runtime.block_on(async {
        let supervisor = supervisor(Path::new(&store), durability(sync));
        jido_testkit::converse_until_killed(&supervisor, Path::new(&project)).await
    });
    panic!("the child stopped conversing: {ended:?}");
}

#[test]
fn no_acknowledged_change_is_lost_when_the_program_is_killed() {
    let rounds = jido_testkit::kill_rounds_from_env(200);
    let me = std::env::current_exe().unwrap();
    for sync in [false, true] {
        let store = tempfile::tempdir().unwrap();
        let project = tempfile::tempdir().unwrap();
        let child = || {
            let mut command = Command::new(&me);
            command
                .args(["child_converses_until_killed", "--exact", "--nocapture"])
                .env(STORE, store.path())
                .env(PROJECT, project.path());
            if sync {
                command.env(SYNC, "1");
            }
            command
        };
        let check = |id| {
            // A runtime of its own, dropped after the check as a program
            // ends: with it go the resumed session's tasks, and so this
            // process's hold on the store, for the next child.
            let checker = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            checker.block_on(async {
                let supervisor = supervisor(store.path(), durability(sync));
                supervisor.resume(id).await.map_err(|e| e.to_string())?;
                let page = supervisor.state(id).unwrap().messages(0, None).await;
                Ok(page.map_err(|e| e.to_string())?.items)
            })
        };
        let killed = jido_testkit::kill_rounds(rounds, child, check).unwrap();
        eprintln!(
            "{:?}: {} kills, {} messages acknowledged, none lost",
            durability(sync),
            killed.rounds,
            killed.acked
        );
    }
}
