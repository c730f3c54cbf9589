//! OTP-style supervision of coding-assistant sessions on tokio.
//!
//! - [`SessionSupervisor`] (a `DynamicSupervisor`): registers a session,
//!   starts its process tree, rolls back on any failure, stops it, finds it.
//!   No stale entries, cancel-safe, atomic against concurrent starts.
//! - [`SessionChild`]: the pluggable start of one session's tree (Elixir's
//!   `:supervisor_module`). [`SessionSup`] is the real one; `jido-testkit`
//!   has a scriptable stub and a mock.
//! - [`SessionSup`]: the per-session supervisor with its Manager and State
//!   children, [`Strategy`], [`Restart`] types, [`RestartIntensity`] and
//!   [`Shutdown`] policies as in OTP.
//! - [`SessionEvent`]s: started, stopped, crashed, restarted, by broadcast.
//!
//! ```
//! use jido_session::Session;
//! use jido_supervisor::{EventKind, Message, Role, SessionSupervisor};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let dir = tempfile::tempdir().unwrap();
//! let supervisor = SessionSupervisor::new();
//! let mut events = supervisor.subscribe();
//!
//! let session = Session::new(dir.path()).unwrap();
//! let id = session.id();
//! supervisor.start_session(session).await.unwrap();
//! assert_eq!(events.recv().await.unwrap().kind, EventKind::Started);
//!
//! // The State child keeps the conversation.
//! let state = supervisor.state(id).unwrap();
//! state.append_message(Message::new(Role::User, "hello")).await.unwrap();
//! assert_eq!(state.messages().await.unwrap().len(), 1);
//!
//! // A crashed child is restarted (one-for-one), and `state` reaches the new one.
//! state.pid().unwrap().kill();
//! assert!(matches!(events.recv().await.unwrap().kind, EventKind::Restarted { child: "state", .. }));
//! assert!(state.messages().await.unwrap().is_empty());
//!
//! supervisor.shutdown().await;
//! assert_eq!(supervisor.registry().count(), 0);
//! # }
//! ```

#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

mod child;
mod dynamic;
mod error;
mod events;
mod mailbox;
mod manager;
mod process_key;
mod restart;
mod session_sup;
mod shutdown;
mod state;
mod strategy;

pub use child::{ChildContext, ChildError, ChildHandle, SessionChild, StartOutcome};
pub use dynamic::{DEFAULT_START_TIMEOUT, SessionSupervisor, SessionSupervisorBuilder};
pub use error::{CallError, StartError, StopError};
pub use events::{DEFAULT_EVENT_CAPACITY, EventKind, Events, SessionEvent};
pub use manager::{ManagerMailbox, ManagerRef};
pub use process_key::{ProcessKey, ProcessValue, Processes};
pub use restart::{Restart, RestartIntensity};
pub use session_sup::{ChildSpec, SessionSup};
pub use shutdown::Shutdown;
pub use state::{Message, PROMPT_HISTORY_LIMIT, Role, StateMailbox, StateRef, Todo, TodoStatus};
pub use strategy::Strategy;
