//! OTP-style supervision of coding-assistant sessions on tokio.
//!
//! - [`SessionSupervisor`] (a `DynamicSupervisor`): registers a session,
//!   starts its process tree, rolls back on any failure, stops it, finds it.
//!   It owns its registry: no stale entries, cancel-safe, atomic against
//!   concurrent starts, every stop completes.
//! - [`tree`]: one session's tree. [`SessionChild`](tree::SessionChild) is
//!   its pluggable start (Elixir's `:supervisor_module`);
//!   [`SessionSup`](tree::SessionSup) is the real one, a supervisor of
//!   children you declare as [`ChildSpec`](process::ChildSpec)s
//!   ([`Worker`](process::Worker)s, plain tasks, nested supervisors) with
//!   OTP's strategies, restart types, intensity, shutdown policies and auto
//!   shutdown; `jido-testkit` has a scriptable stub and a mock.
//! - [`session`]: what a session holds, and the default children that hold
//!   it: the [`State`](session::State) (the conversation, reached through
//!   [`StateRef`]) and the [`Manager`](session::Manager) (the project
//!   boundary and file operations, through [`ManagerRef`]).
//! - [`process`]: the processes and supervision everything is built on
//!   (`jido-process`); [`SessionSupervisor::child_ref`] reaches a session's
//!   child by name across restarts, [`SessionSupervisor::tree`] manages
//!   children at run time.
//! - [`SessionEvent`]s: started, restarted, saved, stopped, crashed, by
//!   broadcast.
//! - [`store`]: sessions that outlive the program, through
//!   [`Persistence`] ([`SessionSupervisor::save`],
//!   [`SessionSupervisor::resume`]).
//! - [`cluster`]: past one machine, a [`RegistryBackend`](cluster::RegistryBackend)
//!   ([`SessionSupervisorBuilder::backend`]) decides admission for a whole
//!   cluster — the PostgreSQL one is `jido-cluster`'s `PgNode`;
//!   [`SessionSupervisor::locate`] says which node runs a session.
//!
//! The root holds the session API: the supervisor, its handles and
//! errors, the session, its events and the names its first use needs.
//! One dependency suffices: the types of `jido-session`, `jido-registry`,
//! `jido-store` and `jido-process` a user needs are re-exported, each in its
//! layer's module.
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
#![cfg_attr(docsrs, feature(doc_cfg))]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

mod admission;
mod context;
mod conversation_store;
mod core;
mod error;
mod events;
mod journal;
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
pub mod telemetry;
mod tree_handle;

// The session API: what the README's first example and the supervisor's
// own methods need. Everything else is grouped by layer below.
pub use error::{StartError, StopError, UpdateError};
pub use events::{DEFAULT_EVENT_CAPACITY, EventKind, Events, SessionEvent};
pub use jido_process::{ExitReason, Term};
pub use jido_registry::{RegistryError, RegistryView};
pub use jido_session::{Message, Role, Session, SessionConfig, SessionId};
pub use jido_store::Persistence;
pub use manager::{ManagerError, ManagerRef};
pub use persist::{Adoption, PersistError, ResumeError, SaveSessionError};
pub use session_handle::SessionHandle;
pub use session_supervisor::{
    DEFAULT_CHECKPOINT_BYTES, DEFAULT_CHECKPOINT_EVERY, DEFAULT_START_TIMEOUT, SessionSupervisor,
    SessionSupervisorBuilder,
};
pub use shutdown_report::ShutdownReport;
pub use state::{StateError, StateRef};

/// The attribute that implements the extension traits taking `async fn`s
/// behind a trait object — [`SessionChild`](tree::SessionChild),
/// [`SnapshotStore`](store::SnapshotStore),
/// [`RegistryBackend`](cluster::RegistryBackend) — re-exported so that
/// implementing one needs no dependency of your own
/// (`#[jido_supervisor::async_trait]`). [`Worker`](process::Worker) takes a
/// plain `async fn`: it is never a trait object.
pub use async_trait::async_trait;
/// Times in the API (`created_at`, `closed_at`, ...) are chrono's.
pub use chrono::{DateTime, Utc};
/// [`SessionSupervisor::subscribe`]'s receiver and its errors are tokio's
/// broadcast channel's.
pub use tokio::sync::broadcast;

/// Processes and their supervision (`jido-process`): pids, monitors,
/// workers, child specs, supervisors — what a session's tree is made of.
pub mod process {
    pub use jido_process::{
        Addr, AutoShutdown, CallError, ChildCounts, ChildInfo, ChildKind, ChildName, ChildRef,
        ChildSpec, ChildStatus, Context, DEFAULT_CALL_TIMEOUT, Directory, Down, Inbox, Locate,
        Mailbox, MonitorRef, Observer, Pid, Restart, RestartIntensity, Shutdown, SpecError,
        StartOutcome, StartPanicked, Strategy, Supervisor, SupervisorError, SupervisorEvent,
        SupervisorExit, SupervisorSpec, Worker, mailbox, spawn, spawn_with_pid, spawn_worker,
    };
}

/// One session's tree: the pluggable [`SessionChild`](tree::SessionChild)
/// that starts it, the default [`SessionSup`](tree::SessionSup), what its
/// children are started with, and what it may report.
pub mod tree {
    pub use crate::context::SessionContext;
    pub use crate::events::ChildEvents;
    pub use crate::process_key::ProcessKey;
    pub use crate::session_child::{ChildContext, SessionChild};
    pub use crate::session_sup::SessionSup;
    pub use crate::tree_handle::TreeHandle;
}

/// What a session holds (`jido-session`'s data) and the two children that
/// hold it: the [`State`](session::State) (its conversation, committed to a
/// [`ConversationStore`](session::ConversationStore)) and the
/// [`Manager`](session::Manager) (its project boundary and file operations).
pub mod session {
    pub use crate::conversation_store::ConversationStore;
    pub use crate::manager::{Manager, ManagerRequest};
    pub use crate::state::{State, StateRequest};
    pub use jido_session::{
        BoundaryError, Change, Conversation, ConversationError, ConversationLimits,
        DEFAULT_PROTECTED, DEFAULT_READ_LIMIT, DirEntry, DirectoryId, EntryKind, FileContent,
        FileError, FileOperation, MAX_LINE_CHARS, Page, PageMeta, ProjectBoundary, ProjectPath,
        ReasoningStep, SessionError, SessionRecord, Todo, TodoStatus, ToolCall, ToolStatus,
        ValidationErrors,
    };
}

/// Sessions that outlive the program (`jido-store`): snapshots, journals
/// and how durable they are, the stores they are kept in, listings and
/// cleanup.
pub mod store {
    pub use jido_store::journal::{Durability, FileJournal, JournalStore, Read};
    pub use jido_store::{
        CleanupError, CleanupReport, DEFAULT_MAX_AGE, DEFAULT_MAX_SNAPSHOT_BYTES, FileStore,
        IsOpen, Listing, LoadError, Pinned, ProjectIdentity, SaveError, Skipped, Snapshot,
        SnapshotInfo, SnapshotStore, StoreError, StoreLocked,
    };
}

/// Past one machine: admission decided for a whole cluster by a
/// [`RegistryBackend`](cluster::RegistryBackend) (`jido-registry`'s
/// in-memory [`MemoryCluster`](cluster::MemoryCluster), or `jido-cluster`'s
/// PostgreSQL node), with leases and fencing tokens.
pub mod cluster {
    pub use crate::admission::LeaseLost;
    pub use jido_registry::{
        BackendError, Claim, Fence, Lease, MemoryCluster, MemoryNode, NodeId, Placement,
        RegistryBackend,
    };
}
