//! [`ManagerRef`]: a session's Manager, reached by name, with a typed method
//! per request.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use jido_process::{CallError, ChildRef, Pid};
use jido_session::{DirEntry, FileContent, ProjectPath, Session, SessionId};
use tokio::sync::oneshot;

use super::{Manager, ManagerError, ManagerRequest, Op};

use crate::reply_call::call_for_reply;

/// Reaches a session's [`Manager`] by name at every call, so it keeps
/// working after the Manager is restarted; calls wait through a restart,
/// within their timeout (5 s). Cheap to clone.
///
/// ```
/// use jido_supervisor::session::BoundaryError;
/// use jido_supervisor::{ManagerError, SessionSupervisor};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::create_dir(dir.path().join("src")).unwrap();
/// let supervisor = SessionSupervisor::new();
/// let id = supervisor.create_session(dir.path()).await.unwrap().id();
/// let manager = supervisor.manager(id).unwrap();
///
/// manager.write_file("src/main.rs", "fn main() {}\n").await.unwrap();
/// let content = manager.read_file("src/main.rs", 1, 100).await.unwrap();
/// assert_eq!(content.text(), "fn main() {}");
///
/// assert!(matches!(
///     manager.read_file("../outside.txt", 1, 100).await,
///     Err(ManagerError::File(_))
/// ));
/// assert!(matches!(
///     manager.validate_path(".jido_code/settings.json").await,
///     Err(ManagerError::Boundary(BoundaryError::ProtectedSettingsFile { .. }))
/// ));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ManagerRef {
    id: SessionId,
    child: ChildRef<Manager>,
}

impl ManagerRef {
    pub(crate) fn new(id: SessionId, child: ChildRef<Manager>) -> Self {
        ManagerRef { id, child }
    }

    /// The session this Manager belongs to.
    pub fn session_id(&self) -> SessionId {
        self.id
    }

    /// The Manager process running now, if any.
    pub fn pid(&self) -> Option<Pid> {
        self.child.pid()
    }

    /// The same reference, with calls that give up after `timeout`
    /// instead of the default 5 s.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.child = self.child.with_timeout(timeout);
        self
    }

    async fn call<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Op) -> Result<T, CallError> {
        call_for_reply(&self.child, |reply| ManagerRequest(Box::new(make(reply)))).await
    }

    /// The session, as the Manager sees it now (renames included).
    ///
    /// # Errors
    ///
    /// As [`ChildRef::call`].
    pub async fn session(&self) -> Result<Arc<Session>, CallError> {
        self.call(Op::Session).await
    }

    /// The session's project root (canonical).
    ///
    /// # Errors
    ///
    /// As [`ChildRef::call`].
    pub async fn project_root(&self) -> Result<ProjectPath, CallError> {
        Ok(self.session().await?.project_path().clone())
    }

    /// Resolves `path` (relative to the project root, or absolute) and
    /// returns it if it stays inside the project and is not protected
    /// (see [`ProjectBoundary::validate`](crate::session::ProjectBoundary::validate)).
    ///
    /// # Errors
    ///
    /// [`ManagerError::Boundary`] for a refused path;
    /// [`ManagerError::Call`] as [`ChildRef::call`].
    pub async fn validate_path(&self, path: impl AsRef<Path>) -> Result<PathBuf, ManagerError> {
        let path = path.as_ref().to_path_buf();
        Ok(self.call(|reply| Op::ValidatePath(path, reply)).await??)
    }

    /// Reads `limit` lines of the file at `path` from line `offset`
    /// (numbered from 1; jido_code reads from 1, [`DEFAULT_READ_LIMIT`](crate::session::DEFAULT_READ_LIMIT)
    /// lines, each cut at [`MAX_LINE_CHARS`](crate::session::MAX_LINE_CHARS)).
    ///
    /// # Errors
    ///
    /// [`ManagerError::File`] (a refused path, offset 0, no such file, a
    /// directory, an I/O error); [`ManagerError::Call`] as
    /// [`ChildRef::call`].
    pub async fn read_file(
        &self,
        path: impl AsRef<Path>,
        offset: usize,
        limit: usize,
    ) -> Result<FileContent, ManagerError> {
        let path = path.as_ref().to_path_buf();
        Ok(self
            .call(|reply| Op::ReadFile {
                path,
                offset,
                limit,
                reply,
            })
            .await??)
    }

    /// Writes `contents` to the file at `path` atomically (a temporary file
    /// in the same directory, flushed, then renamed over the old one: a
    /// reader sees the old contents or the new, never a mix). The parent
    /// directory must exist inside the project. Returns the resolved path.
    ///
    /// # Errors
    ///
    /// [`ManagerError::File`] (a refused path, a missing parent, a
    /// directory in the way, an I/O error); [`ManagerError::Call`] as
    /// [`ChildRef::call`].
    pub async fn write_file(
        &self,
        path: impl AsRef<Path>,
        contents: impl Into<Vec<u8>>,
    ) -> Result<PathBuf, ManagerError> {
        let path = path.as_ref().to_path_buf();
        let contents = contents.into();
        Ok(self
            .call(|reply| Op::WriteFile {
                path,
                contents,
                reply,
            })
            .await??)
    }

    /// The entries of the directory at `path`, by name.
    ///
    /// # Errors
    ///
    /// [`ManagerError::File`] (a refused path, no such directory, not a
    /// directory, an I/O error); [`ManagerError::Call`] as
    /// [`ChildRef::call`].
    pub async fn list_dir(&self, path: impl AsRef<Path>) -> Result<Vec<DirEntry>, ManagerError> {
        let path = path.as_ref().to_path_buf();
        Ok(self.call(|reply| Op::ListDir(path, reply)).await??)
    }
}
