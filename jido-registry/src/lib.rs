//! The session registry: which sessions are open, at most `limit` of them,
//! each id and each project (canonical directory) once.
//!
//! - [`SessionRegistry`]: one lock over one index (by id, by project, by
//!   name) and a slot per session for its owner's data; registering is one
//!   critical section, so concurrent registrations never race past a check.
//! - [`RegistryView`]: read-only access, for code that must not register or
//!   unregister (a supervisor hands these out and keeps the registry).
//! - [`RegistryBackend`]: admission decided for a whole cluster (limit, id,
//!   project; leases and fencing tokens), pluggable: [`MemoryCluster`] in
//!   this program's memory, PostgreSQL in `jido-cluster`.
//!
//! Processes and their names (pids, the unique-key process registry) are in
//! `jido-process`: this crate knows sessions, not processes.
//!
//! ```
//! use jido_registry::{RegistryError, SessionRegistry};
//! use jido_session::Session;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let sessions = SessionRegistry::with_limit(1);
//! let first = sessions.register(Session::new(dir.path()).unwrap()).unwrap();
//!
//! let other = tempfile::tempdir().unwrap();
//! assert_eq!(
//!     sessions.register(Session::new(other.path()).unwrap()).unwrap_err(),
//!     RegistryError::LimitReached { count: 1, limit: 1 }
//! );
//! sessions.unregister_ticket(first.ticket());
//! assert_eq!(sessions.view().count(), 0);
//! ```

#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

mod backend;
mod error;
mod index;
mod memory_cluster;
mod session_registry;
mod ticket;
mod view;

pub use backend::{BackendError, Claim, Fence, Lease, NodeId, Placement, RegistryBackend};
pub use error::RegistryError;
pub use memory_cluster::{MemoryCluster, MemoryNode};
pub use session_registry::{DEFAULT_LIMIT, RegistryWriter, SessionRegistry};
pub use ticket::{Registration, Ticket};
pub use view::RegistryView;
