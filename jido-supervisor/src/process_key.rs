//! [`ProcessKey`]: the name of one process of a session's tree.

use std::fmt;

use jido_process::ChildName;
use jido_session::SessionId;

/// The name of one child of a session's tree: the session's id and the
/// child's name (jido_code's `{:manager, id}`, `{:state, id}`, and any name
/// a user gives a child). Open: any child name works.
///
/// ```
/// use jido_supervisor::tree::ProcessKey;
/// use jido_supervisor::SessionId;
///
/// let id = SessionId::new();
/// let key = ProcessKey::new(id, "agent");
/// assert_eq!(key.to_string(), format!("{{agent, {id}}}"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProcessKey {
    /// The session.
    pub session_id: SessionId,
    /// The child's name within the session's tree.
    pub child: ChildName,
}

impl ProcessKey {
    /// The key of child `child` of session `session_id`.
    pub fn new(session_id: SessionId, child: impl Into<ChildName>) -> Self {
        ProcessKey {
            session_id,
            child: child.into(),
        }
    }
}

impl fmt::Display for ProcessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{}, {}}}", self.child, self.session_id)
    }
}
