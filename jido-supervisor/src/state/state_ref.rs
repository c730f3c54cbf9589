//! [`StateRef`]: a session's State, reached by name, with a typed method per
//! request.

use std::path::PathBuf;
use std::sync::Weak;
use std::time::Duration;

use jido_process::{CallError, ChildRef, Pid};
use jido_session::{
    Change, Conversation, FileOperation, Message, Page, ReasoningStep, SessionId, Todo, ToolCall,
    ToolStatus,
};
use tokio::sync::oneshot;

use super::{Op, State, StateError, StateRequest};

use crate::reply_call::call_for_reply;
use crate::session_handle::Sessions;

/// Reaches a session's [`State`] by name, on every call: after the State is
/// restarted, the same `StateRef` reaches the new one (an Elixir
/// `{:via, Registry, {:state, id}}`), which holds everything committed
/// before. Calls wait through a restart, within their timeout (5 s).
/// Cheap to clone.
///
/// ```
/// use jido_supervisor::{Message, Role, SessionSupervisor};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let dir = tempfile::tempdir().unwrap();
/// let supervisor = SessionSupervisor::new();
/// let id = supervisor.create_session(dir.path()).await.unwrap().id();
/// let state = supervisor.state(id).unwrap();
///
/// state.append_message(Message::new(Role::User, "fix the parser")).await.unwrap();
/// state.start_streaming("answer-1").await.unwrap();
/// state.append_chunk("On ").unwrap();
/// state.append_chunk("it.").unwrap();
/// let answer = state.end_streaming().await.unwrap();
/// assert_eq!(answer.content, "On it.");
///
/// state.pid().unwrap().kill(); // a crash: the State is restarted...
/// let page = state.messages(0, Some(10)).await.unwrap();
/// assert_eq!(page.meta.total, 2); // ...and has lost nothing committed
/// assert_eq!(page.items[1].id, "answer-1");
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct StateRef {
    id: SessionId,
    child: ChildRef<State>,
    /// The supervisor, to find the session's tree (and whether a message
    /// streams) as it is now: a resumed session is another tree.
    sessions: Weak<dyn Sessions>,
}

impl StateRef {
    pub(crate) fn new(id: SessionId, child: ChildRef<State>, sessions: Weak<dyn Sessions>) -> Self {
        StateRef {
            id,
            child,
            sessions,
        }
    }

    /// Whether the State of the session's current tree has a message open.
    fn streaming(&self) -> bool {
        self.sessions
            .upgrade()
            .and_then(|sessions| sessions.live_tree(self.id))
            .and_then(|tree| {
                tree.supervisor()
                    .map(|tree| tree.context().conversation().is_streaming())
            })
            .unwrap_or(false)
    }

    /// The session this State belongs to.
    pub fn session_id(&self) -> SessionId {
        self.id
    }

    /// The State process running now, if any.
    pub fn pid(&self) -> Option<Pid> {
        self.child.pid()
    }

