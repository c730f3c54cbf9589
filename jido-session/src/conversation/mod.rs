//! [`Conversation`]: what a session holds — messages, reasoning, tool calls,
//! todos, prompts, file operations — each history bounded, chronological.

mod change;
mod file_operation;
mod limits;
mod message;
mod page;
mod reasoning;
mod todo;
mod tool_call;

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize};

use crate::config::is_blank;

pub use change::Change;
pub use file_operation::FileOperation;
pub use limits::ConversationLimits;
pub use message::{Message, Role};
pub use page::{Page, PageMeta};
pub use reasoning::ReasoningStep;
pub use todo::{Todo, TodoStatus};
pub use tool_call::{ToolCall, ToolStatus};

/// Why a change to a [`Conversation`] was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConversationError {
    /// No tool call with this id is kept.
    #[error("no tool call with id {id:?}")]
    UnknownToolCall {
        /// The id asked for.
        id: String,
    },
}

/// What a session holds (jido_code's `Session.State` data): messages,
/// reasoning steps, tool calls, todos, prompt history, file reads and
/// writes. Every history is chronological (oldest first) and bounded by
/// its [`ConversationLimits`]: past a limit the oldest entries are dropped.
/// Empty histories allocate nothing.
///
/// ```
/// use jido_session::{Conversation, ConversationLimits, Message, Role};
///
/// let mut conversation = Conversation::new(ConversationLimits { messages: 2, ..Default::default() });
/// for text in ["one", "two", "three"] {
///     conversation.push_message(Message::new(Role::User, text));
/// }
/// let page = conversation.messages(0, None);
/// let texts: Vec<&str> = page.items.iter().map(|m| m.content.as_str()).collect();
/// assert_eq!(texts, ["two", "three"]); // the oldest was dropped
/// assert!(!conversation.record_prompt("   ")); // blank prompts are ignored
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Conversation {
    limits: ConversationLimits,
    messages: VecDeque<Message>,
    reasoning_steps: VecDeque<ReasoningStep>,
    tool_calls: VecDeque<ToolCall>,
    todos: Vec<Todo>,
    prompt_history: VecDeque<String>,
    file_reads: VecDeque<FileOperation>,
    file_writes: VecDeque<FileOperation>,
    /// How many of the kept reads name each path: `file_was_read` in O(1).
    #[serde(skip)]
    read_paths: HashMap<PathBuf, usize>,
}

/// Pushes `item` and drops from the front until `cap` holds; returns the
/// dropped entries.
fn push_capped<T>(history: &mut VecDeque<T>, item: T, cap: usize) -> Vec<T> {
    history.push_back(item);
    trim(history, cap)
}

fn trim<T>(history: &mut VecDeque<T>, cap: usize) -> Vec<T> {
    let excess = history.len().saturating_sub(cap);
    history.drain(..excess).collect()
}

impl Conversation {
    /// An empty conversation with these limits.
    pub fn new(limits: ConversationLimits) -> Self {
        Conversation {
            limits,
            ..Conversation::default()
        }
    }

    /// The limits.
    pub fn limits(&self) -> ConversationLimits {
        self.limits
    }

    /// Changes the limits; histories over a new limit lose their oldest
    /// entries.
    pub fn set_limits(&mut self, limits: ConversationLimits) {
        self.limits = limits;
        trim(&mut self.messages, limits.messages);
        trim(&mut self.reasoning_steps, limits.reasoning_steps);
        trim(&mut self.tool_calls, limits.tool_calls);
        trim(&mut self.prompt_history, limits.prompt_history);
        let dropped = trim(&mut self.file_reads, limits.file_operations);
        self.forget_reads(dropped);
        trim(&mut self.file_writes, limits.file_operations);
    }

    /// Appends a message (the oldest goes when over the limit).
    pub fn push_message(&mut self, message: Message) {
        push_capped(&mut self.messages, message, self.limits.messages);
    }

    /// Removes every message (jido_code's `clear_messages`); the other
    /// histories are kept.
    pub fn clear_messages(&mut self) {
        self.messages = VecDeque::new();
    }

