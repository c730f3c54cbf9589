//! Test support for `jido-supervisor`.
//!
//! - [`SessionSupervisorStub`]: a scriptable [`SessionChild`](jido_supervisor::tree::SessionChild)
//!   (succeed, fail, ignore, panic, hang, crash after start, ignore stop,
//!   fail the Nth start) that records every call.
//! - [`MockSessionChild`]: a mockall mock of the same trait.
//! - [`ScriptedChildren`]: user-defined children ([`ScriptedWorker`]s) whose
//!   starts follow a script (start, fail, ignore, panic) and whose lives are
//!   written to a [`Journal`]; [`SupervisorEvents`] to await a supervisor's
//!   reports.
//! - [`strategies`]: proptest strategies for names, configs, a pool of
//!   project directories with aliases, and supervisor operations.
//! - [`model`]: a pure reference model of the supervisor and its registry,
//!   to compare the real one with, operation by operation.
//! - [`multi_thread_runtime`]: the multi-thread runtime property tests run
//!   their interleavings on.
//! - [`kill_rounds`] and [`converse_until_killed`]: the kill harness (a
//!   child process conversing until SIGKILL, its session resumed and
//!   checked for every acknowledged message), for any store.
//! - [`TempPostgres`]: a throwaway PostgreSQL server (`initdb` + `pg_ctl` in
//!   a temporary directory, on a free port), for tests against a real
//!   database.

#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

mod kill_harness;
mod mock;
pub mod model;
mod runtime;
mod scripted_worker;
pub mod strategies;
mod stub;
mod temp_postgres;

pub use kill_harness::{
    KILL_SESSION_ENV, KillHarnessError, Killed, converse_until_killed, kill_rounds,
    kill_rounds_from_env,
};
pub use mock::MockSessionChild;
pub use runtime::multi_thread_runtime;
pub use scripted_worker::{
    Journal, ScriptedChildren, ScriptedWorker, SupervisorEvents, WorkerCommand, WorkerStart,
};
pub use stub::{DEFAULT_CALL_LOG, Script, SessionSupervisorStub, StubCall};
pub use temp_postgres::{TEMP_POSTGRES_USER, TempPostgres, TempPostgresError};
