//! [`LoadError`] and [`SaveError`]: why a snapshot could not be read back or
//! written.

use jido_session::SessionId;

use crate::StoreError;

/// Why a snapshot could not be loaded. Each refusal is its own variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// No snapshot of this session is stored.
    #[error("no snapshot of session {id}")]
    NotFound {
        /// The session asked for.
        id: SessionId,
    },
    /// The snapshot is larger than the limit; it was not read.
    #[error("snapshot of session {id} has {size} bytes, over the limit of {limit}")]
    TooLarge {
        /// The session.
        id: SessionId,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The bytes are not a snapshot (torn, truncated, foreign, edited).
    #[error("snapshot of session {id} is corrupt: {reason}")]
    Corrupt {
        /// The session.
        id: SessionId,
        /// What is wrong.
        reason: String,
    },
    /// A snapshot of a schema version this library does not read.
    #[error("snapshot of session {id} has schema version {version}, not 1")]
    UnsupportedVersion {
        /// The session.
        id: SessionId,
        /// Its version.
        version: u32,
    },
    /// A signature is required and the snapshot has none.
    #[error("snapshot of session {id} is unsigned")]
    Unsigned {
        /// The session.
        id: SessionId,
    },
    /// The signature does not match: the snapshot was changed, or signed
    /// with another key.
    #[error("snapshot of session {id} has a bad signature")]
    BadSignature {
        /// The session.
        id: SessionId,
    },
    /// The snapshot stored under one id holds another session.
    #[error("snapshot stored as session {id} holds session {found}")]
    IdMismatch {
        /// The id it is stored under.
        id: SessionId,
        /// The id it holds.
        found: SessionId,
    },
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
}

/// Why a snapshot could not be saved. Nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SaveError {
    /// The encoded snapshot would be larger than the load limit: it could
    /// never be loaded back, so it is not written.
    #[error("snapshot of session {id} would have {size} bytes, over the limit of {limit}")]
    TooLarge {
        /// The session.
        id: SessionId,
        /// Its encoded size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The snapshot could not be encoded.
    #[error("snapshot of session {id} could not be encoded: {reason}")]
    Encode {
        /// The session.
        id: SessionId,
        /// Why.
        reason: String,
    },
    /// The store failed; the old snapshot, if any, is intact.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a cleanup did not run. Nothing was deleted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CleanupError {
    /// A maximum age of zero would delete every closed session: refused,
    /// as upstream refuses a maximum age that is not positive.
    #[error("a cleanup's maximum age must be positive")]
    ZeroMaxAge,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
