//! The frame format's constants.

/// The first byte of every record.
pub const MAGIC: u8 = 0xA7;

/// The frame format this library writes and reads.
pub const FORMAT_VERSION: u8 = 1;

/// The length of a record's header, before its payload.
pub const HEADER_LEN: usize = 24;

/// The longest payload a record may carry (16 MiB): a length over it is
/// refused, never allocated.
pub const MAX_PAYLOAD: u32 = 16 << 20;
