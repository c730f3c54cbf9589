//! The State: a session's conversation, a [`Worker`] child of the default
//! tree; [`StateRef`], which reaches it by name; [`StateError`].
//!
//! The State process serializes the session's changes; what it commits lives
//! in the tree's [`ConversationStore`](crate::session::ConversationStore), so a State
//! restarted after a crash starts from the last committed conversation.

mod error;
mod request;
mod state_ref;

use jido_process::{ChildSpec, Context, Worker};
use jido_session::{Change, ConversationLimits, Message, Role};

use crate::context::SessionContext;

pub use error::StateError;
pub use request::StateRequest;
pub use state_ref::StateRef;

use request::Op;

/// The State's name in its session's tree.
pub const NAME: &str = "state";

/// A session's conversation (jido_code's `Session.State`): messages,
/// reasoning steps, tool calls, todos, prompt history, file reads and
/// writes, each bounded by its [`ConversationLimits`] (oldest dropped
/// first), and one streamed assistant message at a time. An ordinary
/// [`Worker`], started by [`State::spec`] like any user child; reached
/// through [`StateRef`].
///
/// **Crashes lose nothing committed.** Every change is committed, whole, to
/// the tree's [`ConversationStore`](crate::session::ConversationStore) before the
/// State answers; a restarted State starts from it. What a crash does lose
/// is the message being streamed, if any (its chunks live in the process
/// until [`StateRef::end_streaming`] commits them): after a restart nothing
/// streams, and appending or ending gives [`StateError::NotStreaming`].
#[derive(Debug)]
pub struct State {
    ctx: SessionContext,
    limits: ConversationLimits,
    /// The streamed message, until it is committed.
    streaming: Option<Box<Message>>,
}

impl State {
    /// A State for the session of `ctx`, keeping histories within `limits`;
    /// it continues the conversation committed to the tree so far.
    pub fn new(ctx: SessionContext, limits: ConversationLimits) -> Self {
        let store = ctx.conversation();
        store.set_limits(limits);
        // A new incarnation has no message open, whatever the last one had.
        store.set_streaming(false);
        State {
            ctx,
            limits,
            streaming: None,
        }
    }

    /// The State child with jido_code's limits ([`ConversationLimits::default`]),
    /// named `"state"`: permanent, 5 s shutdown.
    pub fn spec() -> ChildSpec<SessionContext> {
        State::spec_with(ConversationLimits::default())
    }

    /// The State child keeping histories within `limits`. Replace the
    /// default one with it:
    ///
    /// ```
    /// use jido_supervisor::session::{ConversationLimits, State};
    /// use jido_supervisor::tree::SessionSup;
    ///
    /// let limits = ConversationLimits { messages: 200, ..ConversationLimits::default() };
    /// let tree = SessionSup::new().child(State::spec_with(limits)); // same name: replaced in place
    /// assert_eq!(tree.spec().children().len(), 2);
    /// ```
    pub fn spec_with(limits: ConversationLimits) -> ChildSpec<SessionContext> {
        ChildSpec::worker(NAME, move |ctx: &SessionContext| {
            State::new(ctx.clone(), limits)
        })
    }

    fn start_streaming(&mut self, id: String) -> Result<(), StateError> {
        if let Some(open) = &self.streaming {
            return Err(StateError::AlreadyStreaming {
                id: open.id.clone(),
            });
        }
        let mut message = Message::new(Role::Assistant, String::new());
        message.id = id;
        self.streaming = Some(Box::new(message));
        self.ctx.conversation().set_streaming(true);
        Ok(())
    }

    /// Commits the streamed message (journaled like any change); should
    /// that fail, the message stays open.
    async fn end_streaming(&mut self) -> Result<Message, StateError> {
        let message = *self.streaming.take().ok_or(StateError::NotStreaming)?;
        let store = self.ctx.conversation();
        match store
            .commit_durably(self.limits, Change::Message(message.clone()))
            .await
        {
            Ok(_) => {
                store.set_streaming(false);
                Ok(message)
            }
            Err(error) => {
                self.streaming = Some(Box::new(message));
                Err(error.into())
            }
        }
    }
}

impl Worker for State {
    type Request = StateRequest;
    type Reply = ();

    async fn handle(&mut self, request: StateRequest, _ctx: &mut Context) {
        let store = self.ctx.conversation();
        let limits = self.limits;
        // Each change is one `commit_durably`: journaled, then committed
        // whole, before the reply. A caller that gave up waiting dropped its
        // receiver; that is not the State's concern, hence the ignored
        // sends.
        match *request.0 {
            Op::Commit(change, reply) => {
                let done = store.commit_durably(limits, change).await;
                let _ = reply.send(done.map_err(StateError::from));
            }
            Op::Messages {
                offset,
                limit,
                reply,
            } => {
                let _ = reply.send(store.read(|c| c.messages(offset, limit)));
            }
            Op::MessageCount(reply) => {
                let _ = reply.send(store.read(|c| c.message_count()));
            }
            Op::ReasoningSteps(reply) => {
                let _ = reply.send(store.read(|c| c.reasoning_steps().cloned().collect()));
            }
            Op::ToolCalls(reply) => {
                let _ = reply.send(store.read(|c| c.tool_calls().cloned().collect()));
            }
            Op::Todos(reply) => {
                let _ = reply.send(store.read(|c| c.todos().to_vec()));
            }
            Op::PromptHistory(reply) => {
                let _ = reply.send(store.read(|c| c.prompt_history().cloned().collect()));
            }
            Op::FileReads(reply) => {
                let _ = reply.send(store.read(|c| c.file_reads().cloned().collect()));
            }
            Op::FileWrites(reply) => {
                let _ = reply.send(store.read(|c| c.file_writes().cloned().collect()));
            }
            Op::FileWasRead(path, reply) => {
                let _ = reply.send(store.read(|c| c.file_was_read(&path)));
            }
            Op::StartStreaming(id, reply) => {
                let _ = reply.send(self.start_streaming(id));
            }
            Op::AppendChunk(chunk) => {
                // A chunk cast after the message was ended (or after a crash
                // lost it) has nothing to join: dropped.
                if let Some(message) = &mut self.streaming {
                    message.content.push_str(&chunk);
                }
            }
            Op::EndStreaming(reply) => {
                let _ = reply.send(self.end_streaming().await);
            }
            Op::StreamingMessage(reply) => {
                let _ = reply.send(self.streaming.as_deref().cloned());
            }
            Op::Snapshot(reply) => {
                // Nothing written yet reads as empty with the default
                // limits; the State's own are the truth.
                let mut snapshot = store.snapshot();
                snapshot.set_limits(limits);
                let _ = reply.send(snapshot);
            }
        }
    }
}
