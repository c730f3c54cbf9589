//! [`kill_rounds`] and [`converse_until_killed`]: the kill harness. A child
//! process converses through a session's State, printing the number of
//! every message acknowledged; it is killed with SIGKILL at a varying
//! moment, in the middle of whatever it does next; the session is resumed
//! and checked; the next child resumes it and goes on.

use std::convert::Infallible;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use jido_supervisor::{Message, Role, SessionId, SessionSupervisor};

/// The environment variable naming the session a child resumes (unset the
/// first time: the child opens one).
pub const KILL_SESSION_ENV: &str = "JIDO_KILL_SESSION";

/// Why a round of the kill harness failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KillHarnessError {
    /// The child could not be started, read, killed or waited for.
    #[error("round {round}: the child: {message}")]
    Child {
        /// The round.
        round: usize,
        /// What went wrong.
        message: String,
    },
    /// The child ended before it was killed (it failed: see its stderr).
    #[error("round {round}: the child ended after {acked} acknowledgements")]
    EndedEarly {
        /// The round.
        round: usize,
        /// The last message it acknowledged.
        acked: usize,
    },
    /// The session could not be resumed and read after the kill.
    #[error("round {round}: resuming the session: {message}")]
    Resume {
        /// The round.
        round: usize,
        /// The error.
        message: String,
    },
    /// The resumed session is not every acknowledged message, in order,
    /// each once.
    #[error("round {round}: acknowledged 1..={acked}, the resumed session holds {kept:?}")]
    Lost {
        /// The round.
        round: usize,
        /// The last message acknowledged.
        acked: usize,
        /// The numbers the resumed session holds.
        kept: Vec<usize>,
    },
}

/// What the kill rounds did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Killed {
    /// The rounds (one kill each).
    pub rounds: usize,
    /// The last message acknowledged: every one of `1..=acked` survived.
    pub acked: usize,
}

/// The child's part: resumes the session [`KILL_SESSION_ENV`] names (or
/// opens one in `project`, the first time), prints `session <id>`, then
/// appends messages numbered on from what it holds, printing `acked <n>`
/// after each acknowledgement, until it is killed.
///
/// # Errors
///
/// Whatever stopped it before it was killed, as text.
pub async fn converse_until_killed(
    supervisor: &SessionSupervisor,
    project: &Path,
) -> Result<Infallible, String> {
    let id = match std::env::var(KILL_SESSION_ENV) {
        Ok(id) => {
            let id: SessionId = id.parse().map_err(|error| format!("{error:?}"))?;
            supervisor.resume(id).await.map_err(|e| e.to_string())?;
            id
        }
        Err(_) => supervisor
            .create_session(project)
            .await
            .map_err(|e| e.to_string())?
            .id(),
    };
    println!("session {id}");
    let state = supervisor
        .state(id)
        .ok_or_else(|| "the session has no State".to_owned())?;
    let mut n = state.message_count().await.map_err(|e| e.to_string())?;
    loop {
        n += 1;
        state
            .append_message(Message::new(Role::User, n.to_string()))
            .await
            .map_err(|e| e.to_string())?;
        println!("acked {n}");
    }
}

