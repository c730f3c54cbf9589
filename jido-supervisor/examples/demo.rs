//! The whole session lifecycle, end to end, with the real per-session
//! supervisor:
//!
//! ```text
//! cargo run --release --example demo
//! ```
//!
//! It opens sessions for directories it creates under a temp dir, shows the
//! open sessions, hits the session limit and a duplicate project (spelled
//! through a symlink), crashes a child and shows the restart, exceeds the
//! restart intensity and shows the session leave the registry, then stops
//! everything — printing lifecycle events as they happen.

use std::error::Error;
use std::path::Path;
use std::time::Duration;

use jido_session::{Session, SessionId};
use jido_supervisor::ExitReason;
use jido_supervisor::{
    EventKind, Message, RestartIntensity, Role, SessionEvent, SessionSup, SessionSupervisor,
};
use tokio::sync::broadcast;

const LIMIT: usize = 3;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let root = tempfile::tempdir()?;
    println!("Projects live under {}\n", root.path().display());

    let supervisor = SessionSupervisor::builder()
        .max_sessions(LIMIT)
        .child(SessionSup::new().intensity(RestartIntensity::new(3, Duration::from_secs(5))?))
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

    step("4. The State child of `alpha` crashes and is restarted (one-for-one)");
    let alpha = ids[0];
    let state = supervisor.state(alpha).ok_or("alpha has no State")?;
    state
        .append_message(Message::new(Role::User, "refactor the parser"))
        .await?;
    let before = state.pid().ok_or("no State pid")?;
    before.kill();
    expect(&mut events, |e| {
        matches!(e.kind, EventKind::Restarted { .. })
    })
    .await?;
    let after = state.pid().ok_or("no State pid after restart")?;
    println!(
        "   State was {before}, is now {after}; messages after restart: {} (a restarted State starts afresh)",
        state.messages().await?.len()
    );
    println!(
        "   Manager still answers for {}",
        supervisor
            .manager(alpha)
            .ok_or("no Manager")?
            .session()
            .await?
            .name()
    );

    step(
        "5. Crash after crash: past 3 restarts in 5 s the tree gives up and the session leaves the registry",
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

    step("6. The project is free again: reopen it");
    let reopened = Session::new(root.path().join("alpha"))?;
    supervisor.start_session(reopened).await?;
    expect(&mut events, |e| e.kind == EventKind::Started).await?;
    print_table(&supervisor);

    step("7. Shut everything down");
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
            .find_session_pid(id)
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
