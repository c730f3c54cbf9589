//! [`ConversationLimits`]: how much of each history a conversation keeps.

use serde::{Deserialize, Serialize};

/// How much of each history a [`Conversation`](crate::Conversation) keeps;
/// past a limit, the oldest entries are dropped first. The defaults are
/// jido_code's.
///
/// ```
/// use jido_session::ConversationLimits;
///
/// let limits = ConversationLimits::default();
/// assert_eq!((limits.messages, limits.reasoning_steps, limits.tool_calls), (1000, 100, 500));
/// assert_eq!((limits.prompt_history, limits.file_operations), (100, 1000));
/// let small = ConversationLimits { messages: 10, ..ConversationLimits::default() };
/// # drop(small);
/// assert_eq!(ConversationLimits::all(3).tool_calls, 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ConversationLimits {
    /// Messages kept (default 1000).
    pub messages: usize,
    /// Reasoning steps kept (default 100).
    pub reasoning_steps: usize,
    /// Tool calls kept (default 500).
    pub tool_calls: usize,
    /// Prompts kept (default 100).
    pub prompt_history: usize,
    /// File reads kept, and file writes kept (default 1000 each).
    pub file_operations: usize,
}

impl ConversationLimits {
    /// Every history capped at `cap`.
    pub fn all(cap: usize) -> Self {
        ConversationLimits {
            messages: cap,
            reasoning_steps: cap,
            tool_calls: cap,
            prompt_history: cap,
            file_operations: cap,
        }
    }
}

impl Default for ConversationLimits {
    fn default() -> Self {
        ConversationLimits {
            messages: 1000,
            reasoning_steps: 100,
            tool_calls: 500,
            prompt_history: 100,
            file_operations: 1000,
        }
    }
}
