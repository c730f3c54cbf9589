//! Reading and changing the open sessions through their supervisor: the
//! registry's view, running trees, renames and config changes, and each
//! session's children by name.

use std::sync::Arc;

use jido_process::{ChildRef, Pid, Supervisor, Worker};
use jido_session::{Session, SessionConfig, SessionId, ValidationErrors};

use super::SessionSupervisor;

use crate::context::SessionContext;
use crate::core::SessionLocate;
use crate::error::UpdateError;
use crate::manager::ManagerRef;
use crate::process_key::ProcessKey;
use crate::session_handle::SessionHandle;
use crate::state::StateRef;

impl SessionSupervisor {
    /// The most sessions that may run at once.
    pub fn max_children(&self) -> usize {
        self.core.max_sessions()
    }

    /// How many trees run (started, not yet ended).
    ///
    /// ```
    /// use jido_supervisor::SessionSupervisor;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let project = tempfile::tempdir().unwrap();
    /// let supervisor = SessionSupervisor::new();
    /// assert_eq!((supervisor.count_children(), supervisor.max_children()), (0, 10));
    /// supervisor.create_session(project.path()).await.unwrap();
    /// assert_eq!(supervisor.count_children(), 1);
    /// # }
    /// ```
    pub fn count_children(&self) -> usize {
        self.core.count_running()
    }

    /// The running session `id` (jido_code's `find_session_pid`).
    pub fn find_session(&self, id: SessionId) -> Option<SessionHandle> {
        self.core.running(id)
    }

    /// Every running session, in no particular order (jido_code's
    /// `list_session_pids`).
    pub fn list_sessions(&self) -> Vec<(SessionId, SessionHandle)> {
        self.core.list_running()
    }

    /// `true` if the session's tree runs.
    pub fn session_running(&self, id: SessionId) -> bool {
        self.core.is_running(id)
    }

    /// Renames session `id` (bumping its `updated_at`); its tree sees the new
    /// name at once ([`SessionContext::session`]). A journaled session's new
    /// record is journaled before this returns.
    ///
    /// # Errors
    ///
    /// [`UpdateError::NotFound`], [`UpdateError::Invalid`] for a blank or
    /// too long name, [`UpdateError::NotJournaled`] (the session is
    /// unchanged).
    pub async fn rename_session(
        &self,
        id: SessionId,
        name: impl Into<String>,
    ) -> Result<Arc<Session>, UpdateError> {
        let name = name.into();
        self.core
            .update(id, |session| {
                session.rename(name).map_err(ValidationErrors::from)
            })
            .await
    }

    /// Replaces the LLM settings of session `id`; its tree sees them at once.
    /// A journaled session's new record is journaled before this returns.
    ///
    /// # Errors
    ///
    /// [`UpdateError::NotFound`], [`UpdateError::Invalid`] with every
    /// problem of `config`, [`UpdateError::NotJournaled`] (the session is
    /// unchanged).
    pub async fn update_session_config(
        &self,
        id: SessionId,
        config: SessionConfig,
    ) -> Result<Arc<Session>, UpdateError> {
        self.core
            .update(id, |session| session.update_config(config))
            .await
    }

    /// The supervisor of session `id`'s tree, for OTP's child management at
    /// run time (`start_child`, `terminate_child`, `restart_child`,
    /// `delete_child`, `which_children`, `count_children`). `None` if the
    /// session does not run, or its tree is not a supervisor (a stub).
    ///
    /// ```
    /// use jido_supervisor::process::{ChildSpec, SupervisorError};
    /// use jido_supervisor::tree::SessionContext;
    /// use jido_supervisor::SessionSupervisor;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let dir = tempfile::tempdir().unwrap();
    /// let supervisor = SessionSupervisor::new();
    /// let id = supervisor.create_session(dir.path()).await.unwrap().id();
    /// let tree = supervisor.tree(id).unwrap();
    ///
    /// let agent = || ChildSpec::task("agent", |_: &SessionContext, me| async move {
    ///     me.stop_requested().await;
    ///     me.stop_reason()
    /// });
    /// let pid = tree.start_child(agent()).await.unwrap().unwrap();
    /// // jido_code's start_agent → :already_started
    /// assert!(matches!(
    ///     tree.start_child(agent()).await,
    ///     Err(SupervisorError::AlreadyStarted { pid: running, .. }) if running == pid
    /// ));
    /// assert_eq!(tree.count_children().specs, 3); // manager, state, agent
    /// # }
    /// ```
    pub fn tree(&self, id: SessionId) -> Option<Supervisor<SessionContext>> {
        self.core
            .running(id)
            .and_then(|handle| handle.supervisor().cloned())
    }

