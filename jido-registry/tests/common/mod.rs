//! Helpers shared by the registry's integration tests: project directories,
//! and sessions with chosen timestamps.

// Each test crate uses a different subset of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use jido_session::{Session, SessionConfig, SessionId, SessionRecord};

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

/// The directory under which [`stored`] creates its projects: one per test
/// process, removed when the process ends.
fn stored_root() -> &'static Path {
    static ROOT: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    ROOT.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

/// The project directory [`stored`] uses for `path`: `path` (absolute,
/// like `/p/new`) under a temporary root, created if needed.
pub fn stored_dir(path: &str) -> PathBuf {
    let dir = stored_root().join(path.trim_start_matches('/'));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A session as restored from storage: chosen id, name, project (a
/// directory named `path` under a temporary root, created if needed) and
/// creation instant (RFC 3339), so that tests control the age order that
/// `list_all` and `lookup_by_name` follow.
pub fn stored(id: SessionId, name: &str, path: &str, created_at: &str) -> Session {
    let record: SessionRecord = serde_json::from_value(serde_json::json!({
        "id": id,
        "name": name,
        "project_path": stored_dir(path),
        "config": SessionConfig::default(),
        "created_at": created_at,
        "updated_at": created_at,
    }))
    .unwrap();
    Session::from_record(record).unwrap()
}

/// `n` fresh ids in ascending order.
pub fn sorted_ids(n: usize) -> Vec<SessionId> {
    let mut ids: Vec<SessionId> = (0..n).map(|_| SessionId::new()).collect();
    ids.sort();
    ids
}
