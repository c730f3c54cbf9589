//! The registry's index: by id, by project, by name, plus a slot per
//! session. Unlocked: [`SessionRegistry`](crate::SessionRegistry) guards it.
//!
//! The project table is keyed by a copy of the path (a lookup by project
//! compares against the key in the table, one memory access fewer than
//! through the session); the name table holds the sessions themselves,
//! hashed by their name, with no copy of it.
//!
//! # Invariants
//!
//! Hold whenever the lock is free (every change is one call under the write
//! lock), and are checked after every change in debug builds
//! ([`Index::check`]):
//!
//! 1. At most `limit` sessions: `register` checks the count before it
//!    inserts, and nothing else inserts.
//! 2. A project is its directory: `by_directory` has one entry per session
//!    of `by_id` whose project carries a [`DirectoryId`] (every one on
//!    Unix), keyed by it and holding the very `Arc` of its entry; so no two
//!    sessions share a project directory, however it is reached or
//!    renamed. `by_path` holds, per project path, the session registered
//!    last under it (a directory renamed away and another one made at its
//!    old path: the later session shadows the earlier, which is then found
//!    by its directory only, even once the later one is gone), and every
//!    session without a `DirectoryId` — so those never share a path.
//! 3. `by_name` holds every session of `by_id` exactly once, in the bucket of
//!    its name; no bucket is empty, and each is sorted oldest first.
//! 4. Every entry's `seq` is below `next_seq`, which only grows: a ticket is
//!    never issued twice, so an operation by an old ticket never acts on a
//!    newer registration of the same id.
//! 5. Once `closed`, nothing registers.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::path::Path;
use std::sync::Arc;

use foldhash::fast::RandomState;
use hashbrown::HashTable;
use jido_session::{DirectoryId, ProjectPath, Session, SessionId};
use smallvec::SmallVec;

use crate::{Registration, RegistryError, Ticket};

pub(crate) struct Index<S> {
    pub(crate) limit: usize,
    by_id: HashMap<SessionId, Entry<S>, RandomState>,
    by_path: HashMap<ProjectPath, Arc<Session>, RandomState>,
    /// The same sessions by the identity of their project directory.
    by_directory: HashMap<DirectoryId, Arc<Session>, RandomState>,
    /// Per name, the sessions that bear it, oldest first (sorted by
    /// [`age_key`], so that insertion and removal are binary searches),
    /// hashed by the name.
    by_name: HashTable<NameBucket>,
    /// Hashes the names of the name table.
    hasher: RandomState,
    next_seq: u64,
    closed: bool,
}

pub(crate) struct Entry<S> {
    pub(crate) session: Arc<Session>,
    pub(crate) seq: u64,
    pub(crate) slot: S,
}

impl<S> Entry<S> {
    pub(crate) fn ticket(&self) -> Ticket {
        Ticket {
            id: self.session.id(),
            seq: self.seq,
        }
    }
}

/// Up to how many sessions every change checks the whole index (in debug
/// builds).
const FULL_CHECK_UP_TO: usize = 128;

/// A session's place in the order of `list_all` and of the per-name lists.
type AgeKey = (chrono::DateTime<chrono::Utc>, SessionId);

/// The sessions bearing one name (never none), oldest first; a name borne
/// by one session (the usual case) needs no allocation.
type NameBucket = SmallVec<[Arc<Session>; 1]>;

fn bucket_name(bucket: &NameBucket) -> Option<&str> {
    bucket.first().map(|session| session.name())
}

fn age_key(session: &Session) -> AgeKey {
    (session.created_at(), session.id())
}

impl<S> Index<S> {
    pub(crate) fn new(limit: usize) -> Self {
        Index {
            limit,
            by_id: HashMap::default(),
            by_path: HashMap::default(),
            by_directory: HashMap::default(),
            by_name: HashTable::new(),
            hasher: RandomState::default(),
            next_seq: 0,
            closed: false,
        }
    }

