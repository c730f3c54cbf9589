//! [`Pinned`]: a session's saved state kept from cleanup and the cap while
//! it is being resumed; [`Pins`], the table of them.
//!
//! # Invariants
//!
//! Of the table, whenever its lock is free:
//!
//! 1. A session is never both pinned (`count > 0`) and being deleted: a
//!    pin waits for a deletion to end, and a deletion skips what is pinned.
//! 2. A slot with no pin and no deletion is removed: the table holds only
//!    sessions in use.

use std::collections::HashMap;
use std::fmt;
use std::pin::pin;
use std::sync::Arc;

use jido_session::SessionId;
use parking_lot::Mutex;
use tokio::sync::Notify;

#[derive(Debug, Default, Clone, Copy)]
struct Slot {
    pins: usize,
    deleting: bool,
}

/// The sessions pinned, and those being deleted, of one store.
#[derive(Debug, Default)]
pub(crate) struct Pins {
    slots: Mutex<HashMap<SessionId, Slot>>,
    /// Notified when deletions end.
    deleted: Notify,
}

/// Keeps the saved state of one session — its snapshot and journal — from
/// [`Persistence::cleanup`](crate::Persistence::cleanup) and the cap on
/// saved sessions while it lives; from
/// [`Persistence::pin`](crate::Persistence::pin). Take it before loading a
/// session you mean to run again, and drop it once the session runs (a
/// running session is spared by the caller's own test). Dropping it unpins.
pub struct Pinned {
    pins: Arc<Pins>,
    id: SessionId,
}

impl fmt::Debug for Pinned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Pinned").field(&self.id).finish()
    }
}

impl Pins {
    /// Pins `id`, waiting for a deletion of it under way to end.
    pub(crate) async fn pin(self: &Arc<Self>, id: SessionId) -> Pinned {
        loop {
            let mut deleted = pin!(self.deleted.notified());
            deleted.as_mut().enable();
            {
                let mut slots = self.slots.lock();
                let slot = slots.entry(id).or_default();
                if !slot.deleting {
                    slot.pins += 1;
                    return Pinned {
                        pins: Arc::clone(self),
                        id,
                    };
                }
            }
            deleted.await;
        }
    }

    /// Marks for deletion those of `ids` that are not pinned (invariant 1)
    /// and returns them; [`Pins::deleted`] must follow with the same ids.
    pub(crate) fn start_deleting(
        &self,
        ids: impl IntoIterator<Item = SessionId>,
    ) -> Vec<SessionId> {
        let mut slots = self.slots.lock();
        let mut marked = Vec::new();
        for id in ids {
            let slot = slots.entry(id).or_default();
            // Pinned, or another deletion has it: not ours.
            if slot.pins == 0 && !slot.deleting {
                slot.deleting = true;
                marked.push(id);
            }
        }
        marked
    }

    /// Ends the deletions of `ids` and wakes the pins waiting for them.
    pub(crate) fn deleted(&self, ids: &[SessionId]) {
        {
            let mut slots = self.slots.lock();
            for id in ids {
                if let Some(slot) = slots.get_mut(id) {
                    slot.deleting = false;
                    if slot.pins == 0 {
                        slots.remove(id);
                    }
                }
            }
        }
        self.deleted.notify_waiters();
    }

    /// Whether `id` is pinned.
    #[cfg(test)]
    pub(crate) fn is_pinned(&self, id: SessionId) -> bool {
        self.slots.lock().get(&id).is_some_and(|slot| slot.pins > 0)
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        let mut slots = self.pins.slots.lock();
        if let Some(slot) = slots.get_mut(&self.id) {
            slot.pins -= 1;
            if slot.pins == 0 && !slot.deleting {
                slots.remove(&self.id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_pinned_session_is_not_deleted_and_a_pin_waits_for_a_deletion() {
        let pins = Arc::new(Pins::default());
        let (a, b) = (SessionId::new(), SessionId::new());
        let pinned = pins.pin(a).await;
        assert_eq!(pins.start_deleting([a, b]), [b]);
        assert!(pins.is_pinned(a));
        // A pin of `b` waits until its deletion ends.
        let waiting = tokio::spawn({
            let pins = Arc::clone(&pins);
            async move { pins.pin(b).await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        pins.deleted(&[b]);
        let pinned_b = waiting.await.unwrap();
        assert!(pins.is_pinned(b));
        drop((pinned, pinned_b));
        assert!(pins.slots.lock().is_empty(), "invariant 2");
    }
}
