//! [`ConversationStore`]: a session's committed conversation, held by its
//! tree so that it outlives any one State process.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use jido_session::{Change, Conversation, ConversationError, ConversationLimits};
use parking_lot::Mutex;

use crate::journal::SessionJournal;
use crate::telemetry;
use jido_store::StoreError;

/// The committed [`Conversation`] of one session, held by the session's tree
/// (reached through [`SessionContext::conversation`](crate::tree::SessionContext::conversation)),
/// not by the [`State`](crate::session::State) process: a State that crashes and is
/// restarted finds everything committed before the crash.
///
/// Every change is made under one lock, in one step, with no await inside:
/// a State killed at any point has either committed a change whole or not at
/// all. An idle session's store allocates nothing; the conversation is made
/// on the first write.
///
/// ```
/// use jido_supervisor::session::ConversationLimits;
/// use jido_supervisor::{Message, Role, SessionSupervisor};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let dir = tempfile::tempdir().unwrap();
/// let supervisor = SessionSupervisor::new();
/// let id = supervisor.create_session(dir.path()).await.unwrap().id();
/// let state = supervisor.state(id).unwrap();
/// state.append_message(Message::new(Role::User, "hello")).await.unwrap();
///
/// let tree = supervisor.tree(id).unwrap();
/// let store = tree.context().conversation();
/// assert_eq!(store.read(|conversation| conversation.message_count()), 1);
/// # }
/// ```
#[derive(Default)]
pub struct ConversationStore {
    committed: Mutex<Option<Box<Conversation>>>,
    /// The session's journal, if it is journaled: every change the State
    /// commits is appended there first.
    journal: Option<Arc<SessionJournal>>,
    /// The last journal record the committed conversation holds; written
    /// and read under `committed`'s lock, so that a snapshot and the record
    /// it covers go together.
    journaled: AtomicU64,
    /// Whether the State has a streamed message open: lets
    /// [`StateRef::append_chunk`](crate::StateRef::append_chunk) refuse at
    /// once, without a round trip.
    streaming: AtomicBool,
}

impl ConversationStore {
    /// Runs `f` on the committed conversation (an empty one with the default
    /// limits if nothing was ever written), under the store's lock: keep `f`
    /// short, and copy out only what you need.
    pub fn read<R>(&self, f: impl FnOnce(&Conversation) -> R) -> R {
        let committed = self.committed.lock();
        match committed.as_deref() {
            Some(conversation) => f(conversation),
            None => f(&Conversation::default()),
        }
    }

    /// Changes the committed conversation with `f`, in one step under the
    /// store's lock. The conversation is made with `limits` on the first
    /// write; later, `limits` are ignored (see [`set_limits`](Self::set_limits)).
    /// Not journaled: a change made here is lost with the program, where the
    /// State's are not (make changes through the State to keep them).
    pub fn update<R>(
        &self,
        limits: ConversationLimits,
        f: impl FnOnce(&mut Conversation) -> R,
    ) -> R {
        let mut committed = self.committed.lock();
        let conversation = committed.get_or_insert_with(|| Box::new(Conversation::new(limits)));
        f(conversation)
    }

    /// Commits `change` ([`Conversation::apply`]) in one step under the
    /// store's lock, the conversation made with `limits` on the first
    /// write: `Ok(false)` if it was a no-op. What the [`State`](crate::session::State)
    /// does with every change it is asked for.
    ///
    /// # Errors
    ///
    /// As [`Conversation::apply`]; the conversation is unchanged.
    pub fn commit(
        &self,
        limits: ConversationLimits,
        change: Change,
    ) -> Result<bool, ConversationError> {
        self.update(limits, |conversation| conversation.apply(change))
    }

    /// A store journaling every change the State commits in `journal`.
    pub(crate) fn journaled(journal: Option<Arc<SessionJournal>>) -> Self {
        ConversationStore {
            journal,
            ..ConversationStore::default()
        }
    }

