//! Adoption: the sessions of a node that died, resumed on a survivor.

use std::collections::HashSet;

use futures_util::StreamExt;
use jido_registry::NodeId;
use jido_session::SessionId;

use super::{PersistError, ResumeError};
use crate::EventKind;
use crate::session_handle::SessionHandle;
use crate::session_supervisor::SessionSupervisor;

/// How many orphans one adoption resumes at once.
const ADOPTING_AT_ONCE: usize = 8;

/// One session [`adopt_orphans`](SessionSupervisor::adopt_orphans) tried to
/// bring back here.
#[derive(Debug)]
#[non_exhaustive]
pub struct Adoption {
    /// The session.
    pub id: SessionId,
    /// The node that held it last, when the cluster still says so.
    pub from: Option<NodeId>,
    /// Its resume here: the session running, or why not (another node
    /// adopting it first is `Err(ResumeError::AlreadyOpen)` or a duplicate
    /// id refused by the cluster).
    pub outcome: Result<SessionHandle, ResumeError>,
}

impl SessionSupervisor {
    /// Resumes here, with every change they acknowledged, the orphans of
    /// the cluster: sessions with a journal that no live claim holds — the
    /// sessions of a node that died (its lease expired) without stopping
    /// them — oldest journal first (eight resumed at a time), `at_most` of
    /// them. Without a backend,
    /// the interrupted sessions of this node's store.
    ///
    /// Each is resumed as [`resume`](Self::resume) does, so the cluster's
    /// claim decides: of two nodes adopting one session, one gets it and
    /// the other is refused, never two owners. Each one adopted is
    /// announced by [`EventKind::Adopted`] (after its `Started`). A session
    /// stopped gracefully with [`save_on_stop`](crate::SessionSupervisorBuilder::save_on_stop)
    /// (saved, its journal cut) is no orphan: it waits for `resume`.
    /// Without `save_on_stop` a stop leaves its journal, and the session
    /// counts as interrupted — listed so by `list_resumable`, and adopted.
    ///
    /// ```
    /// use jido_registry::MemoryCluster;
    /// use jido_supervisor::{Message, Persistence, Role, SessionSupervisor};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (project, store) = (tempfile::tempdir()?, tempfile::tempdir()?);
    /// let cluster = MemoryCluster::new();
    /// let (dying, survivor) = (cluster.join(), cluster.join());
    /// let persistence = Persistence::in_dir(store.path())?; // one store for both, here
    /// let node = |backend| {
    ///     SessionSupervisor::builder().backend(backend).persistence(persistence.clone()).build()
    /// };
    /// let (a, b) = (node(dying.clone()), node(survivor));
    /// let id = a.create_session(project.path()).await?.id();
    /// a.state(id).unwrap().append_message(Message::new(Role::User, "hello")).await?;
    /// drop(a); // the node dies: nothing stopped, nothing saved...
    /// dying.lose_lease(); // ...and its lease runs out
    ///
    /// let adopted = b.adopt_orphans(10).await?;
    /// assert_eq!(adopted[0].id, id);
    /// assert_eq!(b.state(id).unwrap().message_count().await?, 1);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`PersistError::NotConfigured`] without persistence;
    /// [`PersistError::Store`] if the journals cannot be listed;
    /// [`PersistError::Backend`] if the cluster's claims cannot be.
    pub async fn adopt_orphans(&self, at_most: usize) -> Result<Vec<Adoption>, PersistError> {
        let persistence = self.persistence().ok_or(PersistError::NotConfigured)?;
        let Some(journal) = persistence.journal() else {
            return Ok(Vec::new());
        };
        let live: HashSet<SessionId> = self
            .list_cluster()
            .await
            .map_err(PersistError::Backend)?
            .into_iter()
            .map(|placement| placement.id)
            .collect();
        let registry = self.registry();
        let mut orphans = Vec::new();
        for id in journal.list().await? {
            if live.contains(&id) || registry.contains(id) {
                continue;
            }
            let written = journal.last_written(id).await?;
            orphans.push((written, id));
        }
        orphans.sort();
        orphans.truncate(at_most);
        // Who held them, asked before any is claimed here: a claim sweeps
        // the lapsed claims the answers come from.
        let owners = orphans.into_iter().map(|(_, id)| async move {
            let from = match &self.core.cluster {
                Some(cluster) => match cluster.backend().last_owner(id).await {
                    Ok(owner) => owner,
                    Err(error) => {
                        tracing::warn!(%id, %error, "could not ask who held an orphan last");
                        None
                    }
                },
                None => None,
            };
            (id, from)
        });
        let owned: Vec<(SessionId, Option<NodeId>)> = futures_util::stream::iter(owners)
            .buffered(ADOPTING_AT_ONCE)
            .collect()
            .await;
        // A few at a time: each is a handful of round trips to the store
        // and the cluster, and the others need not wait for them.
        let resumes = owned.into_iter().map(|(id, from)| async move {
            let outcome = self.resume(id).await;
            (id, from, outcome)
        });
        let mut resumed = futures_util::stream::iter(resumes).buffer_unordered(ADOPTING_AT_ONCE);
        let mut adoptions = Vec::new();
        while let Some((id, from, outcome)) = resumed.next().await {
            match &outcome {
                Ok(_) => {
                    tracing::info!(%id, ?from, "adopted a session");
                    self.core.events().emit(id, EventKind::Adopted { from });
                }
                Err(ResumeError::Load(jido_store::LoadError::NotFound { .. })) => {
                    // Nothing acknowledged: a journal with no change.
                    continue;
                }
                Err(error) => tracing::debug!(%id, %error, "did not adopt a session"),
            }
            adoptions.push(Adoption { id, from, outcome });
        }
        Ok(adoptions)
    }
}
