//! [`SessionHandle`]: a running session, as `start_session` returns it.

use std::fmt;
use std::sync::{Arc, Weak};

use jido_process::{ExitReason, Pid, Supervisor};
use jido_registry::Ticket;
use jido_session::{Session, SessionId};

use crate::context::SessionContext;
use crate::tree_handle::TreeHandle;

/// A running session: what [`start_session`](crate::SessionSupervisor::start_session)
/// returns. It names the session (as it was when started) and its process
/// tree. Cheap to clone; clones name the same session.
#[derive(Clone)]
pub struct SessionHandle {
    session: Arc<Session>,
    tree: TreeHandle,
    supervisor: Weak<dyn Sessions>,
    ticket: Ticket,
}

/// The supervisor, as the handles it gives out reach it: crate-private and
/// narrow, so that the handles need nothing of its core (which implements
/// it).
pub(crate) trait Sessions: Send + Sync {
    /// A tree's end, seen by a handle: the session leaves the registry (if
    /// that tree is still the one registered under `ticket`).
    fn tree_ended(&self, ticket: Ticket, pid: &Pid, reason: &ExitReason);
    /// The tree of session `id`, if it runs and is alive.
    fn live_tree(&self, id: SessionId) -> Option<TreeHandle>;
}

impl SessionHandle {
    pub(crate) fn new(
        session: Arc<Session>,
        tree: TreeHandle,
        supervisor: Weak<dyn Sessions>,
        ticket: Ticket,
    ) -> Self {
        SessionHandle {
            session,
            tree,
            supervisor,
            ticket,
        }
    }

    /// The session's id.
    pub fn id(&self) -> SessionId {
        self.session.id()
    }

    /// The session as it was when it started (the supervisor's
    /// [`registry`](crate::SessionSupervisor::registry) has it as it is now).
    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }

    /// The top process of the session's tree.
    pub fn pid(&self) -> &Pid {
        self.tree.pid()
    }

    /// The tree, as its [`SessionChild`](crate::tree::SessionChild) returned it.
    pub fn tree(&self) -> &TreeHandle {
        &self.tree
    }

    /// The tree's supervisor, if it is one (the default tree is).
    pub fn supervisor(&self) -> Option<&Supervisor<SessionContext>> {
        self.tree.supervisor()
    }

    /// `true` until the tree has ended.
    pub fn is_alive(&self) -> bool {
        self.tree.is_alive()
    }

    /// Waits for the tree to end and says why. When it returns, the session
    /// has left its supervisor's registry and its end has been reported.
    pub async fn wait(&self) -> ExitReason {
        let reason = self.tree.wait().await;
        if let Some(core) = self.supervisor.upgrade() {
            core.tree_ended(self.ticket, self.tree.pid(), &reason);
        }
        reason
    }
}

impl PartialEq for SessionHandle {
    fn eq(&self, other: &Self) -> bool {
        self.tree == other.tree
    }
}

impl Eq for SessionHandle {}

impl fmt::Debug for SessionHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionHandle")
            .field("id", &self.id())
            .field("pid", self.pid())
            .finish()
    }
}
