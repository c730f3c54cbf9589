//! The State: a session's conversation (messages, todos, prompt history),
//! a [`Worker`] child of the default tree; and [`StateRef`], which reaches
//! it by name.

use std::collections::VecDeque;

use jido_session::SessionId;
use tokio::sync::oneshot;

use crate::{CallError, ChildRef, ChildSpec, Context, Pid, SessionContext, Worker};

/// The State's name in its session's tree.
pub const NAME: &str = "state";

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

/// What a [`State`] is asked (through [`StateRef`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum StateRequest {
    /// Appends a message.
    AppendMessage(Message, oneshot::Sender<()>),
    /// The messages, oldest first.
    Messages(oneshot::Sender<Vec<Message>>),
    /// Replaces the todo list.
    SetTodos(Vec<Todo>, oneshot::Sender<()>),
    /// The todo list.
    Todos(oneshot::Sender<Vec<Todo>>),
    /// Records a prompt.
    RecordPrompt(String, oneshot::Sender<()>),
    /// The recorded prompts, oldest first.
    PromptHistory(oneshot::Sender<Vec<String>>),
}

/// A session's conversation (jido_code's `Session.State`): messages, todos,
/// prompt history. An ordinary [`Worker`], started by [`State::spec`] like
/// any user child; a restarted State starts empty.
#[derive(Debug, Default)]
pub struct State {
    messages: Vec<Message>,
    todos: Vec<Todo>,
    prompts: VecDeque<String>,
}

impl State {
    /// The State child, named `"state"`: permanent, 5 s shutdown.
    pub fn spec() -> ChildSpec<SessionContext> {
        ChildSpec::worker(NAME, |_: &SessionContext| State::default())
    }
}

impl Worker for State {
    type Request = StateRequest;
    type Reply = ();

    async fn handle(&mut self, request: StateRequest, _ctx: &mut Context) {
        // A caller that gave up waiting dropped its receiver; that is not
        // the State's concern.
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

/// Reaches a session's State by name, on every call: after the State is
/// restarted, the same `StateRef` reaches the new one (an Elixir
/// `{:via, Registry, {:state, id}}`). Cheap to clone.
#[derive(Debug, Clone)]
pub struct StateRef {
    id: SessionId,
    child: ChildRef<State>,
}

impl StateRef {
    pub(crate) fn new(id: SessionId, child: ChildRef<State>) -> Self {
        StateRef { id, child }
    }

    /// The session this State belongs to.
    pub fn session_id(&self) -> SessionId {
        self.id
    }

    /// The State process running now, if any.
    pub fn pid(&self) -> Option<Pid> {
        self.child.pid()
    }

    async fn call<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> StateRequest,
    ) -> Result<T, CallError> {
        let (reply, answer) = oneshot::channel();
        self.child.call(make(reply)).await?;
        answer.await.map_err(|_| CallError::Exited { reason: None })
    }

    /// Appends `message` to the conversation.
    ///
    /// # Errors
    ///
    /// As [`ChildRef::call`].
    pub async fn append_message(&self, message: Message) -> Result<(), CallError> {
        self.call(|reply| StateRequest::AppendMessage(message, reply))
            .await
    }

    /// The conversation so far, oldest first.
    ///
    /// # Errors
    ///
    /// As [`ChildRef::call`].
    pub async fn messages(&self) -> Result<Vec<Message>, CallError> {
        self.call(StateRequest::Messages).await
    }

    /// Replaces the todo list.
    ///
    /// # Errors
    ///
    /// As [`ChildRef::call`].
    pub async fn set_todos(&self, todos: Vec<Todo>) -> Result<(), CallError> {
        self.call(|reply| StateRequest::SetTodos(todos, reply))
            .await
    }

    /// The todo list.
    ///
    /// # Errors
    ///
    /// As [`ChildRef::call`].
    pub async fn todos(&self) -> Result<Vec<Todo>, CallError> {
        self.call(StateRequest::Todos).await
    }

    /// Records a prompt the person typed; the last
    /// [`PROMPT_HISTORY_LIMIT`] are kept.
    ///
    /// # Errors
    ///
    /// As [`ChildRef::call`].
    pub async fn record_prompt(&self, prompt: impl Into<String>) -> Result<(), CallError> {
        let prompt = prompt.into();
        self.call(|reply| StateRequest::RecordPrompt(prompt, reply))
            .await
    }

    /// The recorded prompts, oldest first.
    ///
    /// # Errors
    ///
    /// As [`ChildRef::call`].
    pub async fn prompt_history(&self) -> Result<Vec<String>, CallError> {
        self.call(StateRequest::PromptHistory).await
    }
}
