//! [`SessionRegistry`]: the open sessions, indexed by id, project and name,
//! each with a slot for whoever owns the registry; its write guard.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use jido_session::{ProjectPath, Session, SessionId};
use parking_lot::{RwLock, RwLockWriteGuard};

use crate::index::{Entry, Index};
use crate::{Registration, RegistryError, RegistryView, Ticket};

/// How many sessions a registry holds unless told otherwise.
pub const DEFAULT_LIMIT: usize = 10;

/// The open sessions: at most `limit` of them, each id once, each project
/// (canonical directory) once, each with a slot `S` for its owner's data
/// (a supervisor keeps the session's running tree there).
///
/// One lock guards one index (by id, by project, by name, and the slots), so
/// every check of [`register`](SessionRegistry::register) — closed, limit,
/// id, project — and the insert are one critical section: no
/// check-then-insert race, the limit is never exceeded, and nothing is
/// registered after [`close`](SessionRegistry::close). Owners that must
/// change a session and its slot together do it under one
/// [`write`](SessionRegistry::write) guard. Lookups by id, project and name
/// are hash lookups (no scan).
///
/// Cloning is cheap: clones share one registry. An owner that must be the
/// only writer keeps the registry to itself and hands out
/// [`view`](SessionRegistry::view)s, which only read.
pub struct SessionRegistry<S = ()> {
    inner: Arc<RwLock<Index<S>>>,
}

impl<S> Clone for SessionRegistry<S> {
    fn clone(&self) -> Self {
        SessionRegistry {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl Default for SessionRegistry<()> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> fmt::Debug for SessionRegistry<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let index = self.inner.read();
        f.debug_struct("SessionRegistry")
            .field("count", &index.count())
            .field("limit", &index.limit)
            .field("closed", &index.is_closed())
            .finish()
    }
}

impl SessionRegistry<()> {
    /// An empty registry holding at most [`DEFAULT_LIMIT`] (10) sessions.
    pub fn new() -> Self {
        Self::with_limit(DEFAULT_LIMIT)
    }

    /// An empty registry holding at most `limit` sessions.
    pub fn with_limit(limit: usize) -> Self {
        Self::bounded(limit)
    }
}

impl<S> SessionRegistry<S> {
    /// An empty registry holding at most `limit` sessions, each with a slot
    /// of type `S`.
    pub fn bounded(limit: usize) -> Self {
        SessionRegistry {
            inner: Arc::new(RwLock::new(Index::new(limit))),
        }
    }

    /// The most sessions this registry holds.
    pub fn limit(&self) -> usize {
        self.inner.read().limit
    }

    /// Registers `session`. Checks, in this order and atomically with the
    /// insert: that the registry is open ([`RegistryError::Closed`]), the
    /// limit ([`RegistryError::LimitReached`], with the count and the
    /// limit), the id ([`RegistryError::DuplicateId`]), the project
    /// ([`RegistryError::DuplicateProject`], naming the session that has
    /// it). Two sessions may share a name. On error nothing changes.
    ///
    /// ```
    /// use jido_registry::{RegistryError, SessionRegistry};
    /// use jido_session::Session;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let registry = SessionRegistry::with_limit(2);
    ///
    /// let first = registry.register(Session::new(dir.path()).unwrap()).unwrap();
    /// assert_eq!(registry.lookup(first.id()).unwrap().id(), first.id());
    ///
    /// // One directory is one project, however it is spelled.
    /// let again = Session::new(dir.path().join(".")).unwrap();
    /// assert!(matches!(
    ///     registry.register(again),
    ///     Err(RegistryError::DuplicateProject { owner, .. }) if owner == first.id()
    /// ));
    /// ```
    pub fn register(&self, session: Session) -> Result<Registration, RegistryError>
    where
        S: Default,
    {
        self.register_with(session, S::default())
    }

    /// Like [`register`](Self::register), with the slot to keep beside the
    /// session.
    pub fn register_with(&self, session: Session, slot: S) -> Result<Registration, RegistryError> {
        self.inner.write().register(session, slot)
    }

    /// Removes the session with `id` and returns it; a missing id is fine
    /// (`None`).
    pub fn unregister(&self, id: SessionId) -> Option<Arc<Session>> {
        self.inner.write().remove(id).map(|entry| entry.session)
    }

