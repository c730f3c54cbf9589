//! [`RactorSessions`]: the session tree as ractor 0.16 actors — the
//! established actor library jido-supervisor is compared with.
//!
//! Start: `Actor::spawn` of a named session actor whose `pre_start` spawns
//! two linked, named children (the Manager, which holds the session, and the
//! State) with `spawn_linked`; `spawn` returns once `pre_start` (and so both
//! children's start) has finished. All three are named, as jido-supervisor
//! registers all three of its tasks by name; names are unique
//! (`session-N`, `manager-N`, `state-N`, with `N` from a global counter).
//! Stop: `actor.stop(None)` and await the join handle; the session actor's
//! `post_stop` stops its children and waits for them (ractor does not stop
//! the children of a stopping actor by itself), so the join handle resolves
//! when all three have ended and their names are free.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use jido_session::Session;
use ractor::concurrency::JoinHandle;
use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};

use crate::Contender;

/// Unique suffixes for actor names, shared by every [`RactorSessions`].
static NEXT_NAME: AtomicU64 = AtomicU64::new(0);

/// Starts and stops session trees made of ractor actors. Holds nothing:
/// ractor's global name registry is the map.
#[derive(Clone, Copy, Debug, Default)]
pub struct RactorSessions;

/// A running tree: the session actor and its join handle.
pub struct RactorTree {
    /// The session actor.
    pub actor: ActorRef<()>,
    /// Resolves when the session actor (and, through its `post_stop`, both
    /// children) has ended.
    pub join: JoinHandle<()>,
    /// The `N` of the actors' names.
    pub number: u64,
}

/// The top of a session's tree: spawns and links the two children.
struct SessionActor;

/// The Manager child: holds the session.
struct ManagerActor;

/// The State child: holds nothing yet.
struct StateActor;

impl Actor for SessionActor {
    type Msg = ();
    type State = Arc<Session>;
    type Arguments = (Session, u64);

    async fn pre_start(
        &self,
        myself: ActorRef<()>,
        (session, number): (Session, u64),
    ) -> Result<Arc<Session>, ActorProcessingErr> {
        let session = Arc::new(session);
        Actor::spawn_linked(
            Some(format!("manager-{number}")),
            ManagerActor,
            Arc::clone(&session),
            myself.get_cell(),
        )
        .await?;
        Actor::spawn_linked(
            Some(format!("state-{number}")),
            StateActor,
            (),
            myself.get_cell(),
        )
        .await?;
        Ok(session)
    }

    async fn post_stop(
        &self,
        myself: ActorRef<()>,
        _state: &mut Arc<Session>,
    ) -> Result<(), ActorProcessingErr> {
        myself.stop_children_and_wait(None, None).await;
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        _myself: ActorRef<()>,
        _event: SupervisionEvent,
        _state: &mut Arc<Session>,
    ) -> Result<(), ActorProcessingErr> {
        // A child's end does not end the tree (ractor's default would stop
        // it); restarting is not part of this baseline.
        Ok(())
    }
}

impl Actor for ManagerActor {
    type Msg = ();
    type State = Arc<Session>;
    type Arguments = Arc<Session>;

    async fn pre_start(
        &self,
        _myself: ActorRef<()>,
        session: Arc<Session>,
    ) -> Result<Arc<Session>, ActorProcessingErr> {
        Ok(session)
    }
}

impl Actor for StateActor {
    type Msg = ();
    type State = ();
    type Arguments = ();

    async fn pre_start(&self, _myself: ActorRef<()>, (): ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }
}

impl Contender for RactorSessions {
    type Running = RactorTree;

    async fn start(&self, session: Session) -> RactorTree {
        let number = NEXT_NAME.fetch_add(1, Ordering::Relaxed);
        match Actor::spawn(
            Some(format!("session-{number}")),
            SessionActor,
            (session, number),
        )
        .await
        {
            Ok((actor, join)) => RactorTree {
                actor,
                join,
                number,
            },
            Err(error) => panic!("ractor spawn failed: {error}"),
        }
    }

    async fn stop(&self, tree: RactorTree) {
        tree.actor.stop(None);
        if let Err(error) = tree.join.await {
            panic!("ractor session actor failed: {error}");
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
        let _names = crate::test_support::RACTOR_NAMES.lock().await;
        let projects = Projects::flat(1);
        let sessions = RactorSessions;
        let before = tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks();

        let tree = sessions.start(projects.sessions()[0].clone()).await;
        let n = tree.number;
        let names = [
            format!("session-{n}"),
            format!("manager-{n}"),
            format!("state-{n}"),
        ];
        for name in &names {
            assert!(ractor::registry::where_is(name).is_some(), "{name}");
        }
        assert_eq!(tree.actor.get_children().len(), 2);
        let children = tree.actor.get_children();

        sessions.stop(tree).await;
        for name in &names {
            assert!(ractor::registry::where_is(name).is_none(), "{name}");
        }
        for child in children {
            assert_eq!(child.get_status(), ractor::ActorStatus::Stopped);
        }
        alive_tasks_settle_at(before).await;
    }
}