    /// A reference to child `name` of session `id`'s tree, a worker of type
    /// `W`. It resolves the session and the child at every call, so it
    /// reaches whichever incarnation runs then; calls wait through a restart
    /// (within their timeout, 5 s unless set otherwise).
    ///
    /// ```
    /// use jido_supervisor::process::{ChildSpec, Context, Worker};
    /// use jido_supervisor::tree::{SessionContext, SessionSup};
    /// use jido_supervisor::SessionSupervisor;
    ///
    /// struct Echo;
    ///
    /// impl Worker for Echo {
    ///     type Request = String;
    ///     type Reply = String;
    ///     async fn handle(&mut self, text: String, _ctx: &mut Context) -> String {
    ///         text
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let tree = SessionSup::new().child(ChildSpec::worker("echo", |_: &SessionContext| Echo));
    /// let supervisor = SessionSupervisor::builder().session_child(tree).build();
    /// let dir = tempfile::tempdir().unwrap();
    /// let id = supervisor.create_session(dir.path()).await.unwrap().id();
    ///
    /// let echo = supervisor.child_ref::<Echo>(id, "echo");
    /// assert_eq!(echo.call("hi".to_string()).await.unwrap(), "hi");
    /// echo.pid().unwrap().kill(); // restarted; the reference follows
    /// assert_eq!(echo.call("again".to_string()).await.unwrap(), "again");
    /// # }
    /// ```
    pub fn child_ref<W: Worker>(&self, id: SessionId, name: &str) -> ChildRef<W> {
        ChildRef::via(
            SessionLocate {
                core: Arc::downgrade(&self.core),
                id,
            },
            name,
        )
    }

    /// The running process of child `key.child` of session `key.session_id`.
    pub fn whereis(&self, key: &ProcessKey) -> Option<Pid> {
        self.tree(key.session_id)?.whereis(&key.child)
    }

    /// The session's Manager, reached by name (it follows restarts), if the
    /// session runs a tree with one (the default tree does).
    ///
    /// ```
    /// use jido_supervisor::SessionSupervisor;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let project = tempfile::tempdir().unwrap();
    /// std::fs::write(project.path().join("notes.txt"), "one\ntwo\n").unwrap();
    /// let supervisor = SessionSupervisor::new();
    /// let id = supervisor.create_session(project.path()).await.unwrap().id();
    /// let manager = supervisor.manager(id).unwrap();
    /// let read = manager.read_file("notes.txt", 1, 10).await.unwrap();
    /// assert_eq!(read.lines, ["one", "two"]);
    /// assert!(manager.validate_path("../elsewhere").await.is_err()); // outside the project
    /// # }
    /// ```
    pub fn manager(&self, id: SessionId) -> Option<ManagerRef> {
        self.tree(id)?.whereis(crate::manager::NAME)?;
        Some(ManagerRef::new(
            id,
            self.child_ref(id, crate::manager::NAME),
        ))
    }

    /// The session's State, reached by name (it follows restarts), if the
    /// session runs a tree with one (the default tree does).
    ///
    /// ```
    /// use jido_supervisor::{Message, Role, SessionSupervisor};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let project = tempfile::tempdir().unwrap();
    /// let supervisor = SessionSupervisor::new();
    /// let id = supervisor.create_session(project.path()).await.unwrap().id();
    /// let state = supervisor.state(id).unwrap();
    /// state.append_message(Message::new(Role::User, "hello")).await.unwrap();
    /// assert_eq!(state.message_count().await.unwrap(), 1);
    /// assert!(supervisor.state(jido_supervisor::SessionId::new()).is_none()); // no such session
    /// # }
    /// ```
    pub fn state(&self, id: SessionId) -> Option<StateRef> {
        self.tree(id)?.whereis(crate::state::NAME)?;
        Some(StateRef::new(
            id,
            self.child_ref(id, crate::state::NAME),
            self.core.sessions(),
        ))
    }
}
