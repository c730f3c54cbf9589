//! The Manager process: the session's coordinator, and [`ManagerRef`], which
//! reaches it by name.

use std::sync::Arc;

use jido_registry::{ExitReason, Pid};
use jido_session::{Session, SessionId};
use tokio::sync::oneshot;

use crate::mailbox::{Inbox, Mailbox};
use crate::{CallError, ProcessKey, ProcessValue, Processes};

pub(crate) enum ManagerRequest {
    Session(oneshot::Sender<Arc<Session>>),
}

/// The mailbox of a Manager process (opaque).
#[derive(Debug, Clone)]
pub struct ManagerMailbox(pub(crate) Mailbox<ManagerRequest>);

/// The Manager process's loop: answers for its session until asked to stop.
pub(crate) async fn run(
    me: Pid,
    session: Arc<Session>,
    mut inbox: Inbox<ManagerRequest>,
) -> ExitReason {
    loop {
        tokio::select! {
            biased;
            () = me.stop_requested() => return ExitReason::Shutdown,
            request = inbox.recv() => match request {
                Some(ManagerRequest::Session(reply)) => {
                    let _ = reply.send(Arc::clone(&session));
                }
                None => return ExitReason::Normal,
            },
        }
    }
}

/// Reaches a session's Manager by name, on every call, so it keeps working
/// after the Manager is restarted. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ManagerRef {
    id: SessionId,
    processes: Processes,
}

impl ManagerRef {
    pub(crate) fn new(id: SessionId, processes: Processes) -> Self {
        ManagerRef { id, processes }
    }

    /// The session this Manager belongs to.
    pub fn session_id(&self) -> SessionId {
        self.id
    }

    /// The Manager process now registered, if any.
    pub fn pid(&self) -> Option<Pid> {
        self.processes.whereis(&ProcessKey::Manager(self.id))
    }

    /// The session, as the Manager holds it.
    pub async fn session(&self) -> Result<Arc<Session>, CallError> {
        let key = ProcessKey::Manager(self.id);
        match self.processes.lookup(&key) {
            Some((_, ProcessValue::Manager(mailbox))) => {
                mailbox.0.call(ManagerRequest::Session).await
            }
            _ => Err(CallError::NotRunning { key }),
        }
    }
}
