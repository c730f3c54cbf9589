//! [`SessionChild`]: the pluggable start of one session's process tree;
//! [`ChildContext`], what it is given; [`TreeHandle`], what it returns.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use jido_session::{Conversation, Session};

use crate::{
    ChildEvents, ExitReason, Pid, SessionContext, Shutdown, StartOutcome, Supervisor, Term,
};

/// Starts one session's process tree: the analogue of the
/// `:supervisor_module` option of jido_code's `SessionSupervisor`, and the
/// one seam between the session supervisor and what runs per session.
///
/// [`SessionSupervisor`](crate::SessionSupervisor) calls `start` once per
/// [`start_session`](crate::SessionSupervisor::start_session), after the
/// session is registered. Library users plug in the real per-session tree
/// ([`SessionSup`](crate::SessionSup), the default, with their own
/// children); test authors plug in the stub or a mock from `jido-testkit`.
///
/// `start` returns [`StartOutcome::Started`] with a handle to the running
/// tree, [`StartOutcome::Ignore`], or an error. A panic inside `start` is
/// turned into an error for the caller. `start` should be cancel-safe: if its
/// future is dropped, nothing it spawned may keep running.
///
/// ```
/// use async_trait::async_trait;
/// use jido_supervisor::{spawn_with_pid, ChildContext, SessionChild, Shutdown, StartOutcome, Term, TreeHandle};
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
    /// The conversation a resumed session continues.
    restored: Option<Arc<Conversation>>,
}

impl ChildContext {
    pub(crate) fn new(
        session: Arc<Session>,
        events: ChildEvents,
        restored: Option<Arc<Conversation>>,
    ) -> Self {
        ChildContext {
            session,
            events,
            restored,
        }
    }

    /// The conversation the session continues, when it is resumed from a
    /// snapshot (already in [`session_context`](Self::session_context)'s
    /// store).
    pub fn restored(&self) -> Option<&Conversation> {
        self.restored.as_deref()
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
    /// [`SupervisorSpec::start_observed`](crate::SupervisorSpec::start_observed)).
    ///
    /// A resumed session's context starts with the restored conversation in
    /// its [`ConversationStore`](crate::ConversationStore).
    pub fn session_context(&self) -> SessionContext {
        let context = SessionContext::new(Arc::clone(&self.session), self.events.clone());
        if let Some(conversation) = &self.restored {
            context
                .conversation()
                .replace(Conversation::clone(conversation));
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

/// A running session tree, as a [`SessionChild`] returns it: the tree's top
/// process and how to terminate it, and, for a tree that is a
/// [`Supervisor`], its handle (through which the session supervisor reaches
/// the tree's children by name). Clones name the same tree.
#[derive(Clone)]
pub struct TreeHandle {
    pid: Pid,
    shutdown: Shutdown,
    supervisor: Option<Supervisor<SessionContext>>,
}

impl TreeHandle {
    /// A tree that is the process `pid`, terminated by `shutdown`. The
    /// process is expected to end when asked to (it watches
    /// [`Pid::stop_requested`]); with [`Shutdown::Timeout`] it is killed if it
    /// does not.
    pub fn new(pid: Pid, shutdown: Shutdown) -> Self {
        TreeHandle {
            pid,
            shutdown,
            supervisor: None,
        }
    }

    /// A tree that is `supervisor`, terminated by `shutdown` (usually
    /// [`Shutdown::Infinity`]: a supervisor's children have their own
    /// timeouts).
    pub fn supervisor(supervisor: Supervisor<SessionContext>, shutdown: Shutdown) -> Self {
        TreeHandle {
            pid: supervisor.pid().clone(),
            shutdown,
            supervisor: Some(supervisor),
        }
    }

    /// The tree's top process.
    pub fn pid(&self) -> &Pid {
        &self.pid
    }

    /// How the tree is terminated.
    pub fn shutdown_policy(&self) -> Shutdown {
        self.shutdown
    }

    /// The tree's supervisor, if it is one.
    pub fn tree(&self) -> Option<&Supervisor<SessionContext>> {
        self.supervisor.as_ref()
    }

    /// `true` until the tree's top process has ended (or was killed).
    pub fn is_alive(&self) -> bool {
        self.pid.is_alive()
    }

    /// Waits for the tree to end, and says why it ended.
    pub async fn wait(&self) -> ExitReason {
        self.pid.wait().await
    }
}

impl PartialEq for TreeHandle {
    fn eq(&self, other: &Self) -> bool {
        self.pid == other.pid
    }
}

impl Eq for TreeHandle {}

impl fmt::Debug for TreeHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TreeHandle")
            .field("pid", &self.pid)
            .field("shutdown", &self.shutdown)
            .field("supervisor", &self.supervisor.is_some())
            .finish()
    }
}
