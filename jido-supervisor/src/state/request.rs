//! [`StateRequest`]: what a [`State`](super::State) is asked, made only by
//! [`StateRef`](super::StateRef).

use std::fmt;
use std::path::PathBuf;

use jido_session::{
    Conversation, ConversationError, FileOperation, Message, Page, ReasoningStep, Todo, ToolCall,
    ToolStatus,
};
use tokio::sync::oneshot;

use super::StateError;

type Reply<T> = oneshot::Sender<T>;

/// One request to a [`State`](super::State). Made by the methods of
/// [`StateRef`](super::StateRef), the State's typed interface; its contents
/// are private so that the State's protocol can grow without breaking you.
///
/// One pointer wide: an idle State's task holds no room for the largest
/// request.
pub struct StateRequest(pub(crate) Box<Op>);

#[derive(Debug)]
pub(crate) enum Op {
    AppendMessage(Message, Reply<()>),
    Messages {
        offset: usize,
        limit: Option<usize>,
        reply: Reply<Page<Message>>,
    },
    MessageCount(Reply<usize>),
    PushReasoningStep(ReasoningStep, Reply<()>),
    ReasoningSteps(Reply<Vec<ReasoningStep>>),
    PushToolCall(ToolCall, Reply<()>),
    UpdateToolCall {
        id: String,
        status: ToolStatus,
        result: Option<serde_json::Value>,
        reply: Reply<Result<(), ConversationError>>,
    },
    ToolCalls(Reply<Vec<ToolCall>>),
    SetTodos(Vec<Todo>, Reply<()>),
    Todos(Reply<Vec<Todo>>),
    RecordPrompt(String, Reply<bool>),
    PromptHistory(Reply<Vec<String>>),
    RecordFileRead(FileOperation, Reply<()>),
    RecordFileWrite(FileOperation, Reply<()>),
    FileReads(Reply<Vec<FileOperation>>),
    FileWrites(Reply<Vec<FileOperation>>),
    FileWasRead(PathBuf, Reply<bool>),
    StartStreaming(String, Reply<Result<(), StateError>>),
    AppendChunk(String),
    EndStreaming(Reply<Result<Message, StateError>>),
    StreamingMessage(Reply<Option<Message>>),
    Snapshot(Reply<Conversation>),
}

impl fmt::Debug for StateRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("StateRequest").field(&self.0).finish()
    }
}
