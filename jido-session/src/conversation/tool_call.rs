//! [`ToolCall`] and [`ToolStatus`]: a tool the model called.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a [`ToolCall`] stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ToolStatus {
    /// Called, not yet running.
    Pending,
    /// Running.
    Running,
    /// Done, with a result.
    Completed,
    /// Failed.
    Failed,
}

/// A tool the model called: its name, arguments, result and status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// Unique within the conversation.
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// Its arguments.
    pub arguments: serde_json::Value,
    /// Its result, once there is one (which may be JSON `null`: stored as
    /// such, told apart from no result at all).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub result: Option<serde_json::Value>,
    /// Where it stands.
    pub status: ToolStatus,
    /// When it was called.
    pub timestamp: DateTime<Utc>,
}

impl ToolCall {
    /// A pending call of `name` with `arguments`, now, with a fresh id.
    pub fn new(name: impl Into<String>, arguments: serde_json::Value) -> Self {
        ToolCall {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.into(),
            arguments,
            result: None,
            status: ToolStatus::Pending,
            timestamp: Utc::now(),
        }
    }
}

/// A `result` field that is present holds a value, `null` included.
fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(deserializer).map(Some)
}