    /// How many messages are kept.
    pub fn message_count(&self) -> usize {
        self.messages.len()
    }

    /// The messages from index `offset` (0 is the oldest kept), at most
    /// `limit` of them (`None`: all the rest). Copies only the page.
    pub fn messages(&self, offset: usize, limit: Option<usize>) -> Page<Message> {
        let total = self.messages.len();
        let start = offset.min(total);
        let end = match limit {
            Some(limit) => start.saturating_add(limit).min(total),
            None => total,
        };
        let items: Vec<Message> = self.messages.range(start..end).cloned().collect();
        Page {
            meta: PageMeta {
                total,
                offset,
                limit,
                returned: items.len(),
                has_more: end < total,
            },
            items,
        }
    }

    /// Every kept message, oldest first, without copying.
    pub fn iter_messages(&self) -> impl Iterator<Item = &Message> {
        self.messages.iter()
    }

    /// Appends a reasoning step.
    pub fn push_reasoning_step(&mut self, step: ReasoningStep) {
        push_capped(&mut self.reasoning_steps, step, self.limits.reasoning_steps);
    }

    /// Removes every reasoning step (jido_code's `clear_reasoning_steps`).
    pub fn clear_reasoning_steps(&mut self) {
        self.reasoning_steps = VecDeque::new();
    }

    /// The kept reasoning steps, oldest first.
    pub fn reasoning_steps(&self) -> impl Iterator<Item = &ReasoningStep> {
        self.reasoning_steps.iter()
    }

    /// Appends a tool call.
    pub fn push_tool_call(&mut self, call: ToolCall) {
        push_capped(&mut self.tool_calls, call, self.limits.tool_calls);
    }

    /// Records the status and result of the kept tool call `id`.
    ///
    /// # Errors
    ///
    /// [`ConversationError::UnknownToolCall`] if no kept call has that id.
    pub fn update_tool_call(
        &mut self,
        id: &str,
        status: ToolStatus,
        result: Option<serde_json::Value>,
    ) -> Result<(), ConversationError> {
        let call = self
            .tool_calls
            .iter_mut()
            .rev()
            .find(|call| call.id == id)
            .ok_or_else(|| ConversationError::UnknownToolCall { id: id.to_owned() })?;
        call.status = status;
        if result.is_some() {
            call.result = result;
        }
        Ok(())
    }

    /// The kept tool calls, oldest first.
    pub fn tool_calls(&self) -> impl Iterator<Item = &ToolCall> {
        self.tool_calls.iter()
    }

    /// Replaces the todo list.
    pub fn set_todos(&mut self, todos: Vec<Todo>) {
        self.todos = todos;
    }

    /// The todo list, in its order.
    pub fn todos(&self) -> &[Todo] {
        &self.todos
    }

    /// Records a prompt the person typed; a blank one is ignored (`false`).
    pub fn record_prompt(&mut self, prompt: impl Into<String>) -> bool {
        let prompt = prompt.into();
        if is_blank(&prompt) {
            return false;
        }
        push_capped(&mut self.prompt_history, prompt, self.limits.prompt_history);
        true
    }

    /// Replaces the prompt history with `prompts`, oldest first (jido_code's
    /// `set_prompt_history`, which takes them newest first): blank prompts
    /// are left out, as [`record_prompt`](Self::record_prompt) ignores
    /// them, and past the limit only the newest are kept.
    ///
    /// ```
    /// use jido_session::{Conversation, ConversationLimits};
    ///
    /// let mut conversation = Conversation::new(ConversationLimits { prompt_history: 2, ..Default::default() });
    /// conversation.set_prompt_history(vec!["one".into(), " ".into(), "two".into(), "three".into()]);
    /// assert_eq!(conversation.prompt_history().collect::<Vec<_>>(), ["two", "three"]);
    /// ```
    pub fn set_prompt_history(&mut self, prompts: Vec<String>) {
        let mut history: VecDeque<String> = prompts
            .into_iter()
            .filter(|prompt| !is_blank(prompt))
            .collect();
        trim(&mut history, self.limits.prompt_history);
        self.prompt_history = history;
    }

