//! [`ProcessRegistry`]: unique keys naming live processes.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::{Arc, Weak};

use foldhash::fast::RandomState;
use parking_lot::RwLock;

use crate::{MonitorRef, Pid, RegisterError};

/// Unique keys naming live processes: the analogue of Elixir's
/// `Registry` with `keys: :unique`.
///
/// Each key maps to the [`Pid`] that owns it and a value `V` (a mailbox
/// sender, say). An entry is removed automatically when its owner ends —
/// normally, by error, by panic, or by abort — and a key whose owner is dead
/// (or [killed](Pid::kill)) can be taken again at once, without waiting for
/// that cleanup. Lookups never return a dead owner.
///
/// Cloning is cheap: clones share one registry.
///
/// ```
/// use jido_process::{spawn, ExitReason, ProcessRegistry, RegisterError};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let names: ProcessRegistry<&'static str> = ProcessRegistry::new();
/// let worker = spawn(std::future::pending());
/// names.register("worker", &worker, ()).unwrap();
/// assert_eq!(names.whereis(&"worker"), Some(worker.clone()));
///
/// // The key is unique: a second owner is told who holds it.
/// let other = spawn(std::future::pending());
/// match names.register("worker", &other, ()) {
///     Err(RegisterError::Taken { owner, .. }) => assert_eq!(owner, worker),
///     other => panic!("expected Taken, got {other:?}"),
/// }
///
/// // When the owner ends, the key is free again.
/// worker.kill();
/// names.register("worker", &other, ()).unwrap();
/// assert_eq!(names.whereis(&"worker"), Some(other));
/// # }
/// ```
pub struct ProcessRegistry<K, V = ()> {
    inner: Arc<Inner<K, V>>,
}

struct Inner<K, V> {
    map: RwLock<HashMap<K, Entry<V>, RandomState>>,
}

struct Entry<V> {
    owner: Pid,
    monitor: MonitorRef,
    value: V,
}

impl<K, V> Clone for ProcessRegistry<K, V> {
    fn clone(&self) -> Self {
        ProcessRegistry {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<K, V> Default for ProcessRegistry<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn default() -> Self {
        Self::new()
    }
}

impl<K, V> fmt::Debug for ProcessRegistry<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessRegistry")
            .field("len", &self.inner.map.read().len())
            .finish()
    }
}

impl<K, V> ProcessRegistry<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// An empty registry.
    pub fn new() -> Self {
        ProcessRegistry {
            inner: Arc::new(Inner {
                map: RwLock::new(HashMap::default()),
            }),
        }
    }

    /// Registers `key` to `owner`, with `value`.
    ///
    /// Fails with [`RegisterError::Taken`], naming the current owner, when a
    /// live process holds the key, and with [`RegisterError::OwnerExited`]
    /// when `owner` itself is no longer alive. The check and the insert happen
    /// under one lock: of many concurrent registrations of one key, exactly one
    /// succeeds.
    ///
    /// ```
    /// use jido_process::{spawn_with_pid, ExitReason, ProcessRegistry};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let names: ProcessRegistry<String, u32> = ProcessRegistry::new();
    /// let (tx, rx) = tokio::sync::oneshot::channel();
    /// let names2 = names.clone();
    /// // A process registers itself, then panics: its key goes with it.
    /// let pid = spawn_with_pid(move |me| async move {
    ///     names2.register("job".to_string(), &me, 7).unwrap();
    ///     tx.send(()).unwrap();
    ///     panic!("boom");
    /// });
    /// rx.await.unwrap();
    /// assert!(matches!(pid.wait().await, ExitReason::Panic(_)));
    /// assert_eq!(names.lookup(&"job".to_string()), None);
    /// # }
    /// ```
    pub fn register(&self, key: K, owner: &Pid, value: V) -> Result<(), RegisterError<K>> {
        let mut map = self.inner.map.write();
        if let Some(current) = map.get(&key)
            && current.owner.is_alive()
        {
            return Err(RegisterError::Taken {
                key,
                owner: current.owner.clone(),
            });
        }
        let weak: Weak<Inner<K, V>> = Arc::downgrade(&self.inner);
        let hook_key = key.clone();
        let hook = Box::new(move |pid: &Pid, _: &crate::ExitReason| {
            if let Some(inner) = weak.upgrade() {
                inner.remove_if_owned(&hook_key, pid);
            }
        });
        // The pid's lock is taken inside the map's lock; an exiting pid runs
        // this hook (which takes the map's lock) only after releasing its own,
        // so the two never wait on each other.
        let monitor = match owner.on_exit(hook) {
            Ok(monitor) => monitor,
            Err(_) => return Err(RegisterError::OwnerExited { key }),
        };
        if let Some(replaced) = map.insert(
            key,
            Entry {
                owner: owner.clone(),
                monitor,
                value,
            },
        ) {
            replaced.owner.demonitor(replaced.monitor);
        }
        Ok(())
    }

    /// Removes `key` if `owner` holds it (the analogue of `Registry.unregister/2`,
    /// which only ever removes the caller's own keys). Returns whether it did.
    pub fn unregister(&self, key: &K, owner: &Pid) -> bool {
        let removed = {
            let mut map = self.inner.map.write();
            match map.get(key) {
                Some(entry) if entry.owner == *owner => map.remove(key),
                _ => None,
            }
        };
        match removed {
            Some(entry) => {
                entry.owner.demonitor(entry.monitor);
                true
            }
            None => false,
        }
    }

    /// The live owner of `key` and its value.
    pub fn lookup(&self, key: &K) -> Option<(Pid, V)> {
        let map = self.inner.map.read();
        map.get(key)
            .filter(|entry| entry.owner.is_alive())
            .map(|entry| (entry.owner.clone(), entry.value.clone()))
    }

    /// The live owner of `key` (Erlang's `whereis`).
    pub fn whereis(&self, key: &K) -> Option<Pid> {
        let map = self.inner.map.read();
        map.get(key)
            .filter(|entry| entry.owner.is_alive())
            .map(|entry| entry.owner.clone())
    }

    /// The keys held by live owners, in no particular order.
    pub fn keys(&self) -> Vec<K> {
        let map = self.inner.map.read();
        map.iter()
            .filter(|(_, entry)| entry.owner.is_alive())
            .map(|(key, _)| key.clone())
            .collect()
    }

    /// How many keys are held by live owners.
    pub fn len(&self) -> usize {
        let map = self.inner.map.read();
        map.values().filter(|entry| entry.owner.is_alive()).count()
    }

    /// `true` when no live owner holds a key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<K: Eq + Hash, V> Inner<K, V> {
    fn remove_if_owned(&self, key: &K, pid: &Pid) {
        let mut map = self.map.write();
        if map.get(key).is_some_and(|entry| entry.owner == *pid) {
            map.remove(key);
        }
    }
}
