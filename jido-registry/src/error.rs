//! The registries' errors.

use jido_session::{ProjectPath, SessionId};

use crate::Pid;

/// Why [`SessionRegistry`](crate::SessionRegistry) refused a change.
///
/// [`register`](crate::SessionRegistry::register) checks, in this order, the
/// limit, the id and the project, so the first failing check is the one
/// reported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The registry already holds `limit` sessions.
    #[error("session limit reached: {count} of {limit} sessions are open")]
    LimitReached {
        /// How many sessions were registered.
        count: usize,
        /// The most the registry holds.
        limit: usize,
    },
    /// A session with this id is already registered.
    #[error("a session with id {id} is already registered")]
    DuplicateId {
        /// The id asked for.
        id: SessionId,
    },
    /// Another session already has this project open.
    #[error("project {path} is already open in session {owner}")]
    DuplicateProject {
        /// The project's canonical path.
        path: ProjectPath,
        /// The session that has it open.
        owner: SessionId,
    },
    /// No session with this id is registered.
    #[error("no session with id {id} is registered")]
    NotFound {
        /// The id asked for.
        id: SessionId,
    },
}

/// Why [`ProcessRegistry::register`](crate::ProcessRegistry::register) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegisterError<K> {
    /// A live process already holds the key.
    #[error("key {key:?} is already registered to {owner}")]
    Taken {
        /// The key asked for.
        key: K,
        /// The process that holds it.
        owner: Pid,
    },
    /// The would-be owner has already ended (or was killed).
    #[error("cannot register key {key:?}: its owner has exited")]
    OwnerExited {
        /// The key asked for.
        key: K,
    },
}
