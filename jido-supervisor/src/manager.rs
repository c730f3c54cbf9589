//! The Manager: a session's coordinator, a [`Worker`] child of the default
//! tree; and [`ManagerRef`], which reaches it by name.

use std::sync::Arc;

use jido_session::{Session, SessionId};
use tokio::sync::oneshot;

use crate::{CallError, ChildRef, ChildSpec, Context, Pid, SessionContext, Worker};

/// The Manager's name in its session's tree.
pub const NAME: &str = "manager";

/// A session's coordinator (jido_code's `Session.Manager`): answers for its
/// session as it is now. An ordinary [`Worker`], started by
/// [`Manager::spec`] like any user child.
#[derive(Debug)]
pub struct Manager {
    ctx: SessionContext,
}

/// What a [`Manager`] is asked (through [`ManagerRef`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum ManagerRequest {
    /// The session, as it is now.
    Session(oneshot::Sender<Arc<Session>>),
}

impl Manager {
    /// A Manager for the session of `ctx`.
    pub fn new(ctx: SessionContext) -> Self {
        Manager { ctx }
    }

    /// The Manager child, named `"manager"`: permanent, 5 s shutdown.
    pub fn spec() -> ChildSpec<SessionContext> {
        ChildSpec::worker(NAME, |ctx: &SessionContext| Manager::new(ctx.clone()))
    }
}

impl Worker for Manager {
    type Request = ManagerRequest;
    type Reply = ();

    async fn handle(&mut self, request: ManagerRequest, _ctx: &mut Context) {
        match request {
            // A caller that gave up dropped its receiver.
            ManagerRequest::Session(reply) => {
                let _ = reply.send(self.ctx.session());
            }
        }
    }
}

/// Reaches a session's Manager by name at every call, so it keeps working
/// after the Manager is restarted. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ManagerRef {
    id: SessionId,
    child: ChildRef<Manager>,
}

impl ManagerRef {
    pub(crate) fn new(id: SessionId, child: ChildRef<Manager>) -> Self {
        ManagerRef { id, child }
    }

    /// The session this Manager belongs to.
    pub fn session_id(&self) -> SessionId {
        self.id
    }

    /// The Manager process running now, if any.
    pub fn pid(&self) -> Option<Pid> {
        self.child.pid()
    }

    /// The session, as the Manager sees it now (renames included).
    ///
    /// # Errors
    ///
    /// As [`ChildRef::call`].
    pub async fn session(&self) -> Result<Arc<Session>, CallError> {
        let (reply, answer) = oneshot::channel();
        self.child.call(ManagerRequest::Session(reply)).await?;
        answer.await.map_err(|_| CallError::Exited { reason: None })
    }
}
