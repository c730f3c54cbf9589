//! Benchmark support: the baselines jido-supervisor is measured against, and
//! the workloads, fixtures and reports the bench targets share.
//!
//! Three contenders start and stop the same sessions, on the same runtime
//! ([`runtime::runtime`]: tokio multi-thread, 2 workers), driven the same way
//! ([`runtime::drive`], by default as a task on that runtime) by the same
//! generic code ([`workloads`]):
//!
//! - **ours**: [`SessionSupervisor`](jido_supervisor::SessionSupervisor) with
//!   the real per-session supervisor ([`contender::Ours`]);
//! - **floor**: the least raw-tokio code doing equal work ([`floor`]);
//! - **ractor**: ractor 0.16 actors ([`ractor_baseline`]).
//!
//! The bench targets (`benches/`) are documented at their top; run them all
//! with `cargo bench -p jido-bench`. [`findings`] says where a session's
//! time and memory go.
#![forbid(unsafe_code)]

pub mod contender;
pub mod filter;
pub mod findings;
pub mod fixtures;
pub mod floor;
pub mod kameo_baseline;
pub mod memory;
pub mod numbers;
pub mod plain_index;
pub mod ractor_baseline;
pub mod results;
pub mod runtime;
pub mod workloads;

pub use contender::{Contender, Ours};
pub use floor::Floor;
pub use kameo_baseline::KameoSessions;
pub use ractor_baseline::RactorSessions;

#[cfg(test)]
mod test_support;