    /// The same reference, with calls that give up after `timeout`
    /// instead of the default 5 s.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.child = self.child.with_timeout(timeout);
        self
    }

    async fn call<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Op) -> Result<T, CallError> {
        call_for_reply(&self.child, |reply| StateRequest(Box::new(make(reply)))).await
    }

    /// Commits `change` through the State: `Ok(false)` for a no-op.
    async fn commit(&self, change: Change) -> Result<bool, StateError> {
        self.call(|reply| Op::Commit(change, reply)).await?
    }

    /// Appends `message` to the conversation (the oldest message goes when
    /// over the limit, 1000 by default).
    ///
    /// # Errors
    ///
    /// [`StateError::Call`] as [`ChildRef::call`];
    /// [`StateError::NotJournaled`] if the session is journaled and the
    /// journal could not be written (the change was not made). `Ok` means
    /// committed: a crash of the State keeps it, and — journaled — a crash
    /// of the program too.
    pub async fn append_message(&self, message: Message) -> Result<(), StateError> {
        self.commit(Change::Message(message)).await.map(drop)
    }

    /// Removes every message of the conversation (jido_code's
    /// `clear_messages`), journaled like any change: a crash of the State,
    /// or of the program, keeps it cleared.
    ///
    /// ```
    /// use jido_supervisor::{Message, Role, SessionSupervisor};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let dir = tempfile::tempdir().unwrap();
    /// let supervisor = SessionSupervisor::new();
    /// let id = supervisor.create_session(dir.path()).await.unwrap().id();
    /// let state = supervisor.state(id).unwrap();
    /// state.append_message(Message::new(Role::User, "hello")).await.unwrap();
    /// state.clear_messages().await.unwrap();
    /// assert_eq!(state.message_count().await.unwrap(), 0);
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`append_message`](Self::append_message).
    pub async fn clear_messages(&self) -> Result<(), StateError> {
        self.commit(Change::ClearMessages).await.map(drop)
    }

    /// A page of the conversation: the messages from index `offset` (0 is
    /// the oldest kept), at most `limit` of them (`None`: all the rest),
    /// with the page's [`PageMeta`](crate::session::PageMeta). Only the page is
    /// copied.
    ///
    /// # Errors
    ///
    /// As [`ChildRef::call`].
    pub async fn messages(
        &self,
        offset: usize,
        limit: Option<usize>,
    ) -> Result<Page<Message>, CallError> {
        self.call(|reply| Op::Messages {
            offset,
            limit,
            reply,
        })
        .await
    }

    /// How many messages are kept.
    ///
    /// # Errors
    ///
    /// As [`ChildRef::call`].
    pub async fn message_count(&self) -> Result<usize, CallError> {
        self.call(Op::MessageCount).await
    }

    /// Appends a reasoning step (100 kept by default).
    ///
    /// # Errors
    ///
    /// As [`ChildRef::call`].
    pub async fn push_reasoning_step(&self, step: ReasoningStep) -> Result<(), StateError> {
        self.commit(Change::ReasoningStep(step)).await.map(drop)
    }

    /// Removes every reasoning step (jido_code's `clear_reasoning_steps`),
    /// journaled like any change.
    ///
    /// # Errors
    ///
    /// As [`append_message`](Self::append_message).
    pub async fn clear_reasoning_steps(&self) -> Result<(), StateError> {
        self.commit(Change::ClearReasoningSteps).await.map(drop)
    }

    /// The kept reasoning steps, oldest first.
    ///
    /// # Errors
    ///
    /// As [`ChildRef::call`].
    pub async fn reasoning_steps(&self) -> Result<Vec<ReasoningStep>, CallError> {
        self.call(Op::ReasoningSteps).await
    }

    /// Records a tool call (500 kept by default).
    ///
    /// # Errors
    ///
    /// As [`ChildRef::call`].
    pub async fn push_tool_call(&self, call: ToolCall) -> Result<(), StateError> {
        self.commit(Change::ToolCall(call)).await.map(drop)
    }

    /// Records the status, and the result if given, of tool call `id`.
    ///
    /// # Errors
    ///
    /// [`StateError::Conversation`] with
    /// [`ConversationError::UnknownToolCall`](crate::session::ConversationError::UnknownToolCall)
    /// if no kept call has that id; [`StateError::Call`] as
    /// [`ChildRef::call`].
    pub async fn update_tool_call(
        &self,
        id: impl Into<String>,
        status: ToolStatus,
        result: Option<serde_json::Value>,
    ) -> Result<(), StateError> {
        self.commit(Change::ToolCallUpdate {
            id: id.into(),
            status,
            result,
        })
        .await
        .map(drop)
    }

    /// The kept tool calls, oldest first.
    ///
    /// # Errors
    ///
    /// As [`ChildRef::call`].
    pub async fn tool_calls(&self) -> Result<Vec<ToolCall>, CallError> {
        self.call(Op::ToolCalls).await
    }

    /// Replaces the todo list.
    ///
    /// # Errors
    ///
    /// As [`ChildRef::call`].
    pub async fn set_todos(&self, todos: Vec<Todo>) -> Result<(), StateError> {
        self.commit(Change::Todos(todos)).await.map(drop)
    }

    /// The todo list.
    ///
    /// # Errors
    ///
    /// As [`ChildRef::call`].
    pub async fn todos(&self) -> Result<Vec<Todo>, CallError> {
        self.call(Op::Todos).await
    }

    /// Records a prompt the person typed (100 kept by default); a blank
    /// prompt is ignored and gives `false`.
    ///
    /// # Errors
    ///
    /// As [`ChildRef::call`].
    pub async fn record_prompt(&self, prompt: impl Into<String>) -> Result<bool, StateError> {
        self.commit(Change::Prompt(prompt.into())).await
    }

    /// Replaces the prompt history with `prompts`, oldest first (jido_code's
    /// `set_prompt_history`): blank prompts are left out, and past the limit
    /// (100 by default) only the newest are kept. Journaled like any change.
    ///
    /// ```
    /// use jido_supervisor::SessionSupervisor;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let dir = tempfile::tempdir().unwrap();
    /// let supervisor = SessionSupervisor::new();
    /// let id = supervisor.create_session(dir.path()).await.unwrap().id();
    /// let state = supervisor.state(id).unwrap();
    /// state.record_prompt("old").await.unwrap();
    /// state.set_prompt_history(vec!["fix it".into(), "".into(), "test it".into()]).await.unwrap();
    /// assert_eq!(state.prompt_history().await.unwrap(), ["fix it", "test it"]);
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`append_message`](Self::append_message).
    pub async fn set_prompt_history(&self, prompts: Vec<String>) -> Result<(), StateError> {
        self.commit(Change::PromptHistory(prompts)).await.map(drop)
    }

    /// The recorded prompts, oldest first.
    ///
    /// # Errors
    ///
    /// As [`ChildRef::call`].
    pub async fn prompt_history(&self) -> Result<Vec<String>, CallError> {
        self.call(Op::PromptHistory).await
    }

    /// Records that a file was read (1000 reads kept by default).
    ///
    /// # Errors
    ///
    /// As [`ChildRef::call`].
    pub async fn record_file_read(&self, operation: FileOperation) -> Result<(), StateError> {
        self.commit(Change::FileRead(operation)).await.map(drop)
    }

    /// Records that a file was written (1000 writes kept by default).
    ///
    /// # Errors
    ///
    /// As [`ChildRef::call`].
    pub async fn record_file_write(&self, operation: FileOperation) -> Result<(), StateError> {
        self.commit(Change::FileWrite(operation)).await.map(drop)
    }

    /// The kept file reads, oldest first.
    ///
    /// # Errors
    ///
    /// As [`ChildRef::call`].
    pub async fn file_reads(&self) -> Result<Vec<FileOperation>, CallError> {
        self.call(Op::FileReads).await
    }

    /// The kept file writes, oldest first.
    ///
    /// # Errors
    ///
    /// As [`ChildRef::call`].
    pub async fn file_writes(&self) -> Result<Vec<FileOperation>, CallError> {
        self.call(Op::FileWrites).await
    }

    /// `true` if a kept read names `path`, exactly as it was recorded
    /// (record the path [`ManagerRef::validate_path`](crate::ManagerRef::validate_path)
    /// returns, and ask with it).
    ///
    /// # Errors
    ///
    /// As [`ChildRef::call`].
    pub async fn file_was_read(&self, path: impl Into<PathBuf>) -> Result<bool, CallError> {
        let path = path.into();
        self.call(|reply| Op::FileWasRead(path, reply)).await
    }

    /// Opens a streamed assistant message with id `id`; its content comes in
    /// [`append_chunk`](Self::append_chunk)s and it is committed by
    /// [`end_streaming`](Self::end_streaming).
    ///
    /// # Errors
    ///
    /// [`StateError::AlreadyStreaming`] if a message is open;
    /// [`StateError::Call`] as [`ChildRef::call`].
    pub async fn start_streaming(&self, id: impl Into<String>) -> Result<(), StateError> {
        let id = id.into();
        self.call(|reply| Op::StartStreaming(id, reply)).await??;
        Ok(())
    }

    /// Appends `chunk` to the streamed message, without waiting for the
    /// State (a cast: cheap, no reply). Chunks from one caller join in the
    /// order they were sent. A chunk sent after
    /// [`end_streaming`](Self::end_streaming) was called is dropped.
    ///
    /// # Errors
    ///
    /// [`StateError::NotStreaming`] if no message is open;
    /// [`StateError::Call`] if the State cannot be reached.
    pub fn append_chunk(&self, chunk: impl Into<String>) -> Result<(), StateError> {
        if !self.streaming() {
            return Err(StateError::NotStreaming);
        }
        self.child
            .cast(StateRequest(Box::new(Op::AppendChunk(chunk.into()))))?;
        Ok(())
    }

    /// Commits the streamed message as one message of the conversation
    /// (under the message limit, like any other) and returns it.
    ///
    /// # Errors
    ///
    /// [`StateError::NotStreaming`] if no message is open (none was
    /// started, or the State crashed since, losing it);
    /// [`StateError::Call`] as [`ChildRef::call`].
    pub async fn end_streaming(&self) -> Result<Message, StateError> {
        self.call(Op::EndStreaming).await?
    }

    /// The streamed message so far, if one is open.
    ///
    /// # Errors
    ///
    /// As [`ChildRef::call`].
    pub async fn streaming_message(&self) -> Result<Option<Message>, CallError> {
        self.call(Op::StreamingMessage).await
    }

    /// A copy of the whole committed conversation.
    ///
    /// # Errors
    ///
    /// As [`ChildRef::call`].
    pub async fn conversation(&self) -> Result<Conversation, CallError> {
        self.call(Op::Snapshot).await
    }
}
