//! [`KameoSessions`]: the session tree as kameo 0.22 actors, beside ractor
//! (issue 23: "an actor with two linked children, named, as ractor's").
//!
//! Start: `Actor::spawn` of a session actor whose `on_start` spawns two
//! children linked to it (`spawn_link`: the Manager, which holds the
//! session, and the State), registers all three by name (`session-N`,
//! `manager-N`, `state-N`, as jido-supervisor registers its three tasks),
//! and waits for both children's start; the caller waits for the session
//! actor's (`wait_for_startup`). Stop: `stop_gracefully` and
//! `wait_for_shutdown_result` (`wait_for_shutdown` returns when the mailbox
//! closes, before `on_stop` has run); the session actor's `on_stop` stops its children
//! and waits for them (kameo does not stop a linked actor whose link ended
//! normally), so the stop returns when all three have ended. (kameo frees
//! an actor's name as its task ends, just after its shutdown result is
//! set; the names are unique, so nothing waits on that.)

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use jido_session::Session;
use kameo::Actor;
use kameo::actor::{ActorRef, Spawn, WeakActorRef};
use kameo::error::ActorStopReason;

use crate::Contender;

/// Unique suffixes for actor names, shared by every [`KameoSessions`].
static NEXT_NAME: AtomicU64 = AtomicU64::new(0);

/// Starts and stops session trees made of kameo actors. Holds nothing:
/// kameo's global registry holds the names.
#[derive(Clone, Copy, Debug, Default)]
pub struct KameoSessions;

/// The top of a session's tree: holds the session and its two children.
pub struct SessionActor {
    _session: Arc<Session>,
    manager: ActorRef<ManagerActor>,
    state: ActorRef<StateActor>,
}

/// The Manager child: holds the session.
pub struct ManagerActor {
    _session: Arc<Session>,
}

/// The State child: holds nothing yet.
pub struct StateActor;

impl Actor for SessionActor {
    type Args = (Session, u64);
    type Error = Infallible;

    async fn on_start(
        (session, number): (Session, u64),
        me: ActorRef<Self>,
    ) -> Result<Self, Infallible> {
        let session = Arc::new(session);
        let manager = ManagerActor::spawn_link(
            &me,
            ManagerActor {
                _session: Arc::clone(&session),
            },
        )
        .await;
        let state = StateActor::spawn_link(&me, StateActor).await;
        for (name, registered) in [
            (
                format!("session-{number}"),
                me.register(format!("session-{number}")),
            ),
            (
                format!("manager-{number}"),
                manager.register(format!("manager-{number}")),
            ),
            (
                format!("state-{number}"),
                state.register(format!("state-{number}")),
            ),
        ] {
            if let Err(error) = registered {
                panic!("kameo could not register {name}: {error}");
            }
        }
        manager.wait_for_startup().await;
        state.wait_for_startup().await;
        Ok(SessionActor {
            _session: session,
            manager,
            state,
        })
    }

    async fn on_stop(
        &mut self,
        _me: WeakActorRef<Self>,
        _reason: ActorStopReason,
    ) -> Result<(), Infallible> {
        // Both asked at once, then both waited for.
        let _ = self.manager.stop_gracefully().await;
        let _ = self.state.stop_gracefully().await;
        let _ = self.manager.wait_for_shutdown_result().await;
        let _ = self.state.wait_for_shutdown_result().await;
        Ok(())
    }
}

impl Actor for ManagerActor {
    type Args = Self;
    type Error = Infallible;

    async fn on_start(manager: Self, _me: ActorRef<Self>) -> Result<Self, Infallible> {
        Ok(manager)
    }
}

impl Actor for StateActor {
    type Args = Self;
    type Error = Infallible;

    async fn on_start(state: Self, _me: ActorRef<Self>) -> Result<Self, Infallible> {
        Ok(state)
    }
}

impl Contender for KameoSessions {
    type Running = ActorRef<SessionActor>;

    async fn start(&self, session: Session) -> ActorRef<SessionActor> {
        let number = NEXT_NAME.fetch_add(1, Ordering::Relaxed);
        let actor = SessionActor::spawn((session, number));
        actor.wait_for_startup().await;
        actor
    }

    async fn stop(&self, actor: ActorRef<SessionActor>) {
        if let Err(error) = actor.stop_gracefully().await {
            panic!("kameo session actor could not be stopped: {error}");
        }
        // Not `wait_for_shutdown`: it returns once the mailbox is closed,
        // before `on_stop` (which stops the children) has run.
        if let Err(error) = actor.wait_for_shutdown_result().await {
            panic!("kameo session actor failed to stop: {error}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::Projects;
    use crate::test_support::alive_tasks_settle_at;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn start_names_three_linked_actors_and_stop_ends_them_all() {
        let projects = Projects::flat(1);
        let sessions = KameoSessions;
        let before = tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks();

        let tree = sessions.start(projects.sessions()[0].clone()).await;
        let n = NEXT_NAME.load(Ordering::Relaxed) - 1;
        let manager = ActorRef::<ManagerActor>::lookup(format!("manager-{n}").as_str())
            .unwrap()
            .expect("the manager is registered");
        let state = ActorRef::<StateActor>::lookup(format!("state-{n}").as_str())
            .unwrap()
            .expect("the state is registered");
        assert!(manager.is_alive() && state.is_alive());

        sessions.stop(tree).await;
        assert!(!manager.is_alive() && !state.is_alive());
        alive_tasks_settle_at(before).await;
    }
}
