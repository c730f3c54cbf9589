//! [`Floor`]: the least raw-tokio code that does the work of starting and
//! stopping a session tree — the floor any supervisor library is measured
//! against.
//!
//! Start: a supervisor task is spawned; it spawns two child tasks (the
//! "Manager", which holds the session, and the "State"), then acks to the
//! caller over a oneshot; the caller inserts the session into a
//! `Mutex<HashMap>`. Stop: the caller removes the entry, cancels the
//! supervisor (a oneshot), which stops its children one by one, last started
//! first, waiting for each (as an OTP supervisor does), and the caller joins
//! the supervisor.
//!
//! Left out, compared with jido-supervisor: limit / duplicate-id /
//! duplicate-project checks, names for the three tasks, exit reasons and
//! monitors, restarts, panic and cancel safety, timeouts, events, tracing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use jido_session::{Session, SessionId};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::Contender;

/// Raw-tokio session trees in a `Mutex<HashMap>`. Cheap to clone (clones
/// share the map).
#[derive(Clone, Default)]
pub struct Floor {
    sessions: Arc<Mutex<HashMap<SessionId, Entry>>>,
}

/// One running tree, as the map holds it.
struct Entry {
    /// The session, as a registry would hold it.
    _session: Arc<Session>,
    /// Dropping or firing it stops the supervisor task.
    stop: oneshot::Sender<()>,
    supervisor: JoinHandle<()>,
}

impl Floor {
    /// An empty floor.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many sessions are in the map.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// `true` when no session is in the map.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, Entry>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A child task: holds `state` until told to stop.
async fn child<T>(state: T, stop: oneshot::Receiver<()>) {
    let _ = stop.await;
    drop(state);
}

impl Contender for Floor {
    type Running = SessionId;

    async fn start(&self, session: Session) -> SessionId {
        let session = Arc::new(session);
        let id = session.id();
        let (ack, acked) = oneshot::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let manager_session = Arc::clone(&session);
        let supervisor = tokio::spawn(async move {
            let (stop_manager, manager_stopped) = oneshot::channel();
            let manager = tokio::spawn(child(manager_session, manager_stopped));
            let (stop_state, state_stopped) = oneshot::channel();
            let state = tokio::spawn(child((), state_stopped));
            let _ = ack.send(());
            let _ = stopped.await;
            let _ = stop_state.send(());
            let _ = state.await;
            let _ = stop_manager.send(());
            let _ = manager.await;
        });
        if acked.await.is_err() {
            panic!("the floor's supervisor task died before its ack");
        }
        self.lock().insert(
            id,
            Entry {
                _session: session,
                stop,
                supervisor,
            },
        );
        id
    }

    async fn stop(&self, id: SessionId) {
        let Some(entry) = self.lock().remove(&id) else {
            panic!("floor: no session {id}");
        };
        let _ = entry.stop.send(());
        if let Err(error) = entry.supervisor.await {
            panic!("floor supervisor failed: {error}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::Projects;
    use crate::test_support::alive_tasks_settle_at;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn start_spawns_three_tasks_and_stop_ends_them_and_forgets_the_session() {
        let projects = Projects::flat(1);
        let floor = Floor::new();
        let before = tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks();

        let id = floor.start(projects.sessions()[0].clone()).await;
        assert_eq!(floor.len(), 1);
        alive_tasks_settle_at(before + 3).await;

        floor.stop(id).await;
        assert!(floor.is_empty());
        alive_tasks_settle_at(before).await;
    }
}
