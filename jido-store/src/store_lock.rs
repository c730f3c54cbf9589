//! [`StoreLock`]: one process per store directory.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Weak};

use parking_lot::{Condvar, Mutex};
use rustix::fs::{FlockOperation, flock};

/// Why a store directory could not be opened: another process holds it.
/// Two processes on one store would both open one project and both save
/// it; the second is refused instead. Carried inside the [`io::Error`] that
/// [`Persistence::in_dir`](crate::Persistence::in_dir) returns (kind
/// `WouldBlock`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the store {} is used by another process{}", dir.display(), holder.map(|pid| format!(" (pid {pid})")).unwrap_or_default())]
pub struct StoreLocked {
    /// The store directory.
    pub dir: PathBuf,
    /// The process holding it, as it wrote in the lock file.
    pub holder: Option<u32>,
}

impl StoreLocked {
    /// The [`StoreLocked`] inside `error`, if it is one.
    pub fn of(error: &io::Error) -> Option<&StoreLocked> {
        error.get_ref()?.downcast_ref::<StoreLocked>()
    }
}

/// An exclusive lock on a store directory (an OS file lock on its `.lock`
/// file), held while any handle of this process on the directory lives.
/// Handles of one process share it; another process is refused.
///
/// # Invariants
///
/// 1. [`HELD`] has an entry for a directory from the moment its lock is
///    taken until its file is closed: a dead entry (no strong handle left)
///    is a release under way in this process.
/// 2. An opener that finds a dead entry waits on [`RELEASED`] for it to go
///    instead of taking the file lock, which its own process still holds
///    until the file is closed.
pub(crate) struct StoreLock {
    dir: PathBuf,
    /// Open, locked: closing it releases the lock. `None` only in `drop`.
    file: Option<File>,
}

/// The directories this process holds, by path: shared by its handles.
static HELD: LazyLock<Mutex<HashMap<PathBuf, Weak<StoreLock>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Signalled when a lock of this process is released (its entry removed).
static RELEASED: Condvar = Condvar::new();

impl StoreLock {
    /// Locks `dir` for this process (or shares the lock this process holds).
    ///
    /// # Errors
    ///
    /// [`StoreLocked`] (kind `WouldBlock`) if another process holds it; the
    /// file system's otherwise.
    pub(crate) fn acquire(dir: &Path) -> io::Result<Arc<StoreLock>> {
        let dir = dir.canonicalize()?;
        let mut held = HELD.lock();
        while let Some(entry) = held.get(&dir) {
            if let Some(lock) = entry.upgrade() {
                return Ok(lock);
            }
            // Invariant 2: released by this process, not yet closed.
            RELEASED.wait(&mut held);
        }
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(dir.join(".lock"))?;
        if let Err(errno) = flock(&file, FlockOperation::NonBlockingLockExclusive) {
            if errno == rustix::io::Errno::WOULDBLOCK {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    StoreLocked {
                        dir,
                        holder: holder.trim().parse().ok(),
                    },
                ));
            }
            return Err(errno.into());
        }
        // Who holds it, for the next one to be told.
        file.set_len(0)?;
        file.rewind()?;
        writeln!(file, "{}", std::process::id())?;
        let lock = Arc::new(StoreLock {
            dir: dir.clone(),
            file: Some(file),
        });
        held.insert(dir, Arc::downgrade(&lock));
        Ok(lock)
    }
}

impl Drop for StoreLock {
    fn drop(&mut self) {
        // Closed first, then forgotten (invariant 1): an opener waiting on
        // the entry finds the file lock free once it is gone.
        drop(self.file.take());
        let mut held = HELD.lock();
        if held
            .get(&self.dir)
            .is_some_and(|entry| std::ptr::eq(entry.as_ptr(), self))
        {
            held.remove(&self.dir);
        }
        drop(held);
        RELEASED.notify_all();
    }
}

impl std::fmt::Debug for StoreLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreLock").field("dir", &self.dir).finish()
    }
}
