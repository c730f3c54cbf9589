//! [`read`]: a journal's records back, with its torn tail told apart from
//! corruption.

use super::JournalError;
use super::format::{FORMAT_VERSION, HEADER_LEN, MAX_PAYLOAD};
use super::frame::{Header, header};

/// One record read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Its sequence number.
    pub seq: u64,
    /// What it carries.
    pub payload: Vec<u8>,
}

/// The bytes after the last whole record that are no record: the prefix of
/// a write cut short (the program died, the disk lost its unsynced tail).
/// Dropped by [`read`], and reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TornTail {
    /// Where it starts: the end of the last whole record.
    pub offset: u64,
    /// How many bytes it has.
    pub len: u64,
}

/// A journal read back.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Read {
    /// Every whole record, in order; their sequence numbers follow each
    /// other.
    pub records: Vec<Record>,
    /// The torn last write, if any.
    pub torn: Option<TornTail>,
    /// Where the whole records end: the length to cut the journal to before
    /// appending to it again.
    pub end: u64,
}

/// Reads the journal `bytes`: every whole record, in order.
///
/// A damaged record with no whole record after it is the last write, torn:
/// it is dropped and reported in [`Read::torn`]. A damaged record with a
/// whole record after it is corruption, and an error: replay never skips a
/// change, nor stops early without saying so.
///
/// # Errors
///
/// [`JournalError::Corrupt`], [`JournalError::SequenceGap`],
/// [`JournalError::UnsupportedVersion`], [`JournalError::UnknownFlags`].
pub fn read(bytes: &[u8]) -> Result<Read, JournalError> {
    let mut read = Read::default();
    let mut at = 0usize;
    while at < bytes.len() {
        let last = read.records.last().map(|record| record.seq);
        let sound = header(&bytes[at..]);
        if let Some(header) = &sound {
            readable(at, header)?;
        }
        let whole = sound.and_then(|header| {
            let payload = bytes.get(at + HEADER_LEN..)?.get(..header.len as usize)?;
            Some((header, payload))
        });
        let damage = match whole {
            Some((header, payload)) => match check(at, last, &header, payload)? {
                None => {
                    read.records.push(Record {
                        seq: header.seq,
                        payload: payload.to_vec(),
                    });
                    at += HEADER_LEN + payload.len();
                    continue;
                }
                Some(damage) => damage,
            },
            None => "a record cut short or its header damaged",
        };
        // Torn, unless a whole record follows the damage.
        if next_header(bytes, at + 1, last).is_some() {
            return Err(JournalError::Corrupt {
                offset: at as u64,
                after: last,
                reason: damage,
            });
        }
        read.torn = Some(TornTail {
            offset: at as u64,
            len: (bytes.len() - at) as u64,
        });
        break;
    }
    read.end = at as u64;
    Ok(read)
}

/// Refuses a sound header this library cannot read: a newer version,
/// unknown flags, a length over the limit (never allocated).
fn readable(at: usize, header: &Header) -> Result<(), JournalError> {
    let offset = at as u64;
    if header.version != FORMAT_VERSION {
        return Err(JournalError::UnsupportedVersion {
            offset,
            version: header.version,
        });
    }
    if header.flags != 0 {
        return Err(JournalError::UnknownFlags {
            offset,
            flags: header.flags,
        });
    }
    if header.len > MAX_PAYLOAD {
        return Err(JournalError::TooLarge {
            len: u64::from(header.len),
        });
    }
    Ok(())
}

/// Judges a whole, readable record: `Ok(None)` if it is good, `Ok(Some(why))`
/// if it is damaged, an error if it is sound but out of sequence.
fn check(
    at: usize,
    last: Option<u64>,
    header: &Header,
    payload: &[u8],
) -> Result<Option<&'static str>, JournalError> {
    let offset = at as u64;
    if crc32fast::hash(payload) != header.payload_crc {
        return Ok(Some("its payload does not match its checksum"));
    }
    if let Some(last) = last
        && header.seq != last.wrapping_add(1)
    {
        return Err(JournalError::SequenceGap {
            offset,
            expected: last.wrapping_add(1),
            found: header.seq,
        });
    }
    Ok(None)
}

/// The first offset from `from` where a sound header of a later record
/// than `last` starts: proof that a damaged record before it is no torn
/// last write. (A payload that itself holds such a header, one chance in
/// 2^40 for random bytes, makes a torn tail read as corruption: the error
/// side, never a lost change.)
fn next_header(bytes: &[u8], from: usize, last: Option<u64>) -> Option<usize> {
    (from..bytes.len().saturating_sub(HEADER_LEN - 1)).find(|&at| {
        header(&bytes[at..]).is_some_and(|header| last.is_none_or(|last| header.seq > last))
    })
}
