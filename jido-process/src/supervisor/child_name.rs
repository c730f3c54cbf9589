//! [`ChildName`]: a child's name, unique within its supervisor.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// A child's name, unique within its supervisor (OTP's child `id`). Cheap to
/// clone; compares with `&str`.
///
/// ```
/// use jido_process::ChildName;
///
/// let name = ChildName::from("agent");
/// assert_eq!(name, "agent");
/// assert_eq!(name.to_string(), "agent");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChildName(Arc<str>);

impl ChildName {
    /// The name as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `outer/inner`: how a child of a nested supervisor is named in events.
    pub(crate) fn nested(prefix: Option<&ChildName>, name: &ChildName) -> ChildName {
        match prefix {
            Some(prefix) => ChildName(Arc::from(format!("{prefix}/{name}"))),
            None => name.clone(),
        }
    }
}

impl From<&str> for ChildName {
    fn from(name: &str) -> Self {
        ChildName(Arc::from(name))
    }
}

impl From<String> for ChildName {
    fn from(name: String) -> Self {
        ChildName(Arc::from(name))
    }
}

impl From<&ChildName> for ChildName {
    fn from(name: &ChildName) -> Self {
        name.clone()
    }
}

impl Deref for ChildName {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for ChildName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for ChildName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for ChildName {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for ChildName {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl fmt::Display for ChildName {
    /// The name; honours width and alignment (`{:<8}`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl fmt::Debug for ChildName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}
