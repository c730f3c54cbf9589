//! A program killed mid-conversation loses nothing it acknowledged.
//!
//! ```text
//! cargo run --example crash_and_resume
//! ```
//!
//! This program starts a copy of itself that opens a session in a store
//! (`Persistence::in_dir`, default durability) and converses through its
//! State, printing each message the State acknowledges. After a few dozen
//! it kills the copy with SIGKILL, mid-conversation — no stop, no save —
//! then opens the same store, finds the session listed as interrupted, and
//! resumes it with every acknowledged message.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use jido_supervisor::{Message, Persistence, Role, SessionId, SessionSupervisor};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    match (args.next().as_deref(), args.next(), args.next()) {
        (Some("converse"), Some(store), Some(project)) => converse(&store, &project),
        _ => parent(),
    }
}

/// The copy that is killed: converses until it is.
#[tokio::main]
async fn converse(store: &str, project: &str) -> Result<(), Box<dyn std::error::Error>> {
    let supervisor = SessionSupervisor::builder()
        .persistence(Persistence::in_dir(store)?)
        .build();
    let id = supervisor.create_session(project).await?.id();
    println!("session {id}");
    let state = supervisor.state(id).ok_or("the session has no State")?;
    for n in 1.. {
        state
            .append_message(Message::new(Role::User, format!("message {n}")))
            .await?;
        println!("acknowledged {n}");
    }
    Ok(())
}

fn parent() -> Result<(), Box<dyn std::error::Error>> {
    let store = tempfile::tempdir()?;
    let project = tempfile::tempdir()?;
    println!("1. A program converses; it is killed (SIGKILL) after 40 acknowledged messages");
    let mut child = Command::new(std::env::current_exe()?)
        .arg("converse")
        .arg(store.path())
        .arg(project.path())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut lines = BufReader::new(child.stdout.take().ok_or("no output")?).lines();
    let mut id: Option<SessionId> = None;
    let mut acknowledged = 0;
    while acknowledged < 40 {
        let line = lines.next().ok_or("the program ended early")??;
        if let Some(session) = line.strip_prefix("session ") {
            id = Some(session.parse()?);
        } else if let Some(n) = line.strip_prefix("acknowledged ") {
            acknowledged = n.parse()?;
        }
    }
    child.kill()?;
    child.wait()?;
    for line in lines.map_while(Result::ok) {
        if let Some(n) = line.strip_prefix("acknowledged ") {
            acknowledged = n.parse()?;
        }
    }
    println!("   killed; it had acknowledged {acknowledged} messages");
    resume(store.path(), id.ok_or("no session")?, acknowledged)
}

/// The next program: finds the interrupted session and resumes it whole.
#[tokio::main]
async fn resume(
    store: &Path,
    id: SessionId,
    acknowledged: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    println!("2. The next program opens the same store");
    let supervisor = SessionSupervisor::builder()
        .persistence(Persistence::in_dir(store)?)
        .build();
    for info in supervisor.list_resumable().await? {
        println!(
            "   resumable: {} ({}), {} messages, interrupted: {}",
            info.name, info.id, info.messages, info.interrupted
        );
    }
    supervisor.resume(id).await?;
    let page = supervisor
        .state(id)
        .ok_or("the session has no State")?
        .messages(0, None)
        .await?;
    let last = page.items.last().map(|message| message.content.clone());
    println!(
        "3. Resumed with {} messages, the last {:?}",
        page.meta.total,
        last.unwrap_or_default()
    );
    if page.meta.total < acknowledged {
        return Err(format!(
            "lost: {acknowledged} acknowledged, {} kept",
            page.meta.total
        )
        .into());
    }
    println!("   nothing acknowledged was lost");
    supervisor.shutdown().await;
    Ok(())
}
