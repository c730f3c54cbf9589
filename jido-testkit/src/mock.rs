//! [`MockSessionChild`]: a mockall mock of [`SessionChild`], for
//! expectation-based tests.

use async_trait::async_trait;
use jido_supervisor::Term;
use jido_supervisor::process::StartOutcome;
use jido_supervisor::tree::{ChildContext, SessionChild, TreeHandle};

mockall::mock! {
    /// A mockall mock of [`SessionChild`]: set expectations on `start` with
    /// `expect_start()`.
    ///
    /// ```
    /// use jido_supervisor::{Session, SessionSupervisor, StartError, Term};
    /// use jido_testkit::MockSessionChild;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let dir = tempfile::tempdir().unwrap();
    /// let session = Session::new(dir.path()).unwrap();
    /// let id = session.id();
    ///
    /// let mut child = MockSessionChild::new();
    /// child
    ///     .expect_start()
    ///     .withf(move |ctx| ctx.session().id() == id)
    ///     .times(1)
    ///     .returning(|_| Err(Term::msg("refused")));
    ///
    /// let supervisor = SessionSupervisor::builder().session_child(child).build();
    /// let error = supervisor.start_session(session).await.unwrap_err();
    /// assert_eq!(error, StartError::Child(Term::msg("refused")));
    /// assert!(supervisor.registry().lookup(id).is_none());
    /// # }
    /// ```
    pub SessionChild {}

    #[async_trait]
    impl SessionChild for SessionChild {
        async fn start(&self, ctx: ChildContext) -> Result<StartOutcome<TreeHandle>, Term>;
    }
}
