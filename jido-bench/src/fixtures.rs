//! Real project directories, and the [`Session`]s for them, built before
//! anything is timed.

use std::io;
use std::path::{Path, PathBuf};

use jido_session::Session;
use tempfile::TempDir;

/// `count` project directories side by side in a temporary directory, with
/// one prepared [`Session`] each. Removed on drop.
pub struct Projects {
    root: TempDir,
    paths: Vec<PathBuf>,
    sessions: Vec<Session>,
}

impl Projects {
    /// Creates `root/p0 .. root/p{count-1}` and a session for each.
    ///
    /// # Panics
    ///
    /// If a directory cannot be created or a session not built.
    pub fn flat(count: usize) -> Self {
        let root = tempfile::tempdir().expect("create a temporary directory");
        let paths: Vec<PathBuf> = (0..count)
            .map(|index| {
                let path = root.path().join(format!("p{index}"));
                std::fs::create_dir(&path).expect("create a project directory");
                path
            })
            .collect();
        let sessions = paths
            .iter()
            .map(|path| Session::new(path).expect("build a session"))
            .collect();
        Projects {
            root,
            paths,
            sessions,
        }
    }

    /// The directory holding the projects.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// The project directories, as created.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// One session per project, in the order of [`paths`](Self::paths).
    pub fn sessions(&self) -> &[Session] {
        &self.sessions
    }
}

/// How many project directories each outer directory of [`NestedDirs`] holds.
pub const FANOUT: usize = 1000;

/// Many project directories, nested so that no directory holds more than
/// [`FANOUT`] entries: `root/dOOOO/pNNNNNNN`, where `N` is the project's
/// index and `O = N / FANOUT`. Every project has its own folder name (so
/// every session its own default name). Removed on drop.
pub struct NestedDirs {
    root: TempDir,
    count: usize,
}

impl NestedDirs {
    /// Creates `count` project directories in a new temporary directory
    /// under `parent`.
    ///
    /// # Errors
    ///
    /// If a directory cannot be created.
    pub fn create_in(parent: &Path, count: usize) -> io::Result<Self> {
        let root = tempfile::Builder::new()
            .prefix("jido-scale-")
            .tempdir_in(parent)?;
        let dirs = NestedDirs { root, count };
        for outer in 0..count.div_ceil(FANOUT) {
            std::fs::create_dir(dirs.outer(outer))?;
        }
        for index in 0..count {
            std::fs::create_dir(dirs.path(index))?;
        }
        Ok(dirs)
    }

    /// The directory holding them all.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// How many project directories there are.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The directory of project `index`.
    pub fn path(&self, index: usize) -> PathBuf {
        self.outer(index / FANOUT).join(format!("p{index:07}"))
    }

    fn outer(&self, outer: usize) -> PathBuf {
        self.root.path().join(format!("d{outer:04}"))
    }

    /// Removes every directory now (rather than on drop), reporting errors.
    ///
    /// # Errors
    ///
    /// If a directory cannot be removed.
    pub fn remove(self) -> io::Result<()> {
        self.root.close()
    }
}