    /// What the [`State`](crate::session::State) does with every change:
    /// checks it, appends it to the session's journal (if it is journaled),
    /// then [`commit`](Self::commit)s it. `Ok` means durable (as the
    /// supervisor's durability says) and committed; on an error, the change
    /// was not made.
    pub(crate) async fn commit_durably(
        &self,
        limits: ConversationLimits,
        change: Change,
    ) -> Result<bool, NotCommitted> {
        self.read(|conversation| conversation.check(&change))?;
        let Some(journal) = &self.journal else {
            return Ok(self.commit(limits, change)?);
        };
        let not_journaled = NotCommitted::NotJournaled;
        let mut appender = journal.appender().await;
        // A State with other limits than the journal last recorded (the
        // first one, or one restarted with new limits) journals its limits
        // first, so that a replay keeps and drops exactly what it did.
        if journal.journaled_limits() != Some(limits) {
            let seq = appender
                .change(&Change::Limits(limits))
                .await
                .map_err(not_journaled)?;
            self.commit_journaled(limits, Change::Limits(limits), seq)?;
            journal.set_journaled_limits(limits);
        }
        let seq = appender.change(&change).await.map_err(not_journaled)?;
        let changed = self.commit_journaled(limits, change, seq)?;
        if appender.checkpoint_due() {
            let (conversation, covered) = self.checkpoint();
            debug_assert_eq!(covered, appender.last(), "a checkpoint holds every record");
            let checkpointed = appender.checkpoint(conversation).await;
            telemetry::saved(checkpointed.is_ok());
            if let Err(error) = checkpointed {
                // The change is journaled: only the journal stays longer.
                tracing::warn!(%error, "checkpointing the session failed; its journal is kept");
            }
        }
        Ok(changed)
    }

    /// Commits `change`, journaled as record `seq`.
    fn commit_journaled(
        &self,
        limits: ConversationLimits,
        change: Change,
        seq: u64,
    ) -> Result<bool, ConversationError> {
        self.update(limits, |conversation| {
            self.journaled.store(seq, Ordering::Relaxed);
            conversation.apply(change)
        })
    }

    /// The session's journal, if it is journaled.
    pub(crate) fn journal(&self) -> Option<&Arc<SessionJournal>> {
        self.journal.as_ref()
    }

    /// A copy of the committed conversation, and the last journal record
    /// it holds (0 if none): what a snapshot of it covers.
    pub(crate) fn checkpoint(&self) -> (Conversation, u64) {
        let committed = self.committed.lock();
        let seq = self.journaled.load(Ordering::Relaxed);
        let conversation = committed.as_deref().cloned().unwrap_or_default();
        (conversation, seq)
    }

    /// Replaces the committed conversation with a restored one, which holds
    /// the journal up to record `seq`.
    pub(crate) fn restore(&self, conversation: Conversation, seq: u64) {
        if let Some(journal) = &self.journal {
            journal.set_journaled_limits(conversation.limits());
        }
        let mut committed = self.committed.lock();
        self.journaled.store(seq, Ordering::Relaxed);
        *committed = Some(Box::new(conversation));
    }

    /// Applies `limits` to the committed conversation, if there is one
    /// (histories over a limit lose their oldest entries).
    pub fn set_limits(&self, limits: ConversationLimits) {
        if let Some(conversation) = self.committed.lock().as_deref_mut()
            && conversation.limits() != limits
        {
            conversation.set_limits(limits);
        }
    }

    /// A copy of the committed conversation.
    pub fn snapshot(&self) -> Conversation {
        self.read(Conversation::clone)
    }

    /// Replaces the committed conversation (to restore a saved one, say).
    pub fn replace(&self, conversation: Conversation) {
        *self.committed.lock() = Some(Box::new(conversation));
    }

    pub(crate) fn set_streaming(&self, streaming: bool) {
        self.streaming.store(streaming, Ordering::Release);
    }

    pub(crate) fn is_streaming(&self) -> bool {
        self.streaming.load(Ordering::Acquire)
    }
}

/// Why [`ConversationStore::commit_durably`] did not make a change.
#[derive(Debug)]
pub(crate) enum NotCommitted {
    /// The conversation refused it.
    Refused(ConversationError),
    /// It could not be journaled.
    NotJournaled(StoreError),
}

impl From<ConversationError> for NotCommitted {
    fn from(error: ConversationError) -> Self {
        NotCommitted::Refused(error)
    }
}

impl fmt::Debug for ConversationStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never waits: Debug may be asked for under the lock.
        let messages = self
            .committed
            .try_lock()
            .map(|committed| committed.as_deref().map_or(0, Conversation::message_count));
        f.debug_struct("ConversationStore")
            .field("messages", &messages)
            .field("streaming", &self.is_streaming())
            .finish()
    }
}
