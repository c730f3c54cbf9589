//! The Manager: a session's coordinator and the guard of its project
//! boundary, a [`Worker`] child of the default tree; [`ManagerRef`], which
//! reaches it by name; [`ManagerError`].

mod error;
mod manager_ref;
mod request;

use std::panic;
use std::sync::Arc;

use jido_process::{ChildSpec, Context, Worker};
use jido_session::ProjectBoundary;
use tokio::sync::oneshot;

use crate::context::SessionContext;

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
/// operations happen in the order they were asked for. Nothing it waits on
/// can wedge it: files are opened without blocking and refused unless they
/// are regular files (a FIFO, a socket, a device), every path is opened
/// beneath the project's directory, and a read keeps only what it returns
/// and stops as soon as its caller gives up. (A file system that itself
/// hangs — an unreachable network mount — still holds the Manager until
/// the kernel answers; the caller's call timeout then answers the caller.)
#[derive(Debug)]
pub struct Manager {
    ctx: SessionContext,
    /// Made on the first file operation: an idle session pays nothing.
    boundary: Option<Arc<ProjectBoundary>>,
}

impl Manager {
    /// A Manager for the session of `ctx`, guarding its project directory
    /// (protecting [`DEFAULT_PROTECTED`](crate::session::DEFAULT_PROTECTED)).
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

    /// Runs `work` with the boundary on the blocking pool and sends its
    /// result to `reply` from there. `work` is given a question it may ask
    /// between steps — has the caller given up (dropped its receiver)? — and
    /// answers `None` once it has, sending nothing. A panic there is the
    /// Manager's own (it crashes, and is restarted); nothing is sent if the
    /// runtime is shutting down.
    async fn answer_blocking<T: Send + 'static>(
        &mut self,
        reply: oneshot::Sender<T>,
        work: impl FnOnce(&ProjectBoundary, &dyn Fn() -> bool) -> Option<T> + Send + 'static,
    ) {
        let ctx = &self.ctx;
        let boundary = Arc::clone(self.boundary.get_or_insert_with(|| {
            Arc::new(ProjectBoundary::new(ctx.session().project_path().clone()))
        }));
        let answered = tokio::task::spawn_blocking(move || {
            if let Some(done) = work(&boundary, &|| reply.is_closed()) {
                // A caller that gave up dropped its receiver.
                let _ = reply.send(done);
            }
        })
        .await;
        if let Err(error) = answered
            && let Ok(payload) = error.try_into_panic()
        {
            panic::resume_unwind(payload);
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
                self.answer_blocking(reply, move |b, _| Some(b.validate(&path)))
                    .await;
            }
            Op::ReadFile {
                path,
                offset,
                limit,
                reply,
            } => {
                self.answer_blocking(reply, move |b, gave_up| {
                    b.read_file_until(&path, offset, limit, gave_up).transpose()
                })
                .await;
            }
            Op::WriteFile {
                path,
                contents,
                reply,
            } => {
                self.answer_blocking(reply, move |b, _| Some(b.write_file(&path, &contents)))
                    .await;
            }
            Op::ListDir(path, reply) => {
                self.answer_blocking(reply, move |b, _| Some(b.list_dir(&path)))
                    .await;
            }
        }
    }
}
