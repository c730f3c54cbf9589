//! The Manager: a session's coordinator and the guard of its project
//! boundary, a [`Worker`] child of the default tree; [`ManagerRef`], which
//! reaches it by name; [`ManagerError`].

mod error;
mod manager_ref;
mod request;

use std::panic;
use std::sync::Arc;

use jido_session::ProjectBoundary;

use crate::{ChildSpec, Context, SessionContext, Worker};

pub use error::ManagerError;
pub use manager_ref::ManagerRef;
pub use request::ManagerRequest;

use request::Op;

/// The Manager's name in its session's tree.
pub const NAME: &str = "manager";

/// A session's coordinator (jido_code's `Session.Manager`): it answers for
/// its session as it is now (renames and config changes made through the
/// supervisor included), and guards the session's project boundary: paths
/// are resolved against the project root and refused when they leave it
/// (by `..`, as absolute paths elsewhere, through symlinks) or name the
/// project's settings file, and file operations run only inside it. An
/// ordinary [`Worker`], started by [`Manager::spec`] like any user child;
/// reached through [`ManagerRef`].
///
/// File system work runs on tokio's blocking pool
/// ([`spawn_blocking`](tokio::task::spawn_blocking)), never on the async
/// workers; the Manager handles one request at a time, so a session's file
/// operations happen in the order they were asked for.
#[derive(Debug)]
pub struct Manager {
    ctx: SessionContext,
    /// Made on the first file operation: an idle session pays nothing.
    boundary: Option<Arc<ProjectBoundary>>,
}

impl Manager {
    /// A Manager for the session of `ctx`, guarding its project directory
    /// (protecting [`DEFAULT_PROTECTED`](crate::DEFAULT_PROTECTED)).
    pub fn new(ctx: SessionContext) -> Self {
        Manager {
            ctx,
            boundary: None,
        }
    }

    /// A Manager for the session of `ctx`, guarding `boundary`.
    pub fn with_boundary(ctx: SessionContext, boundary: ProjectBoundary) -> Self {
        Manager {
            ctx,
            boundary: Some(Arc::new(boundary)),
        }
    }

    /// The Manager child, named `"manager"`: permanent, 5 s shutdown.
    pub fn spec() -> ChildSpec<SessionContext> {
        ChildSpec::worker(NAME, |ctx: &SessionContext| Manager::new(ctx.clone()))
    }

    /// Runs `work` with the boundary on the blocking pool. A panic there is
    /// the Manager's own (it crashes, and is restarted); `None` if the
    /// runtime is shutting down.
    async fn blocking<T: Send + 'static>(
        &mut self,
        work: impl FnOnce(&ProjectBoundary) -> T + Send + 'static,
    ) -> Option<T> {
        let ctx = &self.ctx;
        let boundary = Arc::clone(self.boundary.get_or_insert_with(|| {
            Arc::new(ProjectBoundary::new(ctx.session().project_path().clone()))
        }));
        match tokio::task::spawn_blocking(move || work(&boundary)).await {
            Ok(done) => Some(done),
            Err(error) => match error.try_into_panic() {
                Ok(payload) => panic::resume_unwind(payload),
                Err(_cancelled) => None,
            },
        }
    }
}

impl Worker for Manager {
    type Request = ManagerRequest;
    type Reply = ();

    async fn handle(&mut self, request: ManagerRequest, _ctx: &mut Context) {
        // A caller that gave up dropped its receiver; the sends are ignored.
        match *request.0 {
            Op::Session(reply) => {
                let _ = reply.send(self.ctx.session());
            }
            Op::ValidatePath(path, reply) => {
                if let Some(done) = self.blocking(move |b| b.validate(&path)).await {
                    let _ = reply.send(done);
                }
            }
            Op::ReadFile {
                path,
                offset,
                limit,
                reply,
            } => {
                let read = move |b: &ProjectBoundary| b.read_file(&path, offset, limit);
                if let Some(done) = self.blocking(read).await {
                    let _ = reply.send(done);
                }
            }
            Op::WriteFile {
                path,
                contents,
                reply,
            } => {
                let write = move |b: &ProjectBoundary| b.write_file(&path, &contents);
                if let Some(done) = self.blocking(write).await {
                    let _ = reply.send(done);
                }
            }
            Op::ListDir(path, reply) => {
                if let Some(done) = self.blocking(move |b| b.list_dir(&path)).await {
                    let _ = reply.send(done);
                }
            }
        }
    }
}