    /// Removes the session registered under `ticket`, if that registration
    /// is still the current one for its id.
    pub fn unregister_ticket(&self, ticket: Ticket) -> Option<Arc<Session>> {
        let mut index = self.inner.write();
        index.current(ticket)?;
        index.remove(ticket.id).map(|entry| entry.session)
    }

    /// Replaces the stored session that has `session`'s id, keeping its
    /// registration (ticket and slot). Fails with
    /// [`RegistryError::NotFound`] when the id is not registered, and with
    /// [`RegistryError::DuplicateProject`] when the new project is another
    /// session's.
    pub fn update(&self, session: Session) -> Result<Arc<Session>, RegistryError> {
        self.inner.write().update(session)
    }

    /// Removes every session (and its slot).
    pub fn clear(&self) {
        drop(self.inner.write().drain());
    }

    /// Refuses every later registration with [`RegistryError::Closed`];
    /// what is registered stays.
    pub fn close(&self) {
        self.inner.write().close();
    }

    /// `true` once [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.inner.read().is_closed()
    }

    /// The lock, for changes that must happen together (a session's slot
    /// and what depends on it). Hold it briefly: every lookup waits.
    pub fn write(&self) -> RegistryWriter<'_, S> {
        RegistryWriter {
            index: self.inner.write(),
        }
    }

    /// Reads the slot of the current registration of `id` (and its
    /// session and ticket) under the read lock.
    pub fn with_slot<R>(
        &self,
        id: SessionId,
        read: impl FnOnce(Ticket, &Arc<Session>, &S) -> R,
    ) -> Option<R> {
        let index = self.inner.read();
        index
            .entry(id)
            .map(|entry| read(entry.ticket(), &entry.session, &entry.slot))
    }

    /// Folds over every registration under the read lock, in no order.
    pub fn fold<A>(&self, init: A, mut f: impl FnMut(A, Ticket, &Arc<Session>, &S) -> A) -> A {
        let index = self.inner.read();
        index.entries().fold(init, |acc, entry| {
            f(acc, entry.ticket(), &entry.session, &entry.slot)
        })
    }

    /// A read-only view: every lookup, no change.
    pub fn view(&self) -> RegistryView<'_>
    where
        S: Send + Sync + 'static,
    {
        RegistryView::new(&*self.inner)
    }

    /// The session with `id`.
    pub fn lookup(&self, id: SessionId) -> Option<Arc<Session>> {
        self.inner.read().lookup(id)
    }

    /// `true` if a session with `id` is registered.
    pub fn contains(&self, id: SessionId) -> bool {
        self.inner.read().entry(id).is_some()
    }

    /// The session whose project is the directory `path` names, however it
    /// is spelled. `None` when no session has it, or the path does not
    /// resolve.
    ///
    /// A project is its directory: after a project directory is renamed,
    /// its session is found under the new path too (by the directory's
    /// identity, device and inode).
    ///
    /// A path spelled exactly as a registered project (absolute and
    /// canonical) is found by a hash lookup alone — the session registered
    /// there, even if its directory has since moved; any other spelling is
    /// canonicalized first, which touches the file system
    /// ([`lookup_by_project`](Self::lookup_by_project) never does).
    pub fn lookup_by_path(&self, path: impl AsRef<Path>) -> Option<Arc<Session>> {
        lookup_by_path(&*self.inner, path.as_ref())
    }

    /// The session whose project is `project`.
    pub fn lookup_by_project(&self, project: &ProjectPath) -> Option<Arc<Session>> {
        self.inner.read().lookup_by_project(project)
    }

    /// The oldest session named `name` (by `created_at`, then id).
    pub fn lookup_by_name(&self, name: &str) -> Option<Arc<Session>> {
        self.inner.read().lookup_by_name(name)
    }

    /// Every session, oldest first (by `created_at`, then id).
    pub fn list_all(&self) -> Vec<Arc<Session>> {
        self.inner.read().list_all()
    }

    /// Every session's id, in the order of [`list_all`](Self::list_all).
    pub fn list_ids(&self) -> Vec<SessionId> {
        self.list_all().iter().map(|session| session.id()).collect()
    }

    /// How many sessions are registered.
    pub fn count(&self) -> usize {
        self.inner.read().count()
    }
}

