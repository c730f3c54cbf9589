//! [`RegistryView`]: read-only access to a session registry.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use jido_session::{ProjectPath, Session, SessionId};
use parking_lot::RwLock;

use crate::index::Index;
use crate::session_registry::lookup_by_path;

/// What a view reads, whatever the registry's slot type.
trait Read: Send + Sync {
    fn limit(&self) -> usize;
    fn count(&self) -> usize;
    fn lookup(&self, id: SessionId) -> Option<Arc<Session>>;
    fn lookup_by_path(&self, path: &Path) -> Option<Arc<Session>>;
    fn lookup_by_project(&self, project: &ProjectPath) -> Option<Arc<Session>>;
    fn lookup_by_name(&self, name: &str) -> Option<Arc<Session>>;
    fn list_all(&self) -> Vec<Arc<Session>>;
}

impl<S: Send + Sync> Read for RwLock<Index<S>> {
    fn limit(&self) -> usize {
        self.read().limit
    }

    fn count(&self) -> usize {
        self.read().count()
    }

    fn lookup(&self, id: SessionId) -> Option<Arc<Session>> {
        self.read().lookup(id)
    }

    fn lookup_by_path(&self, path: &Path) -> Option<Arc<Session>> {
        lookup_by_path(self, path)
    }

    fn lookup_by_project(&self, project: &ProjectPath) -> Option<Arc<Session>> {
        self.read().lookup_by_project(project)
    }

    fn lookup_by_name(&self, name: &str) -> Option<Arc<Session>> {
        self.read().lookup_by_name(name)
    }

    fn list_all(&self) -> Vec<Arc<Session>> {
        self.read().list_all()
    }
}

/// Read-only access to a [`SessionRegistry`](crate::SessionRegistry): the
/// lookups, the listing and the count, nothing that changes it. What a
/// supervisor hands out, so that only the supervisor registers and
/// unregisters. Borrowed, so taking one costs nothing.
///
/// ```
/// use jido_registry::SessionRegistry;
/// use jido_session::Session;
///
/// let dir = tempfile::tempdir().unwrap();
/// let registry = SessionRegistry::new();
/// let id = registry.register(Session::new(dir.path()).unwrap()).unwrap().id();
///
/// let view = registry.view();
/// assert_eq!(view.count(), 1);
/// assert_eq!(view.lookup_by_path(dir.path()).unwrap().id(), id);
/// ```
///
/// A view cannot change anything:
///
/// ```compile_fail
/// let registry = jido_registry::SessionRegistry::new();
/// registry.view().clear();
/// ```
///
/// ```compile_fail
/// let registry = jido_registry::SessionRegistry::new();
/// registry.view().unregister(jido_session::SessionId::new());
/// ```
#[derive(Clone, Copy)]
pub struct RegistryView<'a> {
    index: &'a dyn Read,
}

impl<'a> RegistryView<'a> {
    pub(crate) fn new<S: Send + Sync + 'static>(index: &'a RwLock<Index<S>>) -> Self {
        RegistryView { index }
    }

    /// The most sessions the registry holds.
    pub fn limit(&self) -> usize {
        self.index.limit()
    }

    /// How many sessions are registered.
    pub fn count(&self) -> usize {
        self.index.count()
    }

    /// The session with `id`.
    pub fn lookup(&self, id: SessionId) -> Option<Arc<Session>> {
        self.index.lookup(id)
    }

    /// `true` if a session with `id` is registered.
    pub fn contains(&self, id: SessionId) -> bool {
        self.index.lookup(id).is_some()
    }

    /// The session whose project `path` names, however it is spelled (see
    /// [`SessionRegistry::lookup_by_path`](crate::SessionRegistry::lookup_by_path)).
    pub fn lookup_by_path(&self, path: impl AsRef<Path>) -> Option<Arc<Session>> {
        self.index.lookup_by_path(path.as_ref())
    }

    /// The session whose project is `project`.
    pub fn lookup_by_project(&self, project: &ProjectPath) -> Option<Arc<Session>> {
        self.index.lookup_by_project(project)
    }

    /// The oldest session named `name`.
    pub fn lookup_by_name(&self, name: &str) -> Option<Arc<Session>> {
        self.index.lookup_by_name(name)
    }

    /// Every session, oldest first (by `created_at`, then id).
    pub fn list_all(&self) -> Vec<Arc<Session>> {
        self.index.list_all()
    }

    /// Every session's id, oldest first.
    pub fn list_ids(&self) -> Vec<SessionId> {
        self.list_all().iter().map(|session| session.id()).collect()
    }
}

impl fmt::Debug for RegistryView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryView")
            .field("count", &self.count())
            .field("limit", &self.limit())
            .finish()
    }
}
