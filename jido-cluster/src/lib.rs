//! Sessions past one machine: the session registry and the snapshot store
//! on PostgreSQL.
//!
//! - [`PgNode`]: one node of a cluster sharing a database. A
//!   [`RegistryBackend`](jido_registry::RegistryBackend) for the session
//!   supervisor: the limit, unique ids and unique canonical projects are
//!   decided by the database (a node's queued claims and releases in one
//!   call, decided under one counter row), each session belongs to a node
//!   and its lease (renewed in the background), and every write carries a
//!   fencing token. "Which node runs session X" is answered cluster-wide,
//!   from each node's copy of the claims kept current by the database's
//!   notifications.
//! - [`PgSnapshotStore`]: saved sessions in the same database, so a
//!   session saved on one node resumes on another; writes fenced.
//! - [`PgJournal`]: every change a session acknowledged, appended before
//!   the acknowledgement, in the same database and fenced the same way, so
//!   that a session whose node died resumes elsewhere with all of it.
//!   [`PgNode::persistence`] gives both.
//! - [`ClusterConfig`]: a connection string, the lease, timeouts.
//!
//! The tables are created on first use (numbered migrations). Every call
//! has a timeout: an unreachable database is a typed error, not a hang.
//!
//! The `jido-node` binary (its own crate, `jido-node`) runs a supervisor as
//! a node, driven by commands on its standard input (the multi-process tests
//! use it).

#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

mod admission;
mod bigint;
mod config;
mod connection;
mod error;
mod journal;
mod lease;
mod listener;
mod node;
mod placements;
mod schema;
mod snapshot_store;

pub use config::{ClusterConfig, DEFAULT_CALL_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_LEASE};
pub use error::ClusterError;
pub use journal::PgJournal;
pub use node::PgNode;
pub use snapshot_store::PgSnapshotStore;
