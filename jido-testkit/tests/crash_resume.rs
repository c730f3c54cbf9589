//! The kill harness of issue 20: a child process converses through a
//! session's State, printing the number of every message acknowledged; it
//! is killed with SIGKILL at a varying moment (after 1 to 47
//! acknowledgements, in the middle of whatever it does next); the next
//! child resumes the session and goes on. After every kill the session,
//! resumed here, holds every acknowledged message, in order, nothing
//! doubled, nothing corrupt. Rounds per durability level:
//! `JIDO_KILL_ROUNDS` (default 200).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use jido_supervisor::session::{ConversationLimits, State};
use jido_supervisor::store::Durability;
use jido_supervisor::tree::SessionSup;
use jido_supervisor::{Message, Persistence, Role, SessionId, SessionSupervisor};

const STORE: &str = "JIDO_CRASH_STORE";
const PROJECT: &str = "JIDO_CRASH_PROJECT";
const SESSION: &str = "JIDO_CRASH_SESSION";
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

/// The child's part: resumes the session (or opens it, the first time)
/// and appends numbered messages until killed. Does nothing unless run as
/// the child.
#[test]
fn child_converses_until_killed() {
    let (Ok(store), Ok(project)) = (std::env::var(STORE), std::env::var(PROJECT)) else {
        return;
    };
    let sync = std::env::var(SYNC).is_ok();
    let runtime = jido_testkit::multi_thread_runtime(2).unwrap();
    runtime.block_on(async {
        let supervisor = supervisor(Path::new(&store), durability(sync));
        let id = match std::env::var(SESSION) {
            Ok(id) => {
                let id: SessionId = id.parse().unwrap();
                supervisor.resume(id).await.unwrap();
                id
            }
            Err(_) => supervisor.create_session(&project).await.unwrap().id(),
        };
        println!("session {id}");
        let state = supervisor.state(id).unwrap();
        let mut n = state.message_count().await.unwrap();
        loop {
            n += 1;
            state
                .append_message(Message::new(Role::User, n.to_string()))
                .await
                .unwrap();
            println!("acked {n}");
        }
    });
}

#[test]
fn no_acknowledged_change_is_lost_when_the_program_is_killed() {
    let rounds: usize = std::env::var("JIDO_KILL_ROUNDS")
        .ok()
        .and_then(|rounds| rounds.parse().ok())
        .unwrap_or(200);
    let me = std::env::current_exe().unwrap();
    for sync in [false, true] {
        let store = tempfile::tempdir().unwrap();
        let project = tempfile::tempdir().unwrap();
        let mut session: Option<SessionId> = None;
        let mut acked = 0usize;
        for round in 0..rounds {
            let mut command = Command::new(&me);
            command
                .args(["child_converses_until_killed", "--exact", "--nocapture"])
                .env(STORE, store.path())
                .env(PROJECT, project.path())
                .stdout(Stdio::piped())
                .stderr(Stdio::null());
            if let Some(id) = session {
                command.env(SESSION, id.to_string());
            }
            if sync {
                command.env(SYNC, "1");
            }
            let mut child = command.spawn().unwrap();
            let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
            let target = 1 + (round * 31 + 7) % 47;
            let mut seen = 0;
            while seen < target {
                let line = lines
                    .next()
                    .unwrap_or_else(|| panic!("round {round}: the child ended early"))
                    .unwrap();
                if let Some(id) = line.strip_prefix("session ") {
                    session = Some(id.parse().unwrap());
                } else if let Some(n) = line.strip_prefix("acked ") {
                    acked = n.parse().unwrap();
                    seen += 1;
                }
            }
            child.kill().unwrap(); // SIGKILL, mid-conversation
            child.wait().unwrap();
            for line in lines.map_while(Result::ok) {
                if let Some(n) = line.strip_prefix("acked ") {
                    acked = n.parse().unwrap();
                }
            }

            let id = session.unwrap();
            // A runtime of its own, dropped after the check as a program
            // ends: with it go the resumed session's tasks, and so this
            // process's hold on the store, for the next child.
            let checker = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let kept = checker.block_on(async {
                let supervisor = supervisor(store.path(), durability(sync));
                supervisor
                    .resume(id)
                    .await
                    .unwrap_or_else(|error| panic!("round {round}: {error}"));
                supervisor
                    .state(id)
                    .unwrap()
                    .messages(0, None)
                    .await
                    .unwrap()
                    .items
            });
            let numbers: Vec<usize> = kept
                .iter()
                .map(|message| message.content.parse().unwrap())
                .collect();
            let last = numbers.len();
            assert_eq!(numbers, (1..=last).collect::<Vec<_>>(), "round {round}");
            assert!(
                last >= acked,
                "round {round}: acknowledged {acked}, kept {last}"
            );
        }
        eprintln!(
            "{:?}: {rounds} kills, {acked} messages acknowledged, none lost",
            durability(sync)
        );
    }
}
