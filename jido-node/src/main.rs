//! `jido-node`: a session supervisor running as one node of a PostgreSQL
//! cluster (a [`jido_cluster::PgNode`] as its registry backend and its
//! snapshot store), driven by line commands on standard input; answers and
//! lifecycle events go to standard output, one per line. The multi-process
//! tests (`tests/multi_node.rs`) run several of these against one database.
//!
//! ```text
//! jido-node --url "host=127.0.0.1 port=5432 user=jido dbname=postgres" \
//!           [--lease-ms 10000] [--max-sessions 10] [--save-on-stop]
//!           [--adopt-ms 3333]   # adopt a dead node's sessions this often
//! ```
//!
//! Commands (answers):
//! - `start <dir>` — `started <id>` or `refused <error>`;
//! - `start-many <n> <dir>` — n concurrent starts of one project through
//!   the supervisor — `many won=… duplicate=… limit=… other=…`;
//! - `claim-many <n> <dir>` — n concurrent claims straight to the database
//!   (no local registry in front) — the same answer;
//! - `start-each <dir>…` — one concurrent start per directory — the same;
//! - `save <id>` — `saved` or `error <error>`;
//! - `stop <id>` — `stopped` or `error <error>`;
//! - `say <id> <n>` — appends n messages, each acknowledged — `said <n>`;
//! - `count <id>` — `count <messages>` or `error <error>`;
//! - `locate <id>` — `at <node>` or `nowhere`, as of every change
//!   committed anywhere before the command;
//! - `quit`.
//!
//! Events: `event <id> <kind> <detail>`. At start: `ready <node id>`.

#![forbid(unsafe_code)]

use std::path::Path;
use std::time::Duration;

use futures_util::future::join_all;
use jido_cluster::{ClusterConfig, PgNode};
use jido_registry::{BackendError, RegistryBackend, RegistryError};
use jido_session::{Session, SessionId};
use jido_supervisor::{EventKind, Message, Role, SessionSupervisor, StartError};
use tokio::io::{AsyncBufReadExt, BufReader};

#[derive(Default)]
struct Tally {
    won: usize,
    duplicate: usize,
    limit: usize,
    other: usize,
}

impl Tally {
    /// Counts one attempt: won (`None`), or refused for this reason.
    fn count(&mut self, refused: Option<Option<&RegistryError>>) {
        match refused {
            None => self.won += 1,
            Some(Some(RegistryError::DuplicateProject { .. })) => self.duplicate += 1,
            Some(Some(RegistryError::LimitReached { .. })) => self.limit += 1,
            Some(_) => self.other += 1,
        }
    }

    fn of_starts<T>(results: &[Result<T, StartError>]) -> String {
        let mut tally = Tally::default();
        for result in results {
            tally.count(result.as_ref().err().map(refusal));
        }
        tally.line()
    }

    fn line(&self) -> String {
        format!(
            "many won={} duplicate={} limit={} other={}",
            self.won, self.duplicate, self.limit, self.other
        )
    }
}

struct Args {
    url: String,
    lease: Duration,
    max_sessions: usize,
    save_on_stop: bool,
    adopt: Option<Duration>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        url: String::new(),
        lease: Duration::from_secs(10),
        max_sessions: 10,
        save_on_stop: false,
        adopt: None,
    };
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        let mut value = || given.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => args.url = value()?,
            "--lease-ms" => {
                let ms = value()?.parse().map_err(|_| "--lease-ms: a number")?;
                args.lease = Duration::from_millis(ms);
            }
            "--max-sessions" => {
                args.max_sessions = value()?.parse().map_err(|_| "--max-sessions: a number")?;
            }
            "--save-on-stop" => args.save_on_stop = true,
            "--adopt-ms" => {
                let ms = value()?.parse().map_err(|_| "--adopt-ms: a number")?;
                args.adopt = Some(Duration::from_millis(ms));
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if args.url.is_empty() {
        return Err("--url is required".into());
    }
    Ok(args)
}

fn refusal(error: &StartError) -> Option<&RegistryError> {
    match error {
        StartError::Registry(refused) => Some(refused),
        _ => None,
    }
}

