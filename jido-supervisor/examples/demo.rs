//! The whole session lifecycle, end to end, with the real per-session
//! supervisor:
//!
//! ```text
//! cargo run --release --example demo
//! ```
//!
//! It opens sessions for directories it creates under a temp dir, shows the
//! open sessions, hits the session limit and a duplicate project (spelled
//! through a symlink), holds a conversation (a streamed answer included)
//! whose State crashes and comes back with it, lets the Manager write and
//! read inside the project and refuse paths that leave it, saves a session
//! as it stops and resumes it with its conversation, exceeds the
//! restart intensity and shows the session leave the registry, then stops
//! everything — printing lifecycle events as they happen.

use std::error::Error;
use std::path::Path;
use std::time::Duration;

use jido_session::{Session, SessionId};
use jido_supervisor::ExitReason;
use jido_supervisor::process::RestartIntensity;
use jido_supervisor::session::Todo;
use jido_supervisor::tree::SessionSup;
use jido_supervisor::{EventKind, Message, Persistence, Role, SessionEvent, SessionSupervisor};
use tokio::sync::broadcast;

const LIMIT: usize = 3;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let root = tempfile::tempdir()?;
    println!("Projects live under {}\n", root.path().display());

    let snapshots = root.path().join("snapshots");
    let supervisor = SessionSupervisor::builder()
        .max_sessions(LIMIT)
        .persistence(Persistence::in_dir(&snapshots)?)
        .save_on_stop(true)
        .session_child(
            SessionSup::new().intensity(RestartIntensity::new(3, Duration::from_secs(5))?),
        )
        .build();
    let mut events = supervisor.subscribe();

    step("1. Open one session per project, up to the limit");
    let mut ids = Vec::new();
    for name in ["alpha", "beta", "gamma"] {
        let dir = root.path().join(name);
        std::fs::create_dir(&dir)?;
        let session = Session::new(&dir)?;
        ids.push(session.id());
        let pid = supervisor.start_session(session).await?;
        expect(&mut events, |e| e.kind == EventKind::Started).await?;
        println!("   {name}: tree {}", pid.pid());
    }
    print_table(&supervisor);

    step("2. A fourth session: the limit");
    let delta = root.path().join("delta");
    std::fs::create_dir(&delta)?;
    report_error(supervisor.start_session(Session::new(&delta)?).await);

    step("3. The same project through a symlink: one directory, one project");
    println!("   (gamma is stopped first to make room: the limit is checked before the project)");
    supervisor.stop_session(ids[2]).await?;
    expect(&mut events, |e| matches!(e.kind, EventKind::Stopped { .. })).await?;
    let alias = root.path().join("alpha-link");
    symlink_dir(&root.path().join("alpha"), &alias)?;
    println!(
        "   {} -> {}",
        alias.display(),
        root.path().join("alpha").display()
    );
    report_error(supervisor.start_session(Session::new(&alias)?).await);

    step("4. A conversation in alpha survives a crash of its State (one-for-one restart)");
    let alpha = ids[0];
    let state = supervisor.state(alpha).ok_or("alpha has no State")?;
    state
        .append_message(Message::new(Role::User, "refactor the parser"))
        .await?;
    state.record_prompt("refactor the parser").await?;
    state.start_streaming("answer-1").await?;
    for chunk in ["Splitting ", "the lexer ", "out first."] {
        state.append_chunk(chunk)?; // a cast: no reply awaited
    }
    let answer = state.end_streaming().await?;
    println!("   streamed answer committed: {:?}", answer.content);
    state
        .set_todos(vec![
            Todo::new("split the lexer"),
            Todo::new("run the tests"),
        ])
        .await?;
    let before = state.pid().ok_or("no State pid")?;
    before.kill();
    expect(&mut events, |e| {
        matches!(e.kind, EventKind::Restarted { .. })
    })
    .await?;
    let after = state.pid().ok_or("no State pid after restart")?;
    let page = state.messages(0, Some(10)).await?;
    println!("   State was {before}, is now {after}; it starts from the committed conversation:");
    for message in &page.items {
        println!("     {:?}: {}", message.role, message.content);
    }
    println!(
        "   page: total {}, returned {}, has_more {}; todos: {}; prompts: {}",
        page.meta.total,
        page.meta.returned,
        page.meta.has_more,
        state.todos().await?.len(),
        state.prompt_history().await?.len()
    );

    step("5. The Manager guards alpha's project boundary");
    let manager = supervisor.manager(alpha).ok_or("no Manager")?;
    println!(
        "   Manager answers for {:?}, root {}",
        manager.session().await?.name(),
        manager.project_root().await?
    );
    let written = manager
        .write_file("notes.md", "# Plan\nsplit the lexer\n")
        .await?;
    let content = manager.read_file("notes.md", 1, 10).await?;
    println!(
        "   wrote {} atomically; read back {} lines",
        written.display(),
        content.lines.len()
    );
    symlink_dir(root.path(), &root.path().join("alpha").join("escape"))?;
    for path in [
        "../beta/secret.txt",
        "/etc/passwd",
        "escape/beta",
        ".jido_code/settings.json",
    ] {
        match manager.validate_path(path).await {
            Ok(resolved) => println!("   {path}: allowed as {}", resolved.display()),
            Err(error) => println!("   {path}: refused: {error}"),
        }
    }

    step("6. beta is stopped (saved as it stops) and resumed with its conversation");
    let beta = ids[1];
    let beta_state = supervisor.state(beta).ok_or("beta has no State")?;
    beta_state
        .append_message(Message::new(Role::User, "where were we?"))
        .await?;
    beta_state
        .append_message(Message::new(Role::Assistant, "adding the cache"))
        .await?;
    supervisor.stop_session(beta).await?;
    expect(&mut events, |e| matches!(e.kind, EventKind::Stopped { .. })).await?;
    for saved in supervisor.list_resumable().await? {
        println!(
            "   resumable: {} ({}), {} messages, closed {}, in {}",
            saved.name,
            &saved.id.to_string()[..8],
            saved.messages,
            saved.closed_at.format("%H:%M:%S"),
            snapshots.display()
        );
    }
    supervisor.resume(beta).await?;
    expect(&mut events, |e| e.kind == EventKind::Started).await?;
    let page = supervisor
        .state(beta)
        .ok_or("resumed beta has no State")?
        .messages(0, None)
        .await?;
    println!("   resumed beta holds {} messages:", page.meta.total);
    for message in &page.items {
        println!("     {:?}: {}", message.role, message.content);
    }

    step(
        "7. Crash after crash: past 3 restarts in 5 s the tree gives up and the session leaves the registry",
    );
    while let Some(pid) = state.pid() {
        pid.kill();
        let event = expect(&mut events, |e| {
            matches!(
                e.kind,
                EventKind::Restarted { .. } | EventKind::Crashed { .. }
            )
        })
        .await?;
        if matches!(event.kind, EventKind::Crashed { .. }) {
            break;
        }
    }
    println!(
        "   alpha running: {}, registered: {}",
        supervisor.session_running(alpha),
        supervisor.registry().contains(alpha)
    );
    print_table(&supervisor);

    step("8. The project is free again: reopen it");
    let reopened = Session::new(root.path().join("alpha"))?;
    supervisor.start_session(reopened).await?;
    expect(&mut events, |e| e.kind == EventKind::Started).await?;
    print_table(&supervisor);

    step("9. Shut everything down (each session saved as it stops)");
    let open = supervisor.count_children();
    supervisor.shutdown().await;
    for _ in 0..open {
        expect(&mut events, |e| {
            matches!(
                e.kind,
                EventKind::Stopped {
                    reason: ExitReason::Shutdown
                }
            )
        })
        .await?;
    }
    print_table(&supervisor);
    Ok(())
}

