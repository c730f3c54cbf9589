//! One record's frame: its header, and [`encode`].

use super::JournalError;
use super::format::{FORMAT_VERSION, HEADER_LEN, MAGIC, MAX_PAYLOAD};

/// A record's header, as read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Header {
    pub(super) version: u8,
    pub(super) flags: u16,
    pub(super) len: u32,
    pub(super) seq: u64,
    pub(super) payload_crc: u32,
}

/// Appends the frame of record `seq` carrying `payload` to `out`.
///
/// # Errors
///
/// [`JournalError::TooLarge`] for a payload over [`MAX_PAYLOAD`] bytes
/// (`out` is unchanged).
pub fn encode(seq: u64, payload: &[u8], out: &mut Vec<u8>) -> Result<(), JournalError> {
    let len = u32::try_from(payload.len())
        .ok()
        .filter(|len| *len <= MAX_PAYLOAD)
        .ok_or(JournalError::TooLarge {
            len: payload.len() as u64,
        })?;
    let mut header = [0u8; HEADER_LEN];
    header[0] = MAGIC;
    header[1] = FORMAT_VERSION;
    // Bytes 2..4: flags, none.
    header[4..8].copy_from_slice(&len.to_le_bytes());
    header[8..16].copy_from_slice(&seq.to_le_bytes());
    header[16..20].copy_from_slice(&crc32fast::hash(payload).to_le_bytes());
    let header_crc = crc32fast::hash(&header[..20]);
    header[20..24].copy_from_slice(&header_crc.to_le_bytes());
    out.reserve(HEADER_LEN + payload.len());
    out.extend_from_slice(&header);
    out.extend_from_slice(payload);
    Ok(())
}

/// The header at the start of `bytes`, if there is a whole one whose magic
/// and checksum hold (its version and flags are the caller's to judge).
pub(super) fn header(bytes: &[u8]) -> Option<Header> {
    let bytes = bytes.get(..HEADER_LEN)?;
    if bytes[0] != MAGIC || crc32fast::hash(&bytes[..20]) != le_u32(&bytes[20..24]) {
        return None;
    }
    Some(Header {
        version: bytes[1],
        flags: u16::from_le_bytes([bytes[2], bytes[3]]),
        len: le_u32(&bytes[4..8]),
        seq: u64::from_le_bytes([
            bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15],
        ]),
        payload_crc: le_u32(&bytes[16..20]),
    })
}

fn le_u32(bytes: &[u8]) -> u32 {
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}
