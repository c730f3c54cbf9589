//! [`PlainIndex`]: the lookup baseline, a plain `RwLock<HashMap>`.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use jido_session::{Session, SessionId};

/// `RwLock<HashMap<SessionId, Arc<Session>>>` from `std`, default hasher:
/// the least a session registry's lookup by id can cost.
#[derive(Default)]
pub struct PlainIndex {
    map: RwLock<HashMap<SessionId, Arc<Session>>>,
}

impl PlainIndex {
    /// An index of `sessions`.
    pub fn new(sessions: impl IntoIterator<Item = Arc<Session>>) -> Self {
        let map = sessions
            .into_iter()
            .map(|session| (session.id(), session))
            .collect();
        PlainIndex {
            map: RwLock::new(map),
        }
    }

    /// The session with `id`.
    pub fn lookup(&self, id: SessionId) -> Option<Arc<Session>> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        map.get(&id).cloned()
    }
}
