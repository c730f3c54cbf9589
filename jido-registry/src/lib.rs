//! Registries for session process management on tokio.
//!
//! - [`SessionRegistry`]: the open [`Session`](jido_session::Session)s, at
//!   most `limit` of them (default 10), each id and each project (canonical
//!   directory) once. Registering is one critical section, so concurrent
//!   registrations never race past a check.
//! - [`ProcessRegistry`]: unique keys naming live processes (the analogue of
//!   Elixir's `Registry` with unique keys). A key is freed when its owner's
//!   task ends, however it ends.
//! - [`Pid`] and [`spawn`]: the processes those keys name — tokio tasks whose
//!   end (return, error, panic, abort) is observed, with its [`ExitReason`].
//!
//! ```
//! use jido_registry::{spawn, ExitReason, ProcessRegistry, SessionRegistry};
//! use jido_session::Session;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let dir = tempfile::tempdir().unwrap();
//! let sessions = SessionRegistry::new();
//! let session = sessions.register(Session::new(dir.path()).unwrap()).unwrap();
//!
//! let processes: ProcessRegistry<jido_session::SessionId> = ProcessRegistry::new();
//! let pid = spawn(std::future::pending());
//! processes.register(session.id(), &pid, ()).unwrap();
//! pid.kill();
//! assert_eq!(pid.wait().await, ExitReason::Killed);
//! assert!(processes.whereis(&session.id()).is_none());
//! # }
//! ```

#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

mod error;
mod exit_reason;
mod pid;
mod process_registry;
mod session_registry;

pub use error::{RegisterError, RegistryError};
pub use exit_reason::ExitReason;
pub use pid::{MonitorRef, Pid, spawn, spawn_with_pid};
pub use process_registry::ProcessRegistry;
pub use session_registry::{DEFAULT_LIMIT, Registration, SessionRegistry, Ticket};
