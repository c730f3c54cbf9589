//! A newcomer's first program, with `jido-supervisor` and `tokio` as its
//! only dependencies:
//!
//! ```text
//! cargo run -p jido-first-program
//! ```
//!
//! It opens a session whose tree holds, beside the default Manager and
//! State, an agent of its own (a [`Worker`]); holds a short conversation
//! through the State, asking the agent for each answer; stops the session,
//! which saves it; then, as the next run of the program would, opens the
//! same store with a new supervisor, finds the session and resumes it with
//! its conversation.

use std::error::Error;
use std::path::{Path, PathBuf};

use jido_supervisor::process::{ChildSpec, Context, Worker};
use jido_supervisor::tree::{SessionContext, SessionSup};
use jido_supervisor::{Message, Persistence, Role, SessionId, SessionSupervisor};

/// An agent that answers prompts (a real one would call a model).
struct Agent {
    answered: u32,
}

impl Worker for Agent {
    type Request = String;
    type Reply = String;

    async fn handle(&mut self, prompt: String, _ctx: &mut Context) -> String {
        self.answered += 1;
        format!("answer #{} to {prompt:?}", self.answered)
    }
}

/// A supervisor keeping its sessions in `store`, each session's tree with
/// our agent beside the Manager and the State, saved when it stops.
fn supervisor(store: &Path) -> Result<SessionSupervisor, Box<dyn Error>> {
    let tree = SessionSup::new().child(ChildSpec::worker("agent", |_: &SessionContext| Agent {
        answered: 0,
    }));
    Ok(SessionSupervisor::builder()
        .persistence(Persistence::in_dir(store)?)
        .save_on_stop(true)
        .session_child(tree)
        .build())
}

/// The whole program: returns the conversation as resumed.
async fn run(project: &Path, store: &Path) -> Result<Vec<String>, Box<dyn Error>> {
    let first = supervisor(store)?;
    let id = first.create_session(project).await?.id();
    println!("opened session {id} on {}", project.display());
    let state = first.state(id).ok_or("the session has no State")?;
    let agent = first.child_ref::<Agent>(id, "agent");
    for prompt in ["fix the build", "now run the tests"] {
        state
            .append_message(Message::new(Role::User, prompt))
            .await?;
        let answer = agent.call(prompt.to_string()).await?;
        println!("  {prompt} -> {answer}");
        state
            .append_message(Message::new(Role::Assistant, answer))
            .await?;
    }
    first.stop_session(id).await?;
    first.shutdown().await;
    drop(first);

    // The next run of the program: a new supervisor on the same store.
    let next = supervisor(store)?;
    let saved = next.list_resumable().await?;
    println!(
        "resumable: {:?}",
        saved.iter().map(|s| s.id).collect::<Vec<_>>()
    );
    next.resume(id).await?;
    let page = next
        .state(id)
        .ok_or("the session has no State")?
        .messages(0, None)
        .await?;
    let conversation: Vec<String> = page.items.into_iter().map(|m| m.content).collect();
    println!("resumed with {} messages", conversation.len());
    next.shutdown().await;
    Ok(conversation)
}

/// A new directory of our own under the system's temporary one, removed
/// when dropped (a real program keeps its store in
/// `Persistence::default_dir()` and opens the user's project).
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> std::io::Result<Self> {
        // A random name, created only if it does not exist yet.
        let dir = std::env::temp_dir().join(format!("jido-first-{name}-{}", SessionId::new()));
        std::fs::create_dir(&dir)?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let project = TempDir::new("project")?;
    let store = TempDir::new("store")?;
    for line in run(&project.0, &store.0).await? {
        println!("  {line}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_conversation_comes_back_whole() {
        let project = TempDir::new("project").unwrap();
        let store = TempDir::new("store").unwrap();
        let conversation = run(&project.0, &store.0).await.unwrap();
        assert_eq!(
            conversation,
            [
                "fix the build",
                "answer #1 to \"fix the build\"",
                "now run the tests",
                "answer #2 to \"now run the tests\"",
            ]
        );
    }
}
