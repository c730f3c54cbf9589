//! Processes and their supervision on tokio, in the manner of Erlang/OTP.
//!
//! Nothing here knows about sessions: this is the runtime the session layer
//! (`jido-supervisor`) is built on.
//!
//! - [`Pid`], [`spawn`], [`spawn_with_pid`]: a process is a tokio task whose
//!   end — return, panic, abort, runtime shutdown — is always observed, with
//!   its [`ExitReason`]. [`Pid::monitor`] sends a [`Down`] message to a
//!   [`Mailbox`] when it ends; no callback of yours ever runs on the dying
//!   task's thread.
//! - [`Worker`]: the one small trait of a process with a mailbox (like
//!   tower's `Service`); [`Addr`] calls and casts it.
//! - [`ProcessRegistry`]: unique names for live processes, freed when their
//!   owner ends.
//! - Supervision: [`ChildSpec`]s as data, a [`SupervisorSpec`] with a
//!   [`Strategy`], a [`RestartIntensity`] and an [`AutoShutdown`], and a
//!   running [`Supervisor`] with OTP's child management; [`ChildRef`]
//!   reaches a worker by name across its restarts.
//!
//! ```
//! use jido_process::{ChildSpec, Context, ExitReason, Restart, SupervisorSpec, Worker};
//!
//! struct Counter(u32);
//!
//! impl Worker for Counter {
//!     type Request = ();
//!     type Reply = u32;
//!     async fn handle(&mut self, (): (), _ctx: &mut Context) -> u32 {
//!         self.0 += 1;
//!         self.0
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let supervisor = SupervisorSpec::new()
//!     .child(ChildSpec::worker("counter", |_: &()| Counter(0)).restart(Restart::Permanent))
//!     .start(())
//!     .await
//!     .unwrap();
//! let counter = supervisor.child_ref::<Counter>("counter");
//! assert_eq!(counter.call(()).await.unwrap(), 1);
//!
//! // A crash is followed by a restart with a fresh state.
//! counter.pid().unwrap().exit(ExitReason::error("bug"));
//! assert_eq!(counter.call(()).await.unwrap(), 1);
//! supervisor.stop().await;
//! # }
//! ```

#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

mod down;
mod error;
mod exit_reason;
mod mailbox;
mod park;
mod pid;
mod registry;
mod supervisor;
mod term;
mod waiters;
mod worker;

pub use down::Down;
pub use error::{CallError, RegisterError};
pub use exit_reason::ExitReason;
pub use mailbox::{Inbox, Mailbox, mailbox};
pub use pid::{MonitorRef, Pid, spawn, spawn_with_pid};
pub use registry::ProcessRegistry;
pub use supervisor::{
    AutoShutdown, ChildCounts, ChildInfo, ChildKind, ChildName, ChildRef, ChildSpec, ChildStatus,
    Directory, Locate, Observer, Restart, RestartIntensity, Shutdown, SpecError, StartOutcome,
    StartPanicked, Strategy, Supervisor, SupervisorError, SupervisorEvent, SupervisorExit,
    SupervisorSpec,
};
pub use term::Term;
pub use worker::{Addr, Context, DEFAULT_CALL_TIMEOUT, Worker, spawn_worker};
