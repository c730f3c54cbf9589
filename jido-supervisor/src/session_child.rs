//! [`SessionChild`]: the pluggable start of one session's process tree;
//! [`ChildContext`], what it is given.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use jido_process::{StartOutcome, Term};
use jido_session::{Conversation, Session};

use crate::context::SessionContext;
use crate::events::ChildEvents;
use crate::journal::SessionJournal;
use crate::tree_handle::TreeHandle;

/// Starts one session's process tree: the analogue of the
/// `:supervisor_module` option of jido_code's `SessionSupervisor`, and the
/// one seam between the session supervisor and what runs per session.
///
/// [`SessionSupervisor`](crate::SessionSupervisor) calls `start` once per
/// [`start_session`](crate::SessionSupervisor::start_session), after the
/// session is registered. Library users plug in the real per-session tree
/// ([`SessionSup`](crate::tree::SessionSup), the default, with their own
/// children); test authors plug in the stub or a mock from `jido-testkit`.
///
/// `start` returns [`StartOutcome::Started`] with a handle to the running
/// tree, [`StartOutcome::Ignore`], or an error. A panic inside `start` is
/// turned into an error for the caller. `start` should be cancel-safe: if its
/// future is dropped, nothing it spawned may keep running.
///
/// ```
/// use jido_supervisor::async_trait; // re-exported: no dependency of your own
/// use jido_supervisor::process::{spawn_with_pid, Shutdown, StartOutcome};
/// use jido_supervisor::tree::{ChildContext, SessionChild, TreeHandle};
/// use jido_supervisor::Term;
///
/// /// One task per session that runs until asked to stop.
/// struct Sleeper;
///
/// #[async_trait]
/// impl SessionChild for Sleeper {
///     async fn start(&self, _ctx: ChildContext) -> Result<StartOutcome<TreeHandle>, Term> {
///         let pid = spawn_with_pid(|me| async move {
///             me.stop_requested().await;
///             me.stop_reason()
///         });
///         Ok(StartOutcome::Started(TreeHandle::new(pid, Shutdown::default())))
///     }
/// }
/// ```
#[async_trait]
pub trait SessionChild: Send + Sync + 'static {
    /// Starts the process tree of `ctx.session()`.
    async fn start(&self, ctx: ChildContext) -> Result<StartOutcome<TreeHandle>, Term>;
}

/// What a [`SessionChild`] is given to start a session's tree with.
#[derive(Clone)]
pub struct ChildContext {
    session: Arc<Session>,
    events: ChildEvents,
    /// The conversation a resumed session continues, and the last journal
    /// record it holds.
    restored: Option<(Arc<Conversation>, u64)>,
    /// The session's journal, if it is journaled.
    journal: Option<Arc<SessionJournal>>,
}

impl ChildContext {
    pub(crate) fn new(
        session: Arc<Session>,
        events: ChildEvents,
        restored: Option<(Arc<Conversation>, u64)>,
        journal: Option<Arc<SessionJournal>>,
    ) -> Self {
        ChildContext {
            session,
            events,
            restored,
            journal,
        }
    }

    /// The conversation the session continues, when it is resumed from a
    /// snapshot (already in [`session_context`](Self::session_context)'s
    /// store).
    pub fn restored(&self) -> Option<&Conversation> {
        self.restored
            .as_ref()
            .map(|(conversation, _)| &**conversation)
    }

    /// The registered session.
    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }

    /// Where the tree reports its children's restarts (for this session
    /// only).
    pub fn events(&self) -> &ChildEvents {
        &self.events
    }

    /// The context to start a tree's children with (see
    /// [`SupervisorSpec::start_observed`](crate::process::SupervisorSpec::start_observed)).
    ///
    /// A resumed session's context starts with the restored conversation in
    /// its [`ConversationStore`](crate::session::ConversationStore).
    pub fn session_context(&self) -> SessionContext {
        let context = SessionContext::new(
            Arc::clone(&self.session),
            self.events.clone(),
            self.journal.clone(),
        );
        if let Some((conversation, seq)) = &self.restored {
            context
                .conversation()
                .restore(Conversation::clone(conversation), *seq);
        }
        context
    }
}

impl fmt::Debug for ChildContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildContext")
            .field("session_id", &self.session.id())
            .finish()
    }
}
