//! [`SessionContext`]: what every child of a session's tree is started with.

use std::any::{Any, TypeId};
use std::fmt;
use std::sync::{Arc, OnceLock};

use jido_process::{Observer, SupervisorEvent};
use jido_session::{Session, SessionId};
use parking_lot::Mutex;

use crate::conversation_store::ConversationStore;
use crate::events::ChildEvents;
use crate::journal::SessionJournal;

/// What every child of a session's tree is started with (the `C` of its
/// [`ChildSpec`](crate::process::ChildSpec)s): the session, as it is *now* (after
/// renames and config changes), and values shared by the tree's children
/// that outlive any one of them. Cheap to clone.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use jido_supervisor::process::{ChildSpec, Context, Worker};
/// use jido_supervisor::tree::{SessionContext, SessionSup};
/// use jido_supervisor::SessionSupervisor;
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
/// let supervisor = SessionSupervisor::builder().session_child(tree).build();
/// let dir = tempfile::tempdir().unwrap();
/// let id = supervisor.create_session(dir.path()).await.unwrap().id();
///
/// let counter = supervisor.child_ref::<Counter>(id, "counter");
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
    /// The session's reporter; it also knows the supervisor.
    events: ChildEvents,
    /// The session's committed conversation (the State's, outliving it).
    conversation: ConversationStore,
    /// The tree's shared values, made on first use (most trees have none).
    shared: OnceLock<Box<Mutex<SharedValues>>>,
}

type SharedValues = Vec<(TypeId, Arc<dyn Any + Send + Sync>)>;

impl SessionContext {
    pub(crate) fn new(
        session: Arc<Session>,
        events: ChildEvents,
        journal: Option<Arc<SessionJournal>>,
    ) -> Self {
        SessionContext {
            inner: Arc::new(Inner {
                session,
                events,
                conversation: ConversationStore::journaled(journal),
                shared: OnceLock::new(),
            }),
        }
    }

    /// Where the tree reports its children's restarts: the session's
    /// [`ChildEvents`], as an [`Observer`] for
    /// [`SupervisorSpec::start_observed`](crate::process::SupervisorSpec::start_observed).
    pub fn observer(&self) -> Arc<dyn Observer> {
        Arc::clone(&self.inner) as Arc<dyn Observer>
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
            .events
            .current_session()
            .unwrap_or_else(|| Arc::clone(&self.inner.session))
    }

    /// The session's committed conversation: what the
    /// [`State`](crate::session::State) child commits to, and finds again after a
    /// restart. It lives as long as the tree.
    pub fn conversation(&self) -> &ConversationStore {
        &self.inner.conversation
    }

    /// The tree's shared value of type `T`, made with `T::default()` the
    /// first time it is asked for. It lives as long as the tree, whatever
    /// happens to the children that use it: the place for state a child
    /// must find again after a restart.
    pub fn shared<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut shared = self.inner.shared.get_or_init(Box::default).lock();
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

impl Observer for Inner {
    fn observe(&self, event: SupervisorEvent) {
        self.events.observe(event);
    }

    fn span(&self) -> tracing::Span {
        self.events.span()
    }
}

impl fmt::Debug for SessionContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionContext")
            .field("session_id", &self.id())
            .finish()
    }
}
