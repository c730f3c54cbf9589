//! [`TreeHandle`]: a running session tree, as a
//! [`SessionChild`](crate::tree::SessionChild) returns it.

use std::fmt;
use std::sync::Arc;

use jido_process::{ExitReason, Pid, Shutdown, Supervisor};
use jido_session::Conversation;

use crate::context::SessionContext;
use crate::journal::SessionJournal;

/// A running session tree, as a [`SessionChild`](crate::tree::SessionChild) returns it: the tree's top
/// process and how to terminate it, and, for a tree that is a
/// [`Supervisor`], its handle (through which the session supervisor reaches
/// the tree's children by name). Clones name the same tree.
#[derive(Clone)]
pub struct TreeHandle {
    pid: Pid,
    shutdown: Shutdown,
    supervisor: Option<Supervisor<SessionContext>>,
}

impl TreeHandle {
    /// A tree that is the process `pid`, terminated by `shutdown`. The
    /// process is expected to end when asked to (it watches
    /// [`Pid::stop_requested`]); with [`Shutdown::Timeout`] it is killed if it
    /// does not.
    pub fn new(pid: Pid, shutdown: Shutdown) -> Self {
        TreeHandle {
            pid,
            shutdown,
            supervisor: None,
        }
    }

    /// A tree that is `supervisor`, terminated by `shutdown` (usually
    /// [`Shutdown::Infinity`]: a supervisor's children have their own
    /// timeouts).
    pub fn with_supervisor(supervisor: Supervisor<SessionContext>, shutdown: Shutdown) -> Self {
        TreeHandle {
            pid: supervisor.pid().clone(),
            shutdown,
            supervisor: Some(supervisor),
        }
    }

    /// The tree's top process.
    pub fn pid(&self) -> &Pid {
        &self.pid
    }

    /// How the tree is terminated.
    pub fn shutdown_policy(&self) -> Shutdown {
        self.shutdown
    }

    /// The tree's supervisor, if it is one.
    pub fn supervisor(&self) -> Option<&Supervisor<SessionContext>> {
        self.supervisor.as_ref()
    }

    /// The committed conversation of the tree and the last journal record
    /// it holds (empty, 0, for a tree that is no session supervisor: it
    /// keeps none).
    pub(crate) fn checkpoint(&self) -> (Conversation, u64) {
        self.supervisor()
            .map(|supervisor| supervisor.context().conversation().checkpoint())
            .unwrap_or_default()
    }

    /// The session's journal, if its tree is a session supervisor and the
    /// session is journaled.
    pub(crate) fn journal(&self) -> Option<Arc<SessionJournal>> {
        self.supervisor()?
            .context()
            .conversation()
            .journal()
            .cloned()
    }

    /// `true` until the tree's top process has ended (or was killed).
    pub fn is_alive(&self) -> bool {
        self.pid.is_alive()
    }

    /// Waits for the tree to end, and says why it ended.
    pub async fn wait(&self) -> ExitReason {
        self.pid.wait().await
    }
}

impl PartialEq for TreeHandle {
    fn eq(&self, other: &Self) -> bool {
        self.pid == other.pid
    }
}

impl Eq for TreeHandle {}

impl fmt::Debug for TreeHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TreeHandle")
            .field("pid", &self.pid)
            .field("shutdown", &self.shutdown)
            .field("supervisor", &self.supervisor.is_some())
            .finish()
    }
}
