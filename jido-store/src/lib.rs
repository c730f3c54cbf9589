//! Sessions that outlive the program (jido_code's `Session.Persistence`).
//!
//! - [`Snapshot`]: what is saved of a session — its record, its whole
//!   conversation, when it closed, and the identity of its project directory
//!   — in a versioned format (schema [`SCHEMA_VERSION`]).
//! - [`SnapshotStore`]: the small trait a store implements (put, get, list,
//!   delete); [`FileStore`], the embedded default, writes one file per
//!   session atomically.
//! - [`journal`]: the format of a session's journal, the record of every
//!   acknowledged change (framed, checksummed, numbered; a torn last write
//!   recovered).
//! - [`Persistence`]: saves, loads (size-limited, optionally HMAC-signed),
//!   lists newest first and cleans up by age, over any store.
//!
//! Saving running sessions, saving on stop and resuming are the session
//! supervisor's (`jido-supervisor`), built on these.
//!
//! ```
//! use jido_session::{Conversation, Session};
//! use jido_store::{Persistence, Snapshot};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let project = tempfile::tempdir()?;
//! let dir = tempfile::tempdir()?;
//! let persistence = Persistence::in_dir(dir.path())?;
//! let session = Session::new(project.path())?;
//! persistence.save(&Snapshot::of(&session, Conversation::default())).await?;
//! assert_eq!(persistence.list().await?.snapshots[0].id, session.id());
//! # Ok(()) }
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

mod catalog;
mod codec;
mod error;
mod file_store;
mod identity;
pub mod journal;
mod listing;
mod persistence;
mod pins;
mod snapshot;
mod store;
mod store_lock;

pub use error::{CleanupError, LoadError, SaveError};
pub use file_store::FileStore;
pub use identity::ProjectIdentity;
pub use listing::{CleanupReport, Listing, Skipped, SnapshotInfo};
pub use persistence::{DEFAULT_MAX_AGE, DEFAULT_MAX_SNAPSHOT_BYTES, IsOpen, Persistence};
pub use pins::Pinned;
pub use snapshot::{SCHEMA_VERSION, Snapshot};
pub use store::{SnapshotStore, StoreError};
pub use store_lock::StoreLocked;
