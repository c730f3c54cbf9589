//! [`Change`]: one change to a conversation, as data.

use serde::{Deserialize, Serialize};

use super::{
    Conversation, ConversationError, ConversationLimits, FileOperation, Message, ReasoningStep,
    Todo, ToolCall, ToolStatus,
};

/// One change to a [`Conversation`], as data: what a session's State
/// commits, and what a journal of the session records — the operation, not
/// the state it leaves. [`Conversation::apply`] is the one place a change
/// takes effect, for a live commit and a replay alike, so the two cannot
/// disagree.
///
/// ```
/// use jido_session::{Change, Conversation, Message, Role};
///
/// let change = Change::Message(Message::new(Role::User, "fix the parser"));
/// let journaled = serde_json::to_string(&change).unwrap();
///
/// let (mut live, mut replayed) = (Conversation::default(), Conversation::default());
/// live.apply(change).unwrap();
/// replayed.apply(serde_json::from_str(&journaled).unwrap()).unwrap();
/// assert_eq!(live, replayed);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", content = "of", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Change {
    /// A message appended (a streamed one, when it ends).
    Message(Message),
    /// A reasoning step appended.
    ReasoningStep(ReasoningStep),
    /// A tool call appended.
    ToolCall(ToolCall),
    /// The status (and result, if any) of the kept tool call `id`.
    ToolCallUpdate {
        /// The call's id.
        id: String,
        /// Its new status.
        status: ToolStatus,
        /// Its result, if one came.
        result: Option<serde_json::Value>,
    },
    /// The todo list replaced.
    Todos(Vec<Todo>),
    /// A prompt the person typed.
    Prompt(String),
    /// The prompt history replaced (blank prompts left out, the newest
    /// kept within the limit).
    PromptHistory(Vec<String>),
    /// Every message removed.
    ClearMessages,
    /// Every reasoning step removed.
    ClearReasoningSteps,
    /// A file read.
    FileRead(FileOperation),
    /// A file written.
    FileWrite(FileOperation),
    /// New limits (histories over one lose their oldest entries).
    Limits(ConversationLimits),
}

impl Conversation {
    /// Whether [`apply`](Self::apply) would take `change`: what a State
    /// checks before it journals a change, so that the journal holds only
    /// changes that took effect.
    ///
    /// # Errors
    ///
    /// [`ConversationError::UnknownToolCall`] for an update of a call that
    /// is not kept.
    pub fn check(&self, change: &Change) -> Result<(), ConversationError> {
        match change {
            Change::ToolCallUpdate { id, .. } if !self.tool_calls().any(|call| call.id == *id) => {
                Err(ConversationError::UnknownToolCall { id: id.clone() })
            }
            _ => Ok(()),
        }
    }

    /// Applies `change`. `Ok(true)` if the conversation changed,
    /// `Ok(false)` if the change was a no-op (a blank prompt is ignored, as
    /// upstream; limits equal to the current ones).
    ///
    /// # Errors
    ///
    /// [`ConversationError::UnknownToolCall`] for an update of a call that
    /// is not kept; the conversation is unchanged.
    pub fn apply(&mut self, change: Change) -> Result<bool, ConversationError> {
        match change {
            Change::Message(message) => self.push_message(message),
            Change::ReasoningStep(step) => self.push_reasoning_step(step),
            Change::ToolCall(call) => self.push_tool_call(call),
            Change::ToolCallUpdate { id, status, result } => {
                self.update_tool_call(&id, status, result)?;
            }
            Change::Todos(todos) => self.set_todos(todos),
            Change::Prompt(prompt) => return Ok(self.record_prompt(prompt)),
            Change::PromptHistory(prompts) => self.set_prompt_history(prompts),
            Change::ClearMessages => self.clear_messages(),
            Change::ClearReasoningSteps => self.clear_reasoning_steps(),
            Change::FileRead(operation) => self.record_file_read(operation),
            Change::FileWrite(operation) => self.record_file_write(operation),
            Change::Limits(limits) => {
                if limits == self.limits() {
                    return Ok(false);
                }
                self.set_limits(limits);
            }
        }
        Ok(true)
    }
}
