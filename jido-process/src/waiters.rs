//! [`Waiters`]: the tasks waiting on a process (its end, or a stop request),
//! kept under the process's own lock: a process nobody waits on carries one
//! small inline slot and no allocation, and waking them is one swap under
//! that lock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Waker;

use smallvec::SmallVec;

/// Names one waiting future, program-wide, so that it replaces its own
/// waker when polled again and removes it when dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WaiterKey(u64);

static NEXT_WAITER: AtomicU64 = AtomicU64::new(1);

impl WaiterKey {
    pub(crate) fn next() -> Self {
        WaiterKey(NEXT_WAITER.fetch_add(1, Ordering::Relaxed))
    }
}

/// The wakers of the futures waiting, one per [`WaiterKey`]. One waiter
/// (a supervisor waiting for its child, the usual case) needs no allocation.
#[derive(Default)]
pub(crate) struct Waiters(SmallVec<[(WaiterKey, Waker); 1]>);

impl Waiters {
    /// Keeps `waker` for `key`, replacing the one it kept before.
    pub(crate) fn register(&mut self, key: WaiterKey, waker: &Waker) {
        match self.0.iter_mut().find(|(kept, _)| *kept == key) {
            Some((_, kept)) => kept.clone_from(waker),
            None => self.0.push((key, waker.clone())),
        }
    }

    /// Forgets the waker of `key`, if any (its future was dropped).
    pub(crate) fn remove(&mut self, key: WaiterKey) {
        self.0.retain(|(kept, _)| *kept != key);
    }

    /// Takes every waker out, to be woken outside the lock. Each woken future
    /// checks its condition again, and registers again if it must go on
    /// waiting.
    pub(crate) fn take(&mut self) -> Waiters {
        std::mem::take(self)
    }

    /// Wakes every waiter.
    pub(crate) fn wake(self) {
        for (_, waker) in self.0 {
            waker.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    use super::*;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_waiter_registered_twice_is_woken_once_and_a_removed_one_not_at_all() {
        let counts: Vec<Arc<Count>> = (0..3)
            .map(|_| Arc::new(Count(AtomicUsize::new(0))))
            .collect();
        let wakers: Vec<Waker> = counts.iter().map(|c| Waker::from(Arc::clone(c))).collect();
        let keys = [WaiterKey::next(), WaiterKey::next(), WaiterKey::next()];
        let mut waiters = Waiters::default();
        waiters.register(keys[0], &wakers[0]);
        waiters.register(keys[0], &wakers[0]);
        waiters.register(keys[1], &wakers[1]);
        waiters.register(keys[2], &wakers[2]);
        waiters.remove(keys[2]);
        waiters.take().wake();
        let woken: Vec<usize> = counts.iter().map(|c| c.0.load(Ordering::SeqCst)).collect();
        assert_eq!(woken, [1, 1, 0]);
        assert!(waiters.0.is_empty(), "taken: nothing is left to wake");
    }
}
