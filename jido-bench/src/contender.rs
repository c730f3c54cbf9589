//! [`Contender`]: what the start/stop workloads need from a system under
//! test, and [`Ours`], jido-supervisor's implementation.

use std::future::Future;

use jido_session::{Session, SessionId};
use jido_supervisor::SessionSupervisor;

/// A system that starts a session's process tree and stops it again.
///
/// The workloads in [`crate::workloads`] are generic over this trait, so
/// every contender is driven by the same (monomorphized, unboxed) code.
/// Both futures must complete only when the work is done: `start` when the
/// tree runs and is findable, `stop` when every task of the tree has ended
/// and the session is forgotten.
pub trait Contender: Clone + Send + Sync + 'static {
    /// What `start` hands back and `stop` consumes.
    type Running: Send + 'static;

    /// Starts `session`'s tree.
    fn start(&self, session: Session) -> impl Future<Output = Self::Running> + Send;

    /// Stops a tree started by [`start`](Contender::start) and waits for its end.
    fn stop(&self, running: Self::Running) -> impl Future<Output = ()> + Send;
}

/// jido-supervisor: [`SessionSupervisor::start_session`] with the default
/// per-session supervisor ([`SessionSup`](jido_supervisor::tree::SessionSup): a
/// supervisor — whose task runs only when something happens to it — a
/// Manager task and a State task, all three registered by name), then
/// [`SessionSupervisor::stop_session`].
#[derive(Clone, Debug)]
pub struct Ours {
    supervisor: SessionSupervisor,
}

impl Ours {
    /// A supervisor allowing up to `max_sessions` open sessions, otherwise
    /// with the defaults.
    pub fn new(max_sessions: usize) -> Self {
        Ours {
            supervisor: SessionSupervisor::builder()
                .max_sessions(max_sessions)
                .build(),
        }
    }

    /// A contender driving `supervisor` (configured elsewhere: a cluster
    /// backend, say).
    pub fn with_supervisor(supervisor: SessionSupervisor) -> Self {
        Ours { supervisor }
    }

    /// The supervisor under test.
    pub fn supervisor(&self) -> &SessionSupervisor {
        &self.supervisor
    }
}

impl Contender for Ours {
    type Running = SessionId;

    async fn start(&self, session: Session) -> SessionId {
        let id = session.id();
        if let Err(error) = self.supervisor.start_session(session).await {
            panic!("start_session failed: {error}");
        }
        id
    }

    async fn stop(&self, id: SessionId) {
        if let Err(error) = self.supervisor.stop_session(id).await {
            panic!("stop_session failed: {error}");
        }
    }
}
