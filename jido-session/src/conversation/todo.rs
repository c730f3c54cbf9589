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
///
/// ```
/// use jido_session::{Todo, TodoStatus};
///
/// let todo = Todo::new("Fix the parser").with_active_form("Fixing the parser");
/// assert_eq!(todo.status, TodoStatus::Pending);
/// let json = serde_json::to_string(&todo).unwrap();
/// assert_eq!(serde_json::from_str::<Todo>(&json).unwrap(), todo);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Todo {
    /// Unique within the list.
    pub id: String,
    /// What is to be done.
    pub content: String,
    /// Where it stands.
    pub status: TodoStatus,
    /// What a UI shows while the todo is in progress, in the present
    /// continuous ("Fixing the parser"): jido_code's `active_form`. Left
    /// out of the JSON when absent, so older snapshots read as `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_form: Option<String>,
}

impl Todo {
    /// A pending item with a fresh id.
    pub fn new(content: impl Into<String>) -> Self {
        Todo {
            id: uuid::Uuid::new_v4().to_string(),
            content: content.into(),
            status: TodoStatus::Pending,
            active_form: None,
        }
    }

    /// The same todo, with the label shown while it is in progress.
    #[must_use]
    pub fn with_active_form(mut self, active_form: impl Into<String>) -> Self {
        self.active_form = Some(active_form.into());
        self
    }
}
