//! A session's journal: every acknowledged change, appended as a framed
//! record before the change is acknowledged, so that a program that dies
//! loses nothing it answered `Ok` for.
//!
//! - The format: [`encode`] frames one record, [`read()`] reads a journal
//!   back, recovering every whole record, reporting a torn last write
//!   ([`TornTail`]) and refusing corruption before the end
//!   ([`JournalError`]); the frame is described [below](self#the-frame).
//! - What a record says: an [`Entry`] (the session's record, or a change
//!   of its conversation); [`replay`] rebuilds a session from its last
//!   checkpoint and its journal.
//! - Where journals are kept: [`JournalStore`], and [`FileJournal`], one
//!   file per session, as durable as its [`Durability`] says.
//!
//! # The frame
//!
//! ```text
//! offset size field
//!      0    1 magic, 0xA7
//!      1    1 format version, 1 (a reader refuses a version it does not know)
//!      2    2 flags, 0 (a reader refuses flags it does not know)
//!      4    4 payload length n, little-endian (at most MAX_PAYLOAD)
//!      8    8 sequence number, little-endian: per session, one more than
//!             the record before it
//!     16    4 CRC-32 (IEEE) of the payload
//!     20    4 CRC-32 (IEEE) of bytes 0..20: a damaged length is caught
//!             before it is trusted
//!     24    n payload (what changed, in a format of its own)
//! ```
//!
//! A record is written with one `write(2)`, so a program killed mid-write
//! leaves at most a prefix of its last record. Forward compatibility: a new
//! kind of change is a new payload (the version stays); a new frame layout
//! is a new version or flag, which older readers refuse rather than
//! misread.
//!
//! ```
//! use jido_store::journal::{self, Record};
//!
//! let mut bytes = Vec::new();
//! journal::encode(1, b"first", &mut bytes).unwrap();
//! journal::encode(2, b"second", &mut bytes).unwrap();
//! bytes.truncate(bytes.len() - 3); // killed mid-write
//!
//! let read = journal::read(&bytes).unwrap();
//! assert_eq!(read.records, vec![Record { seq: 1, payload: b"first".to_vec() }]);
//! assert_eq!(read.torn.unwrap().offset, read.end);
//! ```

mod durability;
mod entry;
mod error;
mod file;
mod format;
mod frame;
mod read;
mod sync_log;

pub use durability::Durability;
pub use entry::{Entry, Replayed, replay};
pub use error::JournalError;
pub use file::{FileJournal, JournalStore};
pub use format::{FORMAT_VERSION, HEADER_LEN, MAGIC, MAX_PAYLOAD};
pub use frame::encode;
pub use read::{Read, Record, TornTail, read};
