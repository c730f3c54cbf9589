//! [`ManagerRequest`]: what a [`Manager`](super::Manager) is asked, made
//! only by [`ManagerRef`](super::ManagerRef).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use jido_session::{BoundaryError, DirEntry, FileContent, FileError, Session};
use tokio::sync::oneshot;

type Reply<T> = oneshot::Sender<T>;

/// One request to a [`Manager`](super::Manager). Made by the methods of
/// [`ManagerRef`](super::ManagerRef), the Manager's typed interface; its
/// contents are private so that the protocol can grow without breaking you.
///
/// One pointer wide: an idle Manager's task holds no room for the largest
/// request.
pub struct ManagerRequest(pub(crate) Box<Op>);

#[derive(Debug)]
pub(crate) enum Op {
    Session(Reply<Arc<Session>>),
    ValidatePath(PathBuf, Reply<Result<PathBuf, BoundaryError>>),
    ReadFile {
        path: PathBuf,
        offset: usize,
        limit: usize,
        reply: Reply<Result<FileContent, FileError>>,
    },
    WriteFile {
        path: PathBuf,
        contents: Vec<u8>,
        reply: Reply<Result<PathBuf, FileError>>,
    },
    ListDir(PathBuf, Reply<Result<Vec<DirEntry>, FileError>>),
}

impl fmt::Debug for ManagerRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ManagerRequest").field(&self.0).finish()
    }
}
