//! [`SessionRegistry`]: the open sessions, indexed by id, project and name.

use std::collections::HashMap;
use std::fmt;
use std::ops::Deref;
use std::path::Path;
use std::sync::Arc;

use foldhash::fast::RandomState;
use jido_session::{ProjectPath, Session, SessionId};
use parking_lot::RwLock;
use smallvec::SmallVec;

use crate::RegistryError;

/// How many sessions a registry holds unless told otherwise.
pub const DEFAULT_LIMIT: usize = 10;

/// The open sessions: at most `limit` of them, each id once, each project
/// (canonical directory) once.
///
/// One lock guards one index (by id, by project, by name), so every check of
/// [`register`](SessionRegistry::register) — limit, then id, then project —
/// and the insert are one critical section: no check-then-insert race, and the
/// limit is never exceeded, whatever the number of concurrent callers.
/// Lookups by id, project and name are hash lookups (no scan).
///
/// Cloning is cheap: clones share one registry. Sessions are stored as
/// `Arc<Session>`, so lookups hand out a shared pointer, not a copy.
#[derive(Clone)]
pub struct SessionRegistry {
    inner: Arc<Inner>,
}

struct Inner {
    limit: usize,
    index: RwLock<Index>,
}

#[derive(Default)]
struct Index {
    by_id: HashMap<SessionId, Entry, RandomState>,
    by_path: HashMap<ProjectPath, Arc<Session>, RandomState>,
    /// Per name, the sessions that bear it, oldest first (sorted by
    /// [`age_key`], so that insertion and removal are binary searches).
    by_name: HashMap<Box<str>, NameBucket, RandomState>,
    next_seq: u64,
}

struct Entry {
    session: Arc<Session>,
    seq: u64,
}

/// Names one registration of a session: the same id registered again later
/// gets another ticket. [`SessionRegistry::unregister_ticket`] removes an entry
/// only if it is still that registration, which lets a cleanup that runs late
/// leave a newer registration alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ticket {
    id: SessionId,
    seq: u64,
}

impl Ticket {
    /// The registered session's id.
    pub fn id(&self) -> SessionId {
        self.id
    }
}

/// A successful registration: the stored session and its [`Ticket`].
/// Dereferences to the [`Session`].
#[derive(Debug, Clone)]
pub struct Registration {
    session: Arc<Session>,
    ticket: Ticket,
}

impl Registration {
    /// The stored session.
    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }

    /// The ticket naming this registration.
    pub fn ticket(&self) -> Ticket {
        self.ticket
    }

    /// The stored session, by value.
    pub fn into_session(self) -> Arc<Session> {
        self.session
    }
}

impl Deref for Registration {
    type Target = Session;

    fn deref(&self) -> &Session {
        &self.session
    }
}

impl Default for SessionRegistry {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for SessionRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionRegistry")
            .field("count", &self.count())
            .field("limit", &self.inner.limit)
            .finish()
    }
}

impl SessionRegistry {
    /// An empty registry holding at most [`DEFAULT_LIMIT`] (10) sessions.
    pub fn new() -> Self {
        Self::with_limit(DEFAULT_LIMIT)
    }

    /// An empty registry holding at most `limit` sessions.
    pub fn with_limit(limit: usize) -> Self {
        SessionRegistry {
            inner: Arc::new(Inner {
                limit,
                index: RwLock::new(Index::default()),
            }),
        }
    }

    /// The most sessions this registry holds.
    pub fn limit(&self) -> usize {
        self.inner.limit
    }

    /// Registers `session`. Checks, in this order and atomically with the
    /// insert: the limit ([`RegistryError::LimitReached`], with the count and
    /// the limit), the id ([`RegistryError::DuplicateId`]), the project
    /// ([`RegistryError::DuplicateProject`], naming the session that has it).
    /// Two sessions may share a name. On error nothing changes.
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
    pub fn register(&self, session: Session) -> Result<Registration, RegistryError> {
        let mut index = self.inner.index.write();
        let count = index.by_id.len();
        if count >= self.inner.limit {
            return Err(RegistryError::LimitReached {
                count,
                limit: self.inner.limit,
            });
        }
        let id = session.id();
        if index.by_id.contains_key(&id) {
            return Err(RegistryError::DuplicateId { id });
        }
        if let Some(owner) = index.by_path.get(session.project_path()) {
            return Err(RegistryError::DuplicateProject {
                path: session.project_path().clone(),
                owner: owner.id(),
            });
        }
        let seq = index.next_seq;
        index.next_seq += 1;
        let session = Arc::new(session);
        index
            .by_path
            .insert(session.project_path().clone(), Arc::clone(&session));
        index.add_name(&session);
        index.by_id.insert(
            id,
            Entry {
                session: Arc::clone(&session),
                seq,
            },
        );
        Ok(Registration {
            session,
            ticket: Ticket { id, seq },
        })
    }

    /// Removes the session with `id` and returns it; a missing id is fine
    /// (`None`).
    pub fn unregister(&self, id: SessionId) -> Option<Arc<Session>> {
        let mut index = self.inner.index.write();
        index.remove(id)
    }

    /// Removes the session registered under `ticket`, if that registration
    /// is still the current one for its id.
    pub fn unregister_ticket(&self, ticket: Ticket) -> Option<Arc<Session>> {
        let mut index = self.inner.index.write();
        match index.by_id.get(&ticket.id) {
            Some(entry) if entry.seq == ticket.seq => index.remove(ticket.id),
            _ => None,
        }
    }

