//! [`Message`] and [`Role`]: one message of a conversation.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Who said a [`Message`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Role {
    /// Instructions to the model.
    System,
    /// The person.
    User,
    /// The model.
    Assistant,
    /// A tool's output.
    Tool,
}

/// One message of a session's conversation: who said what, when, under
/// which id.
///
/// ```
/// use jido_session::{Message, Role};
///
/// let message = Message::new(Role::User, "fix the build");
/// assert_eq!(message.role, Role::User);
/// assert_eq!(message.id.len(), 36); // a fresh UUID
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Unique within the conversation (a UUID unless you choose one).
    pub id: String,
    /// Who said it.
    pub role: Role,
    /// What was said.
    pub content: String,
    /// When.
    pub timestamp: DateTime<Utc>,
}

impl Message {
    /// A message from `role`, now, with a fresh id.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Message {
            id: uuid::Uuid::new_v4().to_string(),
            role,
            content: content.into(),
            timestamp: Utc::now(),
        }
    }
}