fn step(title: &str) {
    println!("\n{title}");
}

/// Prints events as they arrive until one matches `wanted`.
async fn expect(
    events: &mut broadcast::Receiver<SessionEvent>,
    wanted: impl Fn(&SessionEvent) -> bool,
) -> Result<SessionEvent, Box<dyn Error>> {
    loop {
        let event = events.recv().await?;
        println!("   event: {event}");
        if wanted(&event) {
            return Ok(event);
        }
    }
}

fn report_error<T, E: Error>(result: Result<T, E>) {
    match result {
        Ok(_) => println!("   unexpectedly started"),
        Err(error) => println!("   refused: {error}\n   as a value: {error:?}"),
    }
}

fn print_table(supervisor: &SessionSupervisor) {
    let sessions = supervisor.registry().list_all();
    println!(
        "   open sessions: {} of {}",
        sessions.len(),
        supervisor.max_children()
    );
    if sessions.is_empty() {
        return;
    }
    println!(
        "   {:<10} {:<8} {:<10} {:<8} project",
        "id", "name", "tree", "running"
    );
    for session in sessions {
        let id: SessionId = session.id();
        let tree = supervisor
            .find_session(id)
            .map(|handle| handle.pid().to_string())
            .unwrap_or_else(|| "-".into());
        println!(
            "   {:<10} {:<8} {:<10} {:<8} {}",
            &id.to_string()[..8],
            session.name(),
            tree,
            supervisor.session_running(id),
            session.project_path()
        );
    }
}

#[cfg(unix)]
fn symlink_dir(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink_dir(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::windows::fs::symlink_dir(target, link)
}
