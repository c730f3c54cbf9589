//! Counts and generations kept by the database as `bigint`.

/// Reads a count or generation the database keeps as `bigint`.
pub(crate) fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Reads back a count or generation kept as `bigint` (a negative one as 0).
pub(crate) fn from_i64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}
