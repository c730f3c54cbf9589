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
/// 3. With no entry, this process holds no lock on the directory: a lock
///    file naming this process is one a child forked before the release
///    still holds (between its fork and its exec), for a moment: the
///    opener tries again, [`OWN_RELEASE_TRIES`] times at most, not holding
///    the table meanwhile. (A process of another pid namespace that has
///    this process's pid is refused after that second too.)
pub(crate) struct StoreLock {
    dir: PathBuf,
    /// Open, locked: closing it releases the lock. `None` only in `drop`.
    file: Option<File>,
    /// The sessions pinned on this directory, by any handle of this
    /// process: a pin taken through one handle holds against the cleanup
    /// of another.
    pins: Arc<crate::pins::Pins>,
}

/// The directories this process holds, by path: shared by its handles.
static HELD: LazyLock<Mutex<HashMap<PathBuf, Weak<StoreLock>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// How many times an opener tries again while a lock of this process
/// released is still held by a child just forked (invariant 3), and how
/// long it waits between tries: 1 s in all. (No notification exists for a
/// child's exec.)
const OWN_RELEASE_TRIES: u32 = 1000;
const OWN_RELEASE_PAUSE: std::time::Duration = std::time::Duration::from_millis(1);

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
        let mut tries = 0;
        while let Err(errno) = flock(&file, FlockOperation::NonBlockingLockExclusive) {
            if errno != rustix::io::Errno::WOULDBLOCK {
                return Err(errno.into());
            }
            let mut holder = String::new();
            file.rewind()?;
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim().parse().ok();
            // Invariant 3: held by this process, with no handle left, is a
            // child process forked meanwhile that has not yet replaced
            // itself (it holds a copy of the closed file until then).
            if holder == Some(std::process::id()) && tries < OWN_RELEASE_TRIES {
                tries += 1;
                // Not holding the table meanwhile: other directories'
                // locks are taken and released as usual.
                parking_lot::MutexGuard::unlocked(&mut held, || {
                    std::thread::sleep(OWN_RELEASE_PAUSE);
                });
                // Shared by now, if another handle of this process took it.
                if let Some(lock) = held.get(&dir).and_then(Weak::upgrade) {
                    return Ok(lock);
                }
                continue;
            }
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                StoreLocked { dir, holder },
            ));
        }
        // Who holds it, for the next one to be told.
        file.set_len(0)?;
        file.rewind()?;
        writeln!(file, "{}", std::process::id())?;
        let lock = Arc::new(StoreLock {
            dir: dir.clone(),
            file: Some(file),
            pins: Arc::default(),
        });
        held.insert(dir, Arc::downgrade(&lock));
        Ok(lock)
    }
}

impl StoreLock {
    /// The directory's pins, shared by this process's handles.
    pub(crate) fn pins(&self) -> Arc<crate::pins::Pins> {
        Arc::clone(&self.pins)
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
