//! [`SessionId`]: the random, version 4 UUID that identifies a session.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use uuid::{Uuid, Variant, Version};

use crate::error::{SessionError, echo};

/// Length of the canonical hyphenated form, e.g.
/// `67e55044-10b1-426f-9247-bb680e5fe0c8`.
const HYPHENATED_LEN: usize = 36;

/// Unique identifier of a [`Session`](crate::Session).
///
/// A `SessionId` always wraps a random (version 4, RFC 9562 variant) UUID.
/// It is `Copy`, cheap to hash and compare, and its text form is the 36
/// character lowercase hyphenated UUID, which is also how it is serialized.
///
/// # Examples
///
/// ```
/// use jido_session::SessionId;
///
/// let id = SessionId::new();
/// let text = id.to_string();
/// assert_eq!(text.len(), 36);
/// assert_eq!(text.parse::<SessionId>().unwrap(), id);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(Uuid);

impl SessionId {
    /// Creates a new random (version 4) session id.
    #[must_use]
    pub fn new() -> Self {
        Self(Uuid::new_v4())
    }

    /// Wraps an existing UUID.
    ///
    /// # Errors
    ///
    /// Returns [`SessionError::InvalidId`] (carrying the hyphenated form of
    /// `uuid`) unless `uuid` is a version 4, RFC 9562 variant UUID.
    pub fn from_uuid(uuid: Uuid) -> Result<Self, SessionError> {
        if is_v4(&uuid) {
            Ok(Self(uuid))
        } else {
            Err(SessionError::InvalidId {
                value: uuid.hyphenated().to_string(),
                len: HYPHENATED_LEN,
            })
        }
    }

    /// Returns the wrapped UUID.
    #[must_use]
    pub fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

fn is_v4(uuid: &Uuid) -> bool {
    uuid.get_version() == Some(Version::Random) && uuid.get_variant() == Variant::RFC4122
}

impl Default for SessionId {
    /// Returns a new **random** id, exactly like [`SessionId::new`]; two
    /// default ids are (with overwhelming probability) different.
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for SessionId {
    /// Writes the 36 character lowercase hyphenated form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({})", self.0.hyphenated())
    }
}

impl FromStr for SessionId {
    type Err = SessionError;

    /// Parses the 36 character hyphenated form (upper, lower or mixed case).
    ///
    /// Other UUID spellings (simple, braced, URN), UUIDs that are not
    /// version 4 and anything else are rejected with
    /// [`SessionError::InvalidId`] carrying the input (cut to
    /// [`MAX_ECHO_CHARS`](crate::MAX_ECHO_CHARS) characters).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || SessionError::InvalidId {
            value: echo(s),
            len: s.len(),
        };
        // With exactly 36 bytes `try_parse` only accepts the hyphenated form.
        if s.len() != HYPHENATED_LEN {
            return Err(invalid());
        }
        let uuid = Uuid::try_parse(s).map_err(|_| invalid())?;
        if is_v4(&uuid) {
            Ok(Self(uuid))
        } else {
            Err(invalid())
        }
    }
}

impl Serialize for SessionId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut buf = Uuid::encode_buffer();
        serializer.serialize_str(self.0.hyphenated().encode_lower(&mut buf))
    }
}

impl<'de> Deserialize<'de> for SessionId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor;

        impl Visitor<'_> for IdVisitor {
            type Value = SessionId;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a hyphenated version 4 UUID string")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<SessionId, E> {
                v.parse().map_err(E::custom)
            }
        }

        deserializer.deserialize_str(IdVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_wraps_the_hyphenated_form() {
        let uuid = Uuid::parse_str("67e55044-10b1-426f-9247-bb680e5fe0c8").unwrap();
        let id = SessionId::from_uuid(uuid).unwrap();
        assert_eq!(
            format!("{id:?}"),
            "SessionId(67e55044-10b1-426f-9247-bb680e5fe0c8)"
        );
    }

    #[test]
    fn non_rfc_variant_is_rejected() {
        // Version nibble 4 but Microsoft variant (110x).
        let uuid = Uuid::parse_str("67e55044-10b1-426f-c247-bb680e5fe0c8").unwrap();
        assert_eq!(uuid.get_version(), Some(Version::Random));
        assert!(SessionId::from_uuid(uuid).is_err());
    }
}
