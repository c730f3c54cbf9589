//! [`Ticket`] and [`Registration`]: one registration of a session.

use std::ops::Deref;
use std::sync::Arc;

use jido_session::{Session, SessionId};

/// Names one registration of a session: the same id registered again later
/// gets another ticket. Operations by ticket act only if that registration
/// is still the current one for its id, which lets a cleanup that runs late
/// leave a newer registration alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ticket {
    pub(crate) id: SessionId,
    pub(crate) seq: u64,
}

impl Ticket {
    /// The registered session's id.
    pub fn id(&self) -> SessionId {
        self.id
    }
}

/// A successful registration: the stored session and its [`Ticket`].
/// Dereferences to the [`Session`].
#[derive(Debug, Clone)]
pub struct Registration {
    pub(crate) session: Arc<Session>,
    pub(crate) ticket: Ticket,
}

impl Registration {
    /// The stored session.
    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }

    /// The ticket naming this registration.
    pub fn ticket(&self) -> Ticket {
        self.ticket
    }

    /// The stored session, by value.
    pub fn into_session(self) -> Arc<Session> {
        self.session
    }
}

impl Deref for Registration {
    type Target = Session;

    fn deref(&self) -> &Session {
        &self.session
    }
}
