//! [`SessionContext`]: what every child of a session's tree is started with.

use std::any::{Any, TypeId};
use std::fmt;
use std::sync::{Arc, Weak};

use jido_session::{Session, SessionId};
use parking_lot::Mutex;

use crate::core::Core;

/// What every child of a session's tree is started with (the `C` of its
/// [`ChildSpec`](crate::ChildSpec)s): the session, as it is *now* (after
/// renames and config changes), and values shared by the tree's children
/// that outlive any one of them. Cheap to clone.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use jido_supervisor::{ChildSpec, Context, SessionContext, SessionSup, SessionSupervisor, Worker};
///
/// /// Counts requests across its own restarts: the count lives in the tree.
/// struct Counter(std::sync::Arc<AtomicU64>);
///
/// impl Worker for Counter {
///     type Request = ();
///     type Reply = u64;
///     async fn handle(&mut self, (): (), _ctx: &mut Context) -> u64 {
///         self.0.fetch_add(1, Ordering::SeqCst) + 1
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let tree = SessionSup::new()
///     .child(ChildSpec::worker("counter", |ctx: &SessionContext| Counter(ctx.shared::<AtomicU64>())));
/// let supervisor = SessionSupervisor::builder().child(tree).build();
/// let dir = tempfile::tempdir().unwrap();
/// let id = supervisor.create_session(dir.path()).await.unwrap().id();
///
/// let counter = supervisor.child::<Counter>(id, "counter");
/// assert_eq!(counter.call(()).await.unwrap(), 1);
/// counter.pid().unwrap().kill(); // restarted, the count survives
/// assert_eq!(counter.call(()).await.unwrap(), 2);
/// # }
/// ```
#[derive(Clone)]
pub struct SessionContext {
    inner: Arc<Inner>,
}

struct Inner {
    session: Arc<Session>,
    core: Weak<Core>,
    shared: Mutex<Vec<(TypeId, Arc<dyn Any + Send + Sync>)>>,
}

impl SessionContext {
    pub(crate) fn new(session: Arc<Session>, core: Weak<Core>) -> Self {
        SessionContext {
            inner: Arc::new(Inner {
                session,
                core,
                shared: Mutex::new(Vec::new()),
            }),
        }
    }

    /// The session's id.
    pub fn id(&self) -> SessionId {
        self.inner.session.id()
    }

    /// The session as it is now: renames and config changes made through the
    /// supervisor show here at once. After the session has ended, as it was
    /// last.
    pub fn session(&self) -> Arc<Session> {
        self.inner
            .core
            .upgrade()
            .and_then(|core| core.current_session(self.id()))
            .unwrap_or_else(|| Arc::clone(&self.inner.session))
    }

    /// The tree's shared value of type `T`, made with `T::default()` the
    /// first time it is asked for. It lives as long as the tree, whatever
    /// happens to the children that use it: the place for state a child
    /// must find again after a restart.
    pub fn shared<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut shared = self.inner.shared.lock();
        let found = shared
            .iter()
            .find(|(type_id, _)| *type_id == TypeId::of::<T>())
            .and_then(|(_, value)| Arc::clone(value).downcast::<T>().ok());
        if let Some(value) = found {
            return value;
        }
        let value = Arc::new(T::default());
        shared.push((
            TypeId::of::<T>(),
            Arc::clone(&value) as Arc<dyn Any + Send + Sync>,
        ));
        value
    }
}

impl fmt::Debug for SessionContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionContext")
            .field("session_id", &self.id())
            .finish()
    }
}
