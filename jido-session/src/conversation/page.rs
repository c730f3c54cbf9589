//! [`Page`] and [`PageMeta`]: a slice of a history, and where it sits.

use serde::{Deserialize, Serialize};

/// Where a [`Page`] sits in its history (jido_code's `get_messages` meta).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PageMeta {
    /// Entries in the whole history.
    pub total: usize,
    /// Index of the first entry returned (0 is the oldest).
    pub offset: usize,
    /// The most entries asked for (`None`: all from `offset`).
    pub limit: Option<usize>,
    /// Entries returned.
    pub returned: usize,
    /// `true` if entries follow the page.
    pub has_more: bool,
}

/// A slice of a history, oldest first, with where it sits. Only the page is
/// copied out of the history, never the whole of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The entries, oldest first.
    pub items: Vec<T>,
    /// Where they sit.
    pub meta: PageMeta,
}
