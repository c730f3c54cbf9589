//! [`StateRequest`]: what a [`State`](super::State) is asked, made only by
//! [`StateRef`](super::StateRef).

use std::fmt;
use std::path::PathBuf;

use jido_session::{
    Change, Conversation, FileOperation, Message, Page, ReasoningStep, Todo, ToolCall,
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
    /// A change: checked, journaled, committed, then answered (`Ok(false)`:
    /// a no-op, as a blank prompt).
    Commit(Change, Reply<Result<bool, StateError>>),
    Messages {
        offset: usize,
        limit: Option<usize>,
        reply: Reply<Page<Message>>,
    },
    MessageCount(Reply<usize>),
    ReasoningSteps(Reply<Vec<ReasoningStep>>),
    ToolCalls(Reply<Vec<ToolCall>>),
    Todos(Reply<Vec<Todo>>),
    PromptHistory(Reply<Vec<String>>),
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