/// `lookup_by_path` over a locked index: a hash probe for the registered
/// spelling, canonicalization (outside the lock) for any other.
pub(crate) fn lookup_by_path<S>(index: &RwLock<Index<S>>, path: &Path) -> Option<Arc<Session>> {
    if path.is_absolute()
        && let Some(session) = index.read().lookup_exact_path(path)
    {
        return Some(session);
    }
    let project = ProjectPath::resolve(path).ok()?;
    index.read().lookup_by_project(&project)
}

/// The registry's write lock, with the operations that change sessions and
/// slots together. Everything done under one guard is one critical section.
pub struct RegistryWriter<'a, S> {
    index: RwLockWriteGuard<'a, Index<S>>,
}

impl<S> RegistryWriter<'_, S> {
    /// [`SessionRegistry::register_with`], under this guard.
    pub fn register(&mut self, session: Session, slot: S) -> Result<Registration, RegistryError> {
        self.index.register(session, slot)
    }

    /// The session and slot of `ticket`, if it is still the current
    /// registration of its id.
    pub fn get(&self, ticket: Ticket) -> Option<(&Arc<Session>, &S)> {
        self.index
            .current(ticket)
            .map(|entry| (&entry.session, &entry.slot))
    }

    /// The slot of `ticket`, if it is still the current registration.
    pub fn slot_mut(&mut self, ticket: Ticket) -> Option<&mut S> {
        self.index.current_mut(ticket).map(|entry| &mut entry.slot)
    }

    /// The current registration of `id`: its ticket, session and slot.
    pub fn get_by_id(&mut self, id: SessionId) -> Option<(Ticket, &Arc<Session>, &mut S)> {
        let entry = self.index.entry_mut(id)?;
        Some((entry.ticket(), &entry.session, &mut entry.slot))
    }

    /// Removes the registration `ticket`, if it is still the current one;
    /// returns its session and slot.
    pub fn remove(&mut self, ticket: Ticket) -> Option<(Arc<Session>, S)> {
        self.index.current(ticket)?;
        self.index
            .remove(ticket.id)
            .map(|entry| (entry.session, entry.slot))
    }

    /// Replaces the session of `ticket` (same id), keeping the slot.
    ///
    /// # Errors
    ///
    /// [`RegistryError::NotFound`] if `ticket` is not current or the ids
    /// differ; [`RegistryError::DuplicateProject`] if the new project is
    /// another session's.
    pub fn replace(
        &mut self,
        ticket: Ticket,
        session: Session,
    ) -> Result<Arc<Session>, RegistryError> {
        if session.id() != ticket.id || self.index.current(ticket).is_none() {
            return Err(RegistryError::NotFound { id: ticket.id });
        }
        self.index.update(session)
    }

    /// Every registration: ticket, session, slot; in no order.
    pub fn entries(&self) -> impl Iterator<Item = (Ticket, &Arc<Session>, &S)> {
        self.index
            .entries()
            .map(|entry: &Entry<S>| (entry.ticket(), &entry.session, &entry.slot))
    }

    /// Every registration, its slot writable: ticket, session, slot; in no
    /// order.
    pub fn entries_mut(&mut self) -> impl Iterator<Item = (Ticket, &Arc<Session>, &mut S)> {
        self.index.entries_mut().map(|entry: &mut Entry<S>| {
            let ticket = entry.ticket();
            (ticket, &entry.session, &mut entry.slot)
        })
    }

    /// [`SessionRegistry::close`], under this guard.
    pub fn close(&mut self) {
        self.index.close();
    }

    /// `true` once closed.
    pub fn is_closed(&self) -> bool {
        self.index.is_closed()
    }

    /// How many sessions are registered.
    pub fn count(&self) -> usize {
        self.index.count()
    }

    /// Removes every registration and returns them (ticket, session, slot).
    pub fn drain(&mut self) -> Vec<(Ticket, Arc<Session>, S)> {
        self.index
            .drain()
            .into_iter()
            .map(|entry| (entry.ticket(), entry.session, entry.slot))
            .collect()
    }
}
