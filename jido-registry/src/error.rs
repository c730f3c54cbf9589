//! The registry's errors.

use jido_session::{ProjectPath, SessionId};

/// Why [`SessionRegistry`](crate::SessionRegistry) refused a change.
///
/// [`register`](crate::SessionRegistry::register) checks, in this order,
/// that the registry is open, the limit, the id and the project, so the
/// first failing check is the one reported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The registry was closed: it registers nothing more.
    #[error("the session registry is closed")]
    Closed,
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