fn event_line(id: SessionId, kind: &EventKind) -> String {
    let (name, detail) = match kind {
        EventKind::Started => ("started", String::new()),
        EventKind::Stopped { reason } => ("stopped", reason.to_string()),
        EventKind::Crashed { reason } => ("crashed", reason.to_string()),
        EventKind::Saved => ("saved", String::new()),
        EventKind::SaveFailed { error } => ("save-failed", error.to_string()),
        EventKind::Adopted { from } => (
            "adopted",
            from.map(|node| node.to_string()).unwrap_or_default(),
        ),
        other => ("other", format!("{other:?}")),
    };
    format!("event {id} {name} {detail}")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .init();
    let args = parse_args()?;
    let config = ClusterConfig::new(&args.url)
        .lease(args.lease)
        .call_timeout(args.lease / 3);
    let node = PgNode::connect(config).await?;
    let mut builder = SessionSupervisor::builder()
        .backend(node.clone())
        .persistence(node.persistence())
        .save_on_stop(args.save_on_stop)
        .max_sessions(args.max_sessions);
    if let Some(every) = args.adopt {
        builder = builder.adopt_orphans_every(every, args.max_sessions);
    }
    let supervisor = builder.build();
    let mut events = supervisor.subscribe();
    tokio::spawn(async move {
        while let Ok(event) = events.recv().await {
            println!("{}", event_line(event.session_id, &event.kind));
        }
    });
    println!("ready {}", node.node());

    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        let words: Vec<&str> = line.split_whitespace().collect();
        let answer = match words.as_slice() {
            ["start", dir] => match supervisor.create_session(dir).await {
                Ok(session) => format!("started {}", session.id()),
                Err(error) => format!("refused {error}"),
            },
            ["start-many", n, dir] => {
                let n: usize = n.parse()?;
                let starts = (0..n).map(|_| supervisor.create_session(dir));
                Tally::of_starts(&join_all(starts).await)
            }
            ["claim-many", n, dir] => {
                let n: usize = n.parse()?;
                let sessions: Vec<Session> = (0..n)
                    .map(|_| Session::new(Path::new(dir)))
                    .collect::<Result<_, _>>()?;
                let claims = sessions
                    .iter()
                    .map(|session| node.claim(session, args.max_sessions));
                let mut tally = Tally::default();
                for result in join_all(claims).await {
                    tally.count(match &result {
                        Ok(_) => None,
                        Err(BackendError::Refused(refused)) => Some(Some(refused)),
                        Err(_) => Some(None),
                    });
                }
                tally.line()
            }
            ["start-each", dirs @ ..] => {
                let starts = dirs.iter().map(|dir| supervisor.create_session(dir));
                Tally::of_starts(&join_all(starts).await)
            }
            ["save", id] => match supervisor.save(id.parse()?).await {
                Ok(_) => "saved".to_string(),
                Err(error) => format!("error {error}"),
            },
            ["stop", id] => match supervisor.stop_session(id.parse()?).await {
                Ok(_) => "stopped".to_string(),
                Err(error) => format!("error {error}"),
            },
            ["say", id, n] => {
                let n: usize = n.parse()?;
                match supervisor.state(id.parse()?) {
                    Some(state) => {
                        let mut said = 0;
                        for m in 0..n {
                            let text = format!("message {m}");
                            if state
                                .append_message(Message::new(Role::User, text))
                                .await
                                .is_err()
                            {
                                break;
                            }
                            said += 1;
                        }
                        format!("said {said}")
                    }
                    None => "error no such session".to_string(),
                }
            }
            ["count", id] => match supervisor.state(id.parse()?) {
                Some(state) => match state.message_count().await {
                    Ok(n) => format!("count {n}"),
                    Err(error) => format!("error {error}"),
                },
                None => "error no such session".to_string(),
            },
            // As of every change committed before the command.
            ["locate", id] => match async {
                let id: SessionId = id
                    .parse()
                    .map_err(|e: jido_session::SessionError| e.to_string())?;
                node.sync_placements().await.map_err(|e| e.to_string())?;
                supervisor.locate(id).await.map_err(|e| e.to_string())
            }
            .await
            {
                Ok(Some(placement)) => format!("at {}", placement.node),
                Ok(None) => "nowhere".to_string(),
                Err(error) => format!("error {error}"),
            },
            ["quit"] => break,
            _ => format!("error unknown command {line:?}"),
        };
        println!("{answer}");
    }
    Ok(())
}