/// The parent's part: `rounds` times, starts the child `child()` gives (a
/// command running [`converse_until_killed`]; its stdout is read, and
/// [`KILL_SESSION_ENV`] set after the first round), lets it acknowledge 1
/// to 47 messages (varying by round), kills it with SIGKILL, then asks
/// `check` for the messages of the session resumed (in a runtime of the
/// caller's, ended before the next child starts) and checks they are every
/// acknowledged message, in order, each once.
///
/// ```no_run
/// use std::process::Command;
/// use jido_supervisor::{Persistence, SessionSupervisor};
///
/// // The child's part: a test that does nothing unless told it is the child.
/// fn child_converses() {
///     let Ok(store) = std::env::var("MY_STORE") else { return };
///     let runtime = jido_testkit::multi_thread_runtime(2).unwrap();
///     let ended = runtime.block_on(async {
///         let supervisor = SessionSupervisor::builder()
///             .persistence(Persistence::in_dir(&store).unwrap())
///             .build();
///         jido_testkit::converse_until_killed(&supervisor, "/path/to/project".as_ref()).await
///     });
///     panic!("stopped conversing: {ended:?}");
/// }
///
/// // The parent's part.
/// let store = tempfile::tempdir().unwrap();
/// let child = || {
///     let mut command = Command::new(std::env::current_exe().unwrap());
///     command
///         .args(["child_converses", "--exact", "--nocapture"])
///         .env("MY_STORE", store.path());
///     command
/// };
/// let check = |id| {
///     let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
///     runtime.block_on(async {
///         let supervisor = SessionSupervisor::builder()
///             .persistence(Persistence::in_dir(store.path()).unwrap())
///             .build();
///         supervisor.resume(id).await.map_err(|e| e.to_string())?;
///         let page = supervisor.state(id).unwrap().messages(0, None).await;
///         Ok(page.map_err(|e| e.to_string())?.items)
///     })
/// };
/// let killed = jido_testkit::kill_rounds(jido_testkit::kill_rounds_from_env(200), child, check)?;
/// println!("{} kills, {} acknowledged, none lost", killed.rounds, killed.acked);
/// # let _ = child_converses;
/// # Ok::<(), jido_testkit::KillHarnessError>(())
/// ```
///
/// # Errors
///
/// The first round that failed.
pub fn kill_rounds(
    rounds: usize,
    mut child: impl FnMut() -> Command,
    mut check: impl FnMut(SessionId) -> Result<Vec<Message>, String>,
) -> Result<Killed, KillHarnessError> {
    let mut session: Option<SessionId> = None;
    let mut acked = 0usize;
    for round in 0..rounds {
        let failed = |message: std::io::Error| KillHarnessError::Child {
            round,
            message: message.to_string(),
        };
        let mut command = child();
        command.stdout(Stdio::piped()).stderr(Stdio::inherit());
        if let Some(id) = session {
            command.env(KILL_SESSION_ENV, id.to_string());
        }
        let mut running = command.spawn().map_err(failed)?;
        let stdout = running
            .stdout
            .take()
            .ok_or_else(|| KillHarnessError::Child {
                round,
                message: "no stdout".to_owned(),
            })?;
        let mut lines = BufReader::new(stdout).lines();
        let target = 1 + (round * 31 + 7) % 47;
        let mut seen = 0;
        while seen < target {
            let Some(line) = lines.next() else {
                let _ = running.wait();
                return Err(KillHarnessError::EndedEarly { round, acked });
            };
            let line = line.map_err(failed)?;
            if let Some(id) = line.strip_prefix("session ") {
                session = id.parse().ok();
            } else if let Some(n) = line.strip_prefix("acked ") {
                acked = n.parse().unwrap_or(acked);
                seen += 1;
            }
        }
        running.kill().map_err(failed)?; // SIGKILL, mid-conversation
        running.wait().map_err(failed)?;
        // What it printed before it died was acknowledged too.
        for line in lines.map_while(Result::ok) {
            if let Some(n) = line.strip_prefix("acked ") {
                acked = n.parse().unwrap_or(acked);
            }
        }
        let Some(id) = session else {
            return Err(KillHarnessError::Child {
                round,
                message: "it named no session".to_owned(),
            });
        };
        let kept: Vec<usize> = check(id)
            .map_err(|message| KillHarnessError::Resume { round, message })?
            .iter()
            .map(|message| message.content.parse().unwrap_or(0))
            .collect();
        let whole = kept.iter().copied().eq(1..=kept.len());
        if !whole || kept.len() < acked {
            return Err(KillHarnessError::Lost { round, acked, kept });
        }
    }
    Ok(Killed { rounds, acked })
}

/// Rounds per durability level: `JIDO_KILL_ROUNDS`, or `default`.
pub fn kill_rounds_from_env(default: usize) -> usize {
    std::env::var("JIDO_KILL_ROUNDS")
        .ok()
        .and_then(|rounds| rounds.parse().ok())
        .unwrap_or(default)
}
