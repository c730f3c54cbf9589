//! [`StateError`]: why a [`State`](super::State) refused a request.

use jido_process::CallError;
use jido_session::ConversationError;
use jido_store::StoreError;

use crate::conversation_store::NotCommitted;

/// Why a request to a session's [`State`](super::State) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The State could not be reached, or did not answer in time.
    #[error(transparent)]
    Call(#[from] CallError),
    /// Nothing is being streamed: there is nothing to append to or end.
    #[error("no message is being streamed")]
    NotStreaming,
    /// A streamed message is already open; end it first.
    #[error("message {id:?} is already being streamed")]
    AlreadyStreaming {
        /// The open message's id.
        id: String,
    },
    /// The conversation refused the change.
    #[error(transparent)]
    Conversation(#[from] ConversationError),
    /// The change could not be written to the session's journal, so it was
    /// not made (and was not acknowledged). Whether the journal holds it is
    /// known after a restart: at most this one change in flight.
    #[error("the change could not be journaled, and was not made: {error}")]
    NotJournaled {
        /// Why.
        error: StoreError,
    },
}

impl From<NotCommitted> for StateError {
    fn from(error: NotCommitted) -> Self {
        match error {
            NotCommitted::Refused(error) => StateError::Conversation(error),
            NotCommitted::NotJournaled(error) => StateError::NotJournaled { error },
        }
    }
}
