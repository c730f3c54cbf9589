//! [`JournalError`]: why a journal cannot be read back, or a record not
//! framed.

/// Why a journal cannot be read back (or a record not framed). A torn last
/// record is no error: [`read`](super::read()) drops it and reports it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// A record is damaged and records follow it: replaying past it would
    /// silently lose a change, replaying up to it would shorten the
    /// conversation.
    #[error("journal corrupt at byte {offset} (after record {after:?}): {reason}")]
    Corrupt {
        /// Where the damaged record starts.
        offset: u64,
        /// The sequence number of the last whole record before it.
        after: Option<u64>,
        /// What is wrong.
        reason: &'static str,
    },
    /// Two whole records whose sequence numbers do not follow each other.
    #[error("journal record at byte {offset} has sequence number {found}, expected {expected}")]
    SequenceGap {
        /// Where the record starts.
        offset: u64,
        /// One more than the record before it.
        expected: u64,
        /// What it has.
        found: u64,
    },
    /// A record in a format version this library does not read (written by
    /// a newer one).
    #[error("journal record at byte {offset} has format version {version}, not {known}", known = super::format::FORMAT_VERSION)]
    UnsupportedVersion {
        /// Where the record starts.
        offset: u64,
        /// Its version.
        version: u8,
    },
    /// A record with flags this library does not know (written by a newer
    /// one).
    #[error("journal record at byte {offset} has unknown flags {flags:#06x}")]
    UnknownFlags {
        /// Where the record starts.
        offset: u64,
        /// Its flags.
        flags: u16,
    },
    /// A whole record whose payload is no entry this library knows.
    #[error("journal record {seq} holds no known entry: {reason}")]
    Payload {
        /// Its sequence number.
        seq: u64,
        /// What is wrong.
        reason: String,
    },
    /// A payload over [`MAX_PAYLOAD`](super::MAX_PAYLOAD) bytes.
    #[error("a journal record of {len} bytes is over the limit of {limit}", limit = super::format::MAX_PAYLOAD)]
    TooLarge {
        /// Its length.
        len: u64,
    },
}
