//! Helpers shared by the registry's integration tests: project directories,
//! sessions with chosen timestamps, and processes that end on cue.

// Each test crate uses a different subset of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jido_registry::{ExitReason, Pid, spawn};
use jido_session::{Session, SessionConfig, SessionId};
use tokio::sync::oneshot;

/// A temporary directory holding project directories; removed on drop.
pub struct Projects {
    root: tempfile::TempDir,
}

impl Projects {
    /// A fresh, empty temporary directory.
    pub fn new() -> Self {
        Projects {
            root: tempfile::tempdir().unwrap(),
        }
    }

    /// The temporary directory itself.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// Creates (if needed) the project directory `name` and returns its path.
    pub fn dir(&self, name: &str) -> PathBuf {
        let path = self.root.path().join(name);
        std::fs::create_dir_all(&path).unwrap();
        path
    }

    /// Creates `n` project directories `p0`, `p1`, … and returns their paths.
    pub fn dirs(&self, n: usize) -> Vec<PathBuf> {
        (0..n).map(|i| self.dir(&format!("p{i}"))).collect()
    }
}

/// A new session on the existing directory `path`.
pub fn session(path: impl AsRef<Path>) -> Session {
    Session::new(path).unwrap()
}

/// A new session on `path` named `name`.
pub fn named(path: impl AsRef<Path>, name: &str) -> Session {
    Session::builder(path).name(name).build().unwrap()
}

/// A new session on `path` with the id `id`.
pub fn with_id(path: impl AsRef<Path>, id: SessionId) -> Session {
    Session::builder(path).id(id).build().unwrap()
}

/// A session as restored from storage: chosen id, name, project path (which
/// need not exist) and creation instant (RFC 3339), so that tests control the
/// age order that `list_all` and `lookup_by_name` follow.
pub fn stored(id: SessionId, name: &str, path: &str, created_at: &str) -> Session {
    serde_json::from_value(serde_json::json!({
        "id": id,
        "name": name,
        "project_path": path,
        "config": SessionConfig::default(),
        "created_at": created_at,
        "updated_at": created_at,
    }))
    .unwrap()
}

/// `n` fresh ids in ascending order.
pub fn sorted_ids(n: usize) -> Vec<SessionId> {
    let mut ids: Vec<SessionId> = (0..n).map(|_| SessionId::new()).collect();
    ids.sort();
    ids
}

/// A value whose strong count tells whether a registry still holds a clone
/// of it (that is, whether the entry was really removed, not only hidden).
pub type Token = Arc<()>;

/// A new [`Token`].
pub fn token() -> Token {
    Arc::new(())
}

/// Spawns a process that waits for the returned sender to fire (or be
/// dropped), then ends with whatever `end` returns — or panics, if `end` does.
pub fn gated<F>(end: F) -> (Pid, oneshot::Sender<()>)
where
    F: FnOnce() -> ExitReason + Send + 'static,
{
    let (go, gate) = oneshot::channel();
    let pid = spawn(async move {
        let _ = gate.await;
        end()
    });
    (pid, go)
}

/// Spawns a process that never ends on its own.
pub fn forever() -> Pid {
    spawn(std::future::pending())
}
