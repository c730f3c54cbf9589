//! Your own children in every session's tree:
//!
//! ```text
//! cargo run --example agents
//! ```
//!
//! Every session runs the default Manager and State plus a flaky worker of
//! ours; an echoing agent is started lazily (jido_code's `start_agent`),
//! crashed and restarted, and the session ends when its agent finishes, as
//! the agent is a *significant* child of a tree with auto shutdown.

use std::error::Error;

use jido_supervisor::process::{
    AutoShutdown, ChildSpec, Context, Restart, Supervisor, SupervisorError, Worker,
};
use jido_supervisor::tree::{SessionContext, SessionSup};
use jido_supervisor::{EventKind, ExitReason, SessionEvent, SessionId, SessionSupervisor};
use tokio::sync::broadcast;

/// An agent that echoes prompts, numbered by incarnation.
struct Agent {
    session: String,
    answered: u32,
}

/// What the agent is asked.
enum Ask {
    /// Echo this prompt.
    Prompt(String),
    /// The task is done: end, and with it the session.
    Finish,
}

impl Worker for Agent {
    type Request = Ask;
    type Reply = String;

    async fn handle(&mut self, ask: Ask, ctx: &mut Context) -> String {
        match ask {
            Ask::Prompt(prompt) => {
                self.answered += 1;
                format!("[{}] echo #{}: {prompt}", self.session, self.answered)
            }
            Ask::Finish => {
                ctx.stop(ExitReason::shutdown_with("task done"));
                "bye".to_string()
            }
        }
    }
}

/// A worker that fails on its third request (it answers, then exits with
/// an error): its supervisor restarts it. A panic would do the same.
#[derive(Default)]
struct Flaky {
    handled: u32,
}

impl Worker for Flaky {
    type Request = ();
    type Reply = u32;

    async fn handle(&mut self, (): (), ctx: &mut Context) -> u32 {
        self.handled += 1;
        if self.handled == 3 {
            ctx.stop(ExitReason::error("flaky worker gave up"));
        }
        self.handled
    }
}

/// The agent child: transient (restarted after a crash, not after it
/// finishes) and significant (the session ends when it finishes).
fn agent_spec() -> ChildSpec<SessionContext> {
    ChildSpec::worker("agent", |ctx: &SessionContext| Agent {
        session: ctx.session().name().to_string(),
        answered: 0,
    })
    .restart(Restart::Transient)
    .significant(true)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let project = tempfile::tempdir()?;
    let tree = SessionSup::new()
        .auto_shutdown(AutoShutdown::AnySignificant)
        .child(ChildSpec::worker("flaky", |_: &SessionContext| {
            Flaky::default()
        }));
    let supervisor = SessionSupervisor::builder().session_child(tree).build();
    let mut events = supervisor.subscribe();

    step("1. Open a session: its tree has the Manager, the State and our flaky worker");
    let session = supervisor.create_session(project.path()).await?;
    let id = session.id();
    expect(&mut events, id, |kind| *kind == EventKind::Started).await?;
    let tree = supervisor.tree(id).ok_or("the session has no tree")?;
    print_children(&tree);

    step("2. Start the agent lazily (jido_code's start_agent)");
    let pid = tree.start_child(agent_spec()).await?.ok_or("ignored")?;
    println!("   agent started as {pid}");
    match tree.start_child(agent_spec()).await {
        Err(SupervisorError::AlreadyStarted { pid, .. }) => {
            println!("   start_agent again: already started as {pid}")
        }
        other => println!("   unexpected: {other:?}"),
    }
    let agent = supervisor.child_ref::<Agent>(id, "agent");
    println!("   {}", agent.call(Ask::Prompt("hello".into())).await?);
    print_children(&tree);

    step("3. The agent crashes; its tree restarts it, and the reference follows");
    agent
        .pid()
        .ok_or("no agent")?
        .exit(ExitReason::error("out of memory"));
    expect(&mut events, id, |kind| {
        matches!(kind, EventKind::Restarted { .. })
    })
    .await?;
    println!(
        "   {}",
        agent.call(Ask::Prompt("are you back?".into())).await?
    );

    step("4. The flaky worker fails on its third request and is restarted");
    let flaky = supervisor.child_ref::<Flaky>(id, "flaky");
    for _ in 0..3 {
        println!("   flaky answered {}", flaky.call(()).await?);
    }
    expect(&mut events, id, |kind| {
        matches!(kind, EventKind::Restarted { .. })
    })
    .await?;
    println!(
        "   flaky answered {} (a fresh incarnation)",
        flaky.call(()).await?
    );

    step("5. The agent finishes: a significant child, so the session ends with it");
    println!("   agent: {}", agent.call(Ask::Finish).await?);
    let reason = session.wait().await;
    println!("   session tree ended: {reason}");
    expect(&mut events, id, |kind| {
        matches!(kind, EventKind::Stopped { .. })
    })
    .await?;
    println!(
        "   running: {}, open sessions: {}",
        supervisor.session_running(id),
        supervisor.registry().count()
    );
    Ok(())
}

fn step(title: &str) {
    println!("\n{title}");
}

fn print_children(tree: &Supervisor<SessionContext>) {
    for child in tree.which_children() {
        let pid = child
            .pid
            .map_or_else(|| "-".to_string(), |pid| pid.to_string());
        println!(
            "   {:<8} {:<10} {:?} {:?}",
            child.name, pid, child.status, child.restart
        );
    }
}

/// Prints events until one about `id` matches `wanted`.
async fn expect(
    events: &mut broadcast::Receiver<SessionEvent>,
    id: SessionId,
    wanted: impl Fn(&EventKind) -> bool,
) -> Result<(), Box<dyn Error>> {
    loop {
        let event = events.recv().await?;
        println!("   event: {event}");
        if event.session_id == id && wanted(&event.kind) {
            return Ok(());
        }
    }
}