    /// The session with `id`.
    pub fn lookup(&self, id: SessionId) -> Option<Arc<Session>> {
        let index = self.inner.index.read();
        index.by_id.get(&id).map(|entry| Arc::clone(&entry.session))
    }

    /// `true` if a session with `id` is registered.
    pub fn contains(&self, id: SessionId) -> bool {
        self.inner.index.read().by_id.contains_key(&id)
    }

    /// The session whose project is the directory `path` names, however it
    /// is spelled. `None` when no session has it, or the path does not
    /// resolve.
    ///
    /// A path spelled exactly as a registered project (absolute and
    /// canonical) is found by a hash lookup alone; any other spelling is
    /// canonicalized first, which touches the file system
    /// ([`lookup_by_project`](Self::lookup_by_project) never does).
    pub fn lookup_by_path(&self, path: impl AsRef<Path>) -> Option<Arc<Session>> {
        let path = path.as_ref();
        if path.is_absolute() {
            let index = self.inner.index.read();
            if let Some(session) = index.by_path.get(path.as_os_str().as_encoded_bytes()) {
                return Some(Arc::clone(session));
            }
        }
        let project = ProjectPath::resolve(path).ok()?;
        self.lookup_by_project(&project)
    }

    /// The session whose project is `project`.
    pub fn lookup_by_project(&self, project: &ProjectPath) -> Option<Arc<Session>> {
        let index = self.inner.index.read();
        index.by_path.get(project).map(Arc::clone)
    }

    /// The oldest session named `name` (by `created_at`, then id).
    pub fn lookup_by_name(&self, name: &str) -> Option<Arc<Session>> {
        let index = self.inner.index.read();
        let (_, id) = index.by_name.get(name)?.first()?;
        index.by_id.get(id).map(|entry| Arc::clone(&entry.session))
    }

    /// Every session, oldest first (by `created_at`, then id).
    pub fn list_all(&self) -> Vec<Arc<Session>> {
        let mut sessions: Vec<Arc<Session>> = {
            let index = self.inner.index.read();
            index
                .by_id
                .values()
                .map(|entry| Arc::clone(&entry.session))
                .collect()
        };
        sessions.sort_by_key(|session| age_key(session));
        sessions
    }

    /// Every session's id, in the order of [`list_all`](Self::list_all).
    pub fn list_ids(&self) -> Vec<SessionId> {
        self.list_all().iter().map(|session| session.id()).collect()
    }

    /// How many sessions are registered.
    pub fn count(&self) -> usize {
        self.inner.index.read().by_id.len()
    }

    /// Replaces the stored session that has `session`'s id, keeping its
    /// registration (and ticket). Fails with [`RegistryError::NotFound`] when
    /// the id is not registered, and with [`RegistryError::DuplicateProject`]
    /// when the new project is another session's.
    pub fn update(&self, session: Session) -> Result<Arc<Session>, RegistryError> {
        let mut index = self.inner.index.write();
        let id = session.id();
        let old = match index.by_id.get(&id) {
            Some(entry) => Arc::clone(&entry.session),
            None => return Err(RegistryError::NotFound { id }),
        };
        if old.project_path() != session.project_path()
            && let Some(owner) = index.by_path.get(session.project_path())
        {
            return Err(RegistryError::DuplicateProject {
                path: session.project_path().clone(),
                owner: owner.id(),
            });
        }
        index.by_path.remove(old.project_path());
        index.remove_name(&old);
        let session = Arc::new(session);
        index
            .by_path
            .insert(session.project_path().clone(), Arc::clone(&session));
        index.add_name(&session);
        if let Some(entry) = index.by_id.get_mut(&id) {
            entry.session = Arc::clone(&session);
        }
        Ok(session)
    }

    /// Removes every session.
    pub fn clear(&self) {
        let mut index = self.inner.index.write();
        let next_seq = index.next_seq;
        *index = Index {
            next_seq,
            ..Index::default()
        };
    }
}

/// A session's place in the order of `list_all` and of the per-name lists.
type AgeKey = (chrono::DateTime<chrono::Utc>, SessionId);

/// The sessions bearing one name, oldest first; a name borne by one session
/// (the usual case) needs no allocation.
type NameBucket = SmallVec<[AgeKey; 1]>;

fn age_key(session: &Session) -> AgeKey {
    (session.created_at(), session.id())
}

impl Index {
    fn remove(&mut self, id: SessionId) -> Option<Arc<Session>> {
        let entry = self.by_id.remove(&id)?;
        self.by_path.remove(entry.session.project_path());
        self.remove_name(&entry.session);
        Some(entry.session)
    }

    fn add_name(&mut self, session: &Session) {
        let sessions = self.by_name.entry(Box::from(session.name())).or_default();
        let key = age_key(session);
        let at = sessions.partition_point(|other| *other < key);
        sessions.insert(at, key);
    }

    fn remove_name(&mut self, session: &Session) {
        if let Some(sessions) = self.by_name.get_mut(session.name()) {
            if let Ok(at) = sessions.binary_search(&age_key(session)) {
                sessions.remove(at);
            }
            if sessions.is_empty() {
                self.by_name.remove(session.name());
            }
        }
    }
}