    /// Checks, in this order: closed, limit, id, project; then inserts.
    pub(crate) fn register(
        &mut self,
        session: Session,
        slot: S,
    ) -> Result<Registration, RegistryError> {
        if self.closed {
            return Err(RegistryError::Closed);
        }
        let count = self.by_id.len();
        if count >= self.limit {
            return Err(RegistryError::LimitReached {
                count,
                limit: self.limit,
            });
        }
        let id = session.id();
        if self.by_id.contains_key(&id) {
            return Err(RegistryError::DuplicateId { id });
        }
        if let Some(owner) = self.project_owner(session.project_path()) {
            return Err(RegistryError::DuplicateProject {
                path: session.project_path().clone(),
                owner: owner.id(),
            });
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let session = Arc::new(session);
        self.insert_project(&session);
        self.add_name(&session);
        self.by_id.insert(
            id,
            Entry {
                session: Arc::clone(&session),
                seq,
                slot,
            },
        );
        self.check(&session);
        Ok(Registration {
            session,
            ticket: Ticket { id, seq },
        })
    }

    pub(crate) fn entry(&self, id: SessionId) -> Option<&Entry<S>> {
        self.by_id.get(&id)
    }

    pub(crate) fn entry_mut(&mut self, id: SessionId) -> Option<&mut Entry<S>> {
        self.by_id.get_mut(&id)
    }

    /// The entry of `ticket`, if it is still the current registration.
    pub(crate) fn current(&self, ticket: Ticket) -> Option<&Entry<S>> {
        self.by_id
            .get(&ticket.id)
            .filter(|entry| entry.seq == ticket.seq)
    }

    pub(crate) fn current_mut(&mut self, ticket: Ticket) -> Option<&mut Entry<S>> {
        self.by_id
            .get_mut(&ticket.id)
            .filter(|entry| entry.seq == ticket.seq)
    }

    pub(crate) fn entries(&self) -> impl Iterator<Item = &Entry<S>> {
        self.by_id.values()
    }

    pub(crate) fn entries_mut(&mut self) -> impl Iterator<Item = &mut Entry<S>> {
        self.by_id.values_mut()
    }

    pub(crate) fn remove(&mut self, id: SessionId) -> Option<Entry<S>> {
        let entry = self.by_id.remove(&id)?;
        self.remove_project(&entry.session);
        self.remove_name(&entry.session);
        self.check(&entry.session);
        Some(entry)
    }

    /// Replaces the session registered under `session`'s id, keeping its
    /// registration (ticket and slot).
    pub(crate) fn update(&mut self, session: Session) -> Result<Arc<Session>, RegistryError> {
        let id = session.id();
        let old = match self.by_id.get(&id) {
            Some(entry) => Arc::clone(&entry.session),
            None => return Err(RegistryError::NotFound { id }),
        };
        if let Some(owner) = self.project_owner(session.project_path())
            && owner.id() != id
        {
            return Err(RegistryError::DuplicateProject {
                path: session.project_path().clone(),
                owner: owner.id(),
            });
        }
        self.remove_project(&old);
        self.remove_name(&old);
        let session = Arc::new(session);
        self.insert_project(&session);
        self.add_name(&session);
        if let Some(entry) = self.by_id.get_mut(&id) {
            entry.session = Arc::clone(&session);
        }
        self.check(&session);
        Ok(session)
    }

    pub(crate) fn close(&mut self) {
        self.closed = true;
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed
    }

    pub(crate) fn count(&self) -> usize {
        self.by_id.len()
    }

    /// Removes every entry; returns them. Stays open or closed as it was.
    pub(crate) fn drain(&mut self) -> Vec<Entry<S>> {
        self.by_path.clear();
        self.by_directory.clear();
        self.by_name.clear();
        self.by_id.drain().map(|(_, entry)| entry).collect()
    }

    pub(crate) fn lookup(&self, id: SessionId) -> Option<Arc<Session>> {
        self.by_id.get(&id).map(|entry| Arc::clone(&entry.session))
    }

    pub(crate) fn lookup_exact_path(&self, path: &Path) -> Option<Arc<Session>> {
        self.by_path
            .get(path.as_os_str().as_encoded_bytes())
            .map(Arc::clone)
    }

    /// The session of `project`: by its path, else — a directory renamed,
    /// or reached by another path — by the directory's identity.
    pub(crate) fn lookup_by_project(&self, project: &ProjectPath) -> Option<Arc<Session>> {
        self.project_owner(project).map(Arc::clone)
    }

    /// The session whose project is `project`'s: its directory's, or —
    /// without a directory identity — its path's.
    fn project_owner(&self, project: &ProjectPath) -> Option<&Arc<Session>> {
        match project.directory() {
            Some(directory) => {
                // The path first (the common case, one probe), if it is
                // still the same directory.
                // The key is a copy of the owner's project, identity
                // included: compared without a visit to the session.
                let by_path = self
                    .by_path
                    .get_key_value(project)
                    .filter(|(key, _)| key.directory() == Some(directory))
                    .map(|(_, owner)| owner);
                by_path.or_else(|| self.by_directory.get(&directory))
            }
            None => self.by_path.get(project),
        }
    }

    fn insert_project(&mut self, session: &Arc<Session>) {
        let project = session.project_path();
        // Shadows an earlier session at this path, whose directory has
        // since moved (else `register` refused). Key and value replaced
        // both: the key carries the directory's identity.
        self.by_path.remove(project);
        self.by_path.insert(project.clone(), Arc::clone(session));
        if let Some(directory) = project.directory() {
            self.by_directory.insert(directory, Arc::clone(session));
        }
    }

    fn remove_project(&mut self, session: &Arc<Session>) {
        let project = session.project_path();
        if self
            .by_path
            .get(project)
            .is_some_and(|owner| Arc::ptr_eq(owner, session))
        {
            self.by_path.remove(project);
        }
        if let Some(directory) = project.directory() {
            self.by_directory.remove(&directory);
        }
    }

    pub(crate) fn lookup_by_name(&self, name: &str) -> Option<Arc<Session>> {
        self.names(name)?.first().map(Arc::clone)
    }

    /// Every session, oldest first (by `created_at`, then id).
    pub(crate) fn list_all(&self) -> Vec<Arc<Session>> {
        let mut sessions: Vec<Arc<Session>> = self
            .by_id
            .values()
            .map(|entry| Arc::clone(&entry.session))
            .collect();
        sessions.sort_by_key(|session| age_key(session));
        sessions
    }

    /// Checks invariants 1–4 (see the module's doc) in debug builds, after
    /// a change of `touched`: the table sizes and `touched` always, every
    /// entry while the index is small (as in the property tests), so that a
    /// hundred thousand registrations stay linear.
    pub(crate) fn check(&self, touched: &Session) {
        if !cfg!(debug_assertions) {
            return;
        }
        debug_assert!(
            self.by_id.len() <= self.limit,
            "invariant 1: over the limit"
        );
        debug_assert!(
            self.by_path.len() <= self.by_id.len() && self.by_directory.len() <= self.by_id.len(),
            "invariant 2: more projects than sessions"
        );
        match self.by_id.get(&touched.id()) {
            Some(entry) => self.check_entry(entry),
            None => {
                debug_assert!(
                    self.names(touched.name())
                        .is_none_or(|bucket| bucket.iter().all(|other| other.id() != touched.id())),
                    "invariant 3: a removed session still under its name"
                );
            }
        }
        if self.by_id.len() > FULL_CHECK_UP_TO {
            return;
        }
        let named: usize = self.by_name.iter().map(|bucket| bucket.len()).sum();
        debug_assert_eq!(named, self.by_id.len(), "invariant 3: sessions by name");
        for entry in self.by_id.values() {
            self.check_entry(entry);
        }
        for bucket in self.by_name.iter() {
            debug_assert!(!bucket.is_empty(), "invariant 3: an empty name bucket");
            debug_assert!(
                bucket
                    .windows(2)
                    .all(|pair| age_key(&pair[0]) < age_key(&pair[1])),
                "invariant 3: a name bucket out of order"
            );
        }
    }

    /// Invariants 2–4 of one entry.
    fn check_entry(&self, entry: &Entry<S>) {
        let id = entry.session.id();
        debug_assert!(
            entry.seq < self.next_seq,
            "invariant 4: a ticket not issued"
        );
        let project = entry.session.project_path();
        debug_assert!(
            project.directory().is_some()
                || self
                    .by_path
                    .get(project)
                    .is_some_and(|owner| Arc::ptr_eq(owner, &entry.session)),
            "invariant 2: session {id}, without a directory identity, not under its path"
        );
        debug_assert!(
            self.by_path
                .get(project)
                .is_none_or(|owner| Arc::ptr_eq(owner, &entry.session)
                    || owner.project_path().directory() != project.directory()),
            "invariant 2: another session under session {id}'s path and directory"
        );
        debug_assert!(
            entry
                .session
                .project_path()
                .directory()
                .is_none_or(|directory| self
                    .by_directory
                    .get(&directory)
                    .is_some_and(|owner| Arc::ptr_eq(owner, &entry.session))),
            "invariant 2: session {id} not under its project directory"
        );
        debug_assert!(
            self.names(entry.session.name()).is_some_and(|bucket| bucket
                .iter()
                .any(|other| Arc::ptr_eq(other, &entry.session))),
            "invariant 3: session {id} not under its name"
        );
    }

    /// The sessions named `name`, oldest first.
    fn names(&self, name: &str) -> Option<&NameBucket> {
        self.by_name.find(self.hasher.hash_one(name), |bucket| {
            bucket_name(bucket) == Some(name)
        })
    }

    fn add_name(&mut self, session: &Arc<Session>) {
        let hasher = &self.hasher;
        let name = session.name();
        let bucket = self.by_name.entry(
            hasher.hash_one(name),
            |bucket| bucket_name(bucket) == Some(name),
            |bucket| hasher.hash_one(bucket_name(bucket).unwrap_or_default()),
        );
        let sessions = bucket.or_insert_with(NameBucket::new).into_mut();
        let key = age_key(session);
        let at = sessions.partition_point(|other| age_key(other) < key);
        sessions.insert(at, Arc::clone(session));
    }

    fn remove_name(&mut self, session: &Session) {
        let name = session.name();
        let Ok(mut found) = self
            .by_name
            .find_entry(self.hasher.hash_one(name), |bucket| {
                bucket_name(bucket) == Some(name)
            })
        else {
            return;
        };
        let sessions = found.get_mut();
        let key = age_key(session);
        if let Ok(at) = sessions.binary_search_by(|other| age_key(other).cmp(&key)) {
            sessions.remove(at);
        }
        if sessions.is_empty() {
            found.remove();
        }
    }
}
