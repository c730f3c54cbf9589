//! [`SaveLocks`]: one save of a session at a time.

use std::collections::HashMap;
use std::sync::Arc;

use jido_session::SessionId;
use parking_lot::Mutex;
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// A lock per session being saved; entries live only while someone holds or
/// waits for them.
#[derive(Default)]
pub(crate) struct SaveLocks {
    locks: Mutex<HashMap<SessionId, Arc<AsyncMutex<()>>>>,
}

/// Holds the save lock of one session; dropping it releases the lock and
/// forgets it when nobody else wants it.
pub(crate) struct SaveGuard<'a> {
    locks: &'a SaveLocks,
    id: SessionId,
    lock: Arc<AsyncMutex<()>>,
    guard: Option<OwnedMutexGuard<()>>,
}

impl SaveLocks {
    fn entry(&self, id: SessionId) -> Arc<AsyncMutex<()>> {
        Arc::clone(self.locks.lock().entry(id).or_default())
    }

    /// Waits for the save lock of session `id`.
    pub(crate) async fn lock(&self, id: SessionId) -> SaveGuard<'_> {
        let lock = self.entry(id);
        let guard = Arc::clone(&lock).lock_owned().await;
        SaveGuard {
            locks: self,
            id,
            lock,
            guard: Some(guard),
        }
    }

    /// The save lock of session `id`, or `None` if a save holds it.
    pub(crate) fn try_lock(&self, id: SessionId) -> Option<SaveGuard<'_>> {
        let lock = self.entry(id);
        let guard = Arc::clone(&lock).try_lock_owned().ok();
        let mut save = SaveGuard {
            locks: self,
            id,
            lock,
            guard: None,
        };
        save.guard = Some(guard?);
        Some(save)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.locks.lock().len()
    }
}

impl Drop for SaveGuard<'_> {
    fn drop(&mut self) {
        self.guard = None;
        let mut locks = self.locks.locks.lock();
        // The map's reference and ours: nobody else holds or waits.
        if Arc::strong_count(&self.lock) == 2 {
            locks.remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_save_waits_or_is_told_and_entries_go_with_their_last_user() {
        let locks = SaveLocks::default();
        let id = SessionId::new();
        let first = locks.try_lock(id).unwrap();
        assert!(locks.try_lock(id).is_none());
        assert_eq!(locks.len(), 1);
        drop(first);
        assert_eq!(locks.len(), 0);
        let again = locks.lock(id).await;
        drop(again);
        assert_eq!(locks.len(), 0);
    }
}
