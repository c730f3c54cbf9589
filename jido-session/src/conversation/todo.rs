//! [`Todo`] and [`TodoStatus`]: an item of a session's todo list.

use serde::{Deserialize, Serialize};

/// Where a [`Todo`] stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TodoStatus {
    /// Not started.
    Pending,
    /// Being worked on.
    InProgress,
    /// Done.
    Completed,
}

/// One item of a session's todo list, with the id it is known by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Todo {
    /// Unique within the list.
    pub id: String,
    /// What is to be done.
    pub content: String,
    /// Where it stands.
    pub status: TodoStatus,
}

impl Todo {
    /// A pending item with a fresh id.
    pub fn new(content: impl Into<String>) -> Self {
        Todo {
            id: uuid::Uuid::new_v4().to_string(),
            content: content.into(),
            status: TodoStatus::Pending,
        }
    }
}