    /// The kept prompts, oldest first.
    pub fn prompt_history(&self) -> impl Iterator<Item = &String> {
        self.prompt_history.iter()
    }

    /// Records that a file was read.
    pub fn record_file_read(&mut self, operation: FileOperation) {
        *self.read_paths.entry(operation.path.clone()).or_default() += 1;
        let dropped = push_capped(&mut self.file_reads, operation, self.limits.file_operations);
        self.forget_reads(dropped);
    }

    /// Records that a file was written.
    pub fn record_file_write(&mut self, operation: FileOperation) {
        push_capped(
            &mut self.file_writes,
            operation,
            self.limits.file_operations,
        );
    }

    /// `true` if a kept read names `path` (jido_code's `file_was_read?`).
    pub fn file_was_read(&self, path: &Path) -> bool {
        self.read_paths.contains_key(path)
    }

    /// The kept file reads, oldest first.
    pub fn file_reads(&self) -> impl Iterator<Item = &FileOperation> {
        self.file_reads.iter()
    }

    /// The kept file writes, oldest first.
    pub fn file_writes(&self) -> impl Iterator<Item = &FileOperation> {
        self.file_writes.iter()
    }

    fn forget_reads(&mut self, dropped: Vec<FileOperation>) {
        for operation in dropped {
            if let Some(count) = self.read_paths.get_mut(&operation.path) {
                *count -= 1;
                if *count == 0 {
                    self.read_paths.remove(&operation.path);
                }
            }
        }
    }
}

/// The serialized shape of a [`Conversation`], before its limits are
/// applied and its index rebuilt.
#[derive(Deserialize)]
struct RawConversation {
    #[serde(default)]
    limits: ConversationLimits,
    #[serde(default)]
    messages: VecDeque<Message>,
    #[serde(default)]
    reasoning_steps: VecDeque<ReasoningStep>,
    #[serde(default)]
    tool_calls: VecDeque<ToolCall>,
    #[serde(default)]
    todos: Vec<Todo>,
    #[serde(default)]
    prompt_history: VecDeque<String>,
    #[serde(default)]
    file_reads: VecDeque<FileOperation>,
    #[serde(default)]
    file_writes: VecDeque<FileOperation>,
}

impl<'de> Deserialize<'de> for Conversation {
    /// Reads a conversation back, in its stored order; histories longer
    /// than their limits lose their oldest entries.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawConversation::deserialize(deserializer)?;
        let mut conversation = Conversation {
            limits: raw.limits,
            messages: raw.messages,
            reasoning_steps: raw.reasoning_steps,
            tool_calls: raw.tool_calls,
            todos: raw.todos,
            prompt_history: raw.prompt_history,
            file_reads: raw.file_reads,
            file_writes: raw.file_writes,
            read_paths: HashMap::new(),
        };
        for operation in &conversation.file_reads {
            *conversation
                .read_paths
                .entry(operation.path.clone())
                .or_default() += 1;
        }
        conversation.set_limits(raw.limits);
        Ok(conversation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(cap: usize) -> ConversationLimits {
        ConversationLimits::all(cap)
    }

    #[test]
    fn empty_histories_allocate_nothing() {
        let conversation = Conversation::default();
        assert_eq!(conversation.messages.capacity(), 0);
        assert_eq!(conversation.prompt_history.capacity(), 0);
        assert_eq!(conversation.file_reads.capacity(), 0);
        assert_eq!(conversation.read_paths.capacity(), 0);
    }

    #[test]
    fn file_was_read_forgets_reads_that_fell_off_the_history() {
        let mut conversation = Conversation::new(limits(2));
        conversation.record_file_read(FileOperation::new("a"));
        conversation.record_file_read(FileOperation::new("b"));
        conversation.record_file_read(FileOperation::new("a"));
        assert!(conversation.file_was_read(Path::new("a")));
        assert!(conversation.file_was_read(Path::new("b")));
        conversation.record_file_read(FileOperation::new("c"));
        assert!(!conversation.file_was_read(Path::new("b")));
        assert!(conversation.file_was_read(Path::new("a")));
        conversation.record_file_read(FileOperation::new("c"));
        assert!(!conversation.file_was_read(Path::new("a")));
    }
}
