//! [`ReasoningStep`]: one step of the model's reasoning.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One step of the model's visible reasoning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasoningStep {
    /// The step.
    pub content: String,
    /// When.
    pub timestamp: DateTime<Utc>,
}

impl ReasoningStep {
    /// A step, now.
    pub fn new(content: impl Into<String>) -> Self {
        ReasoningStep {
            content: content.into(),
            timestamp: Utc::now(),
        }
    }
}
