//! What a session's processes are registered under: [`ProcessKey`] and
//! [`ProcessValue`].

use std::fmt;

use jido_registry::ProcessRegistry;
use jido_session::SessionId;

use crate::manager::ManagerMailbox;
use crate::state::StateMailbox;

/// The process registry a [`SessionSupervisor`](crate::SessionSupervisor)
/// and its session trees share.
pub type Processes = ProcessRegistry<ProcessKey, ProcessValue>;

/// The unique name of one process of a session's tree (jido_code's
/// `{:session, id}`, `{:manager, id}` and `{:state, id}` via-tuples).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProcessKey {
    /// The session's own supervisor (the top of its tree).
    Session(SessionId),
    /// The session's Manager.
    Manager(SessionId),
    /// The session's State.
    State(SessionId),
}

impl ProcessKey {
    /// The session the process belongs to.
    pub fn session_id(&self) -> SessionId {
        match self {
            ProcessKey::Session(id) | ProcessKey::Manager(id) | ProcessKey::State(id) => *id,
        }
    }
}

impl fmt::Display for ProcessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProcessKey::Session(id) => write!(f, "{{session, {id}}}"),
            ProcessKey::Manager(id) => write!(f, "{{manager, {id}}}"),
            ProcessKey::State(id) => write!(f, "{{state, {id}}}"),
        }
    }
}

/// What is registered with a process: how to reach it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ProcessValue {
    /// A process reached through its handle, not a mailbox (a session's
    /// supervisor).
    Supervisor,
    /// A Manager's mailbox.
    Manager(ManagerMailbox),
    /// A State's mailbox.
    State(StateMailbox),
}
