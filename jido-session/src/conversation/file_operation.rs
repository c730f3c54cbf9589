//! [`FileOperation`]: a file the session read or wrote, and when.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A file the session read or wrote, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileOperation {
    /// The file.
    pub path: PathBuf,
    /// When.
    pub at: DateTime<Utc>,
}

impl FileOperation {
    /// An operation on `path`, now.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileOperation {
            path: path.into(),
            at: Utc::now(),
        }
    }
}
