//! OTP-style supervision of coding-assistant sessions on tokio.
//!
//! - [`SessionSupervisor`] (a `DynamicSupervisor`): registers a session,
//!   starts its process tree, rolls back on any failure, stops it, finds it.
//!   It owns its registry: no stale entries, cancel-safe, atomic against
//!   concurrent starts, every stop completes.
//! - [`SessionChild`]: the pluggable start of one session's tree (Elixir's
//!   `:supervisor_module`). [`SessionSup`] is the real one; `jido-testkit`
//!   has a scriptable stub and a mock.
//! - [`SessionSup`]: the per-session tree, a supervisor of children you
//!   declare as [`ChildSpec`]s ([`Worker`]s, plain tasks, nested
//!   supervisors), with OTP's [`Strategy`], [`Restart`] types,
//!   [`RestartIntensity`], [`Shutdown`] policies and [`AutoShutdown`]. The
//!   default children, [`Manager`] and [`State`], are built with that same
//!   API.
//! - [`ChildRef`]: reaches a session's child by name across restarts
//!   ([`SessionSupervisor::child`]); [`SessionSupervisor::tree`] manages
//!   children at run time.
//! - [`SessionEvent`]s: started, stopped, crashed, restarted, by broadcast.
//! - Past one machine: a [`RegistryBackend`]
//!   ([`SessionSupervisorBuilder::backend`]) decides admission for a whole
//!   cluster — the PostgreSQL one is `jido-cluster`'s `PgNode`;
//!   [`SessionSupervisor::locate`] says which node runs a session.
//!
//! One dependency suffices: the types of `jido-session`, `jido-registry`
//! and `jido-process` a user needs are re-exported here.
//!
//! ```
//! use jido_supervisor::{EventKind, Message, Role, SessionSupervisor};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let dir = tempfile::tempdir().unwrap();
//! let supervisor = SessionSupervisor::new();
//! let mut events = supervisor.subscribe();
//!
//! let id = supervisor.create_session(dir.path()).await.unwrap().id();
//! assert_eq!(events.recv().await.unwrap().kind, EventKind::Started);
//!
//! // The State child keeps the conversation.
//! let state = supervisor.state(id).unwrap();
//! state.append_message(Message::new(Role::User, "hello")).await.unwrap();
//! assert_eq!(state.message_count().await.unwrap(), 1);
//!
//! // A crashed child is restarted (one-for-one), and `state` reaches the new
//! // one, which has lost nothing committed: the conversation is the tree's.
//! state.pid().unwrap().kill();
//! assert!(matches!(events.recv().await.unwrap().kind, EventKind::Restarted { child, .. } if child == "state"));
//! assert_eq!(state.messages(0, None).await.unwrap().items[0].content, "hello");
//!
//! supervisor.shutdown().await;
//! assert_eq!(supervisor.registry().count(), 0);
//! # }
//! ```

#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

mod cluster;
mod context;
mod conversation_store;
mod core;
mod error;
mod events;
mod manager;
mod persist;
mod process_key;
mod reply_call;
mod save_locks;
mod session_child;
mod session_handle;
mod session_sup;
mod session_supervisor;
mod shutdown_report;
mod state;

pub use cluster::LeaseLost;
pub use context::SessionContext;
pub use conversation_store::ConversationStore;
pub use error::{StartError, StopError, UpdateError};
pub use events::{ChildEvents, DEFAULT_EVENT_CAPACITY, EventKind, Events, SessionEvent};
pub use manager::{Manager, ManagerError, ManagerRef, ManagerRequest};
pub use persist::{PersistError, ResumeError, SaveSessionError};
pub use process_key::ProcessKey;
pub use session_child::{ChildContext, SessionChild, TreeHandle};
pub use session_handle::SessionHandle;
pub use session_sup::SessionSup;
pub use session_supervisor::{DEFAULT_START_TIMEOUT, SessionSupervisor, SessionSupervisorBuilder};
pub use shutdown_report::ShutdownReport;
pub use state::{State, StateError, StateRef, StateRequest};

pub use jido_process::{
    Addr, AutoShutdown, CallError, ChildCounts, ChildInfo, ChildKind, ChildName, ChildRef,
    ChildSpec, ChildStatus, Context, DEFAULT_CALL_TIMEOUT, Directory, Down, ExitReason, Inbox,
    Locate, Mailbox, MonitorRef, Observer, Pid, Restart, RestartIntensity, Shutdown, SpecError,
    StartOutcome, StartPanicked, Strategy, Supervisor, SupervisorError, SupervisorEvent,
    SupervisorExit, SupervisorSpec, Term, Worker, mailbox, spawn, spawn_with_pid, spawn_worker,
};
pub use jido_registry::{
    BackendError, Claim, Fence, Lease, MemoryCluster, MemoryNode, NodeId, Placement,
    RegistryBackend, RegistryError, RegistryView,
};
pub use jido_session::{
    BoundaryError, Conversation, ConversationError, ConversationLimits, DEFAULT_PROTECTED,
    DEFAULT_READ_LIMIT, DirEntry, EntryKind, FileContent, FileError, FileOperation, MAX_LINE_CHARS,
    Message, Page, PageMeta, ProjectBoundary, ProjectPath, ReasoningStep, Role, Session,
    SessionConfig, SessionError, SessionId, SessionRecord, Todo, TodoStatus, ToolCall, ToolStatus,
    ValidationErrors,
};
pub use jido_store::{
    CleanupReport, DEFAULT_MAX_AGE, DEFAULT_MAX_SNAPSHOT_BYTES, FileStore, Listing, LoadError,
    Persistence, ProjectIdentity, SaveError, Skipped, Snapshot, SnapshotInfo, SnapshotStore,
    StoreError,
};
