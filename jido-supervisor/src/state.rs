//! The State process: a session's conversation (messages, todos, prompt
//! history), and [`StateRef`], which reaches it by name.

use std::collections::VecDeque;

use jido_registry::{ExitReason, Pid};
use jido_session::SessionId;
use tokio::sync::oneshot;

use crate::mailbox::{Inbox, Mailbox};
use crate::{CallError, ProcessKey, ProcessValue, Processes};

/// How many prompts the State keeps; older ones are forgotten.
pub const PROMPT_HISTORY_LIMIT: usize = 100;

/// Who said a [`Message`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

/// One message of a session's conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Who said it.
    pub role: Role,
    /// What was said.
    pub content: String,
}

impl Message {
    /// A message from `role`.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Message {
            role,
            content: content.into(),
        }
    }
}

/// Where a [`Todo`] stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TodoStatus {
    /// Not started.
    Pending,
    /// Being worked on.
    InProgress,
    /// Done.
    Completed,
}

/// One item of a session's todo list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Todo {
    /// What is to be done.
    pub content: String,
    /// Where it stands.
    pub status: TodoStatus,
}

pub(crate) enum StateRequest {
    AppendMessage(Message, oneshot::Sender<()>),
    Messages(oneshot::Sender<Vec<Message>>),
    SetTodos(Vec<Todo>, oneshot::Sender<()>),
    Todos(oneshot::Sender<Vec<Todo>>),
    RecordPrompt(String, oneshot::Sender<()>),
    PromptHistory(oneshot::Sender<Vec<String>>),
}

/// The mailbox of a State process (opaque).
#[derive(Debug, Clone)]
pub struct StateMailbox(pub(crate) Mailbox<StateRequest>);

#[derive(Default)]
struct Conversation {
    messages: Vec<Message>,
    todos: Vec<Todo>,
    prompts: VecDeque<String>,
}

impl Conversation {
    fn handle(&mut self, request: StateRequest) {
        // A caller that gave up waiting dropped its reply channel; that is
        // not the State's concern.
        match request {
            StateRequest::AppendMessage(message, reply) => {
                self.messages.push(message);
                let _ = reply.send(());
            }
            StateRequest::Messages(reply) => {
                let _ = reply.send(self.messages.clone());
            }
            StateRequest::SetTodos(todos, reply) => {
                self.todos = todos;
                let _ = reply.send(());
            }
            StateRequest::Todos(reply) => {
                let _ = reply.send(self.todos.clone());
            }
            StateRequest::RecordPrompt(prompt, reply) => {
                if self.prompts.len() == PROMPT_HISTORY_LIMIT {
                    self.prompts.pop_front();
                }
                self.prompts.push_back(prompt);
                let _ = reply.send(());
            }
            StateRequest::PromptHistory(reply) => {
                let _ = reply.send(self.prompts.iter().cloned().collect());
            }
        }
    }
}

/// The State process's loop: serves requests until asked to stop. The
/// conversation starts empty (a restarted State starts afresh).
pub(crate) async fn run(me: Pid, mut inbox: Inbox<StateRequest>) -> ExitReason {
    let mut conversation = Conversation::default();
    loop {
        tokio::select! {
            biased;
            () = me.stop_requested() => return ExitReason::Shutdown,
            request = inbox.recv() => match request {
                Some(request) => conversation.handle(request),
                None => return ExitReason::Normal,
            },
        }
    }
}

/// Reaches a session's State by name, on every call: after the State is
/// restarted, the same `StateRef` reaches the new one (an Elixir
/// `{:via, Registry, {:state, id}}`). Cheap to clone.
#[derive(Debug, Clone)]
pub struct StateRef {
    id: SessionId,
    processes: Processes,
}

impl StateRef {
    pub(crate) fn new(id: SessionId, processes: Processes) -> Self {
        StateRef { id, processes }
    }

    /// The session this State belongs to.
    pub fn session_id(&self) -> SessionId {
        self.id
    }

    /// The State process now registered, if any.
    pub fn pid(&self) -> Option<Pid> {
        self.processes.whereis(&ProcessKey::State(self.id))
    }

    async fn call<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> StateRequest,
    ) -> Result<T, CallError> {
        let key = ProcessKey::State(self.id);
        match self.processes.lookup(&key) {
            Some((_, ProcessValue::State(mailbox))) => mailbox.0.call(make).await,
            _ => Err(CallError::NotRunning { key }),
        }
    }

    /// Appends `message` to the conversation.
    pub async fn append_message(&self, message: Message) -> Result<(), CallError> {
        self.call(|reply| StateRequest::AppendMessage(message, reply))
            .await
    }

    /// The conversation so far, oldest first.
    pub async fn messages(&self) -> Result<Vec<Message>, CallError> {
        self.call(StateRequest::Messages).await
    }

    /// Replaces the todo list.
    pub async fn set_todos(&self, todos: Vec<Todo>) -> Result<(), CallError> {
        self.call(|reply| StateRequest::SetTodos(todos, reply))
            .await
    }

    /// The todo list.
    pub async fn todos(&self) -> Result<Vec<Todo>, CallError> {
        self.call(StateRequest::Todos).await
    }

    /// Records a prompt the person typed; the last
    /// [`PROMPT_HISTORY_LIMIT`] are kept.
    pub async fn record_prompt(&self, prompt: impl Into<String>) -> Result<(), CallError> {
        let prompt = prompt.into();
        self.call(|reply| StateRequest::RecordPrompt(prompt, reply))
            .await
    }

    /// The recorded prompts, oldest first.
    pub async fn prompt_history(&self) -> Result<Vec<String>, CallError> {
        self.call(StateRequest::PromptHistory).await
    }
}
