//! `SessionId`: generation, text form, parsing and serde.

use std::collections::HashSet;

use jido_session::{SessionError, SessionId};
use uuid::{Uuid, Version};

/// A valid version 1 (time-based) UUID.
const V1: &str = "c232ab00-9414-11ec-b3c8-9f6bdeced846";
/// A valid version 4 UUID.
const V4: &str = "67e55044-10b1-426f-9247-bb680e5fe0c8";

fn invalid(value: &str) -> SessionError {
    SessionError::InvalidId {
        value: value.to_owned(),
        len: value.len(),
    }
}

#[test]
fn new_is_random_v4() {
    let ids: HashSet<SessionId> = (0..100).map(|_| SessionId::new()).collect();
    assert_eq!(ids.len(), 100);
    for id in &ids {
        assert_eq!(id.as_uuid().get_version(), Some(Version::Random));
    }
    assert_ne!(SessionId::default(), SessionId::default());
}

#[test]
fn display_is_36_lowercase_chars() {
    for _ in 0..20 {
        let text = SessionId::new().to_string();
        assert_eq!(text.len(), 36);
        assert_eq!(text, text.to_lowercase());
        assert_eq!(text.matches('-').count(), 4);
        assert_eq!(text.as_bytes()[14], b'4');
    }
    let id: SessionId = V4.parse().unwrap();
    assert_eq!(id.to_string(), V4);
    assert_eq!(format!("{id:?}"), format!("SessionId({V4})"));
}

#[test]
fn from_str_roundtrips() {
    let id = SessionId::new();
    assert_eq!(id.to_string().parse::<SessionId>(), Ok(id));
}

#[test]
fn from_str_accepts_uppercase() {
    let upper: SessionId = V4.to_uppercase().parse().unwrap();
    let lower: SessionId = V4.parse().unwrap();
    assert_eq!(upper, lower);
    assert_eq!(upper.to_string(), V4);
}

#[test]
fn from_str_rejects_non_v4() {
    assert_eq!(V1.parse::<SessionId>(), Err(invalid(V1)));
    let nil = Uuid::nil().to_string();
    assert_eq!(nil.parse::<SessionId>(), Err(invalid(&nil)));
}

#[test]
fn from_str_rejects_garbage_with_the_input() {
    for garbage in [
        "",
        "not-a-uuid",
        "67e55044-10b1-426f-9247-bb680e5fe0cz",
        "67e55044-10b1-426f-9247-bb680e5fe0c8 ",
        // Valid v4 UUIDs, but not in the hyphenated form.
        "67e5504410b1426f9247bb680e5fe0c8",
        "{67e55044-10b1-426f-9247-bb680e5fe0c8}",
        "urn:uuid:67e55044-10b1-426f-9247-bb680e5fe0c8",
    ] {
        assert_eq!(garbage.parse::<SessionId>(), Err(invalid(garbage)));
    }
}

#[test]
fn from_uuid_checks_the_version() {
    let v4 = Uuid::parse_str(V4).unwrap();
    assert_eq!(SessionId::from_uuid(v4).unwrap().as_uuid(), &v4);
    let v1 = Uuid::parse_str(V1).unwrap();
    assert_eq!(SessionId::from_uuid(v1), Err(invalid(V1)));
    assert!(SessionId::from_uuid(Uuid::nil()).is_err());
}

#[test]
fn serde_roundtrips_as_a_string() {
    let id = SessionId::new();
    let json = serde_json::to_string(&id).unwrap();
    assert_eq!(json, format!("\"{id}\""));
    assert_eq!(serde_json::from_str::<SessionId>(&json).unwrap(), id);
}

#[test]
fn serde_rejects_non_v4_and_non_strings() {
    let err = serde_json::from_str::<SessionId>(&format!("\"{V1}\"")).unwrap_err();
    assert!(err.to_string().contains(V1), "{err}");
    assert!(serde_json::from_str::<SessionId>(&format!("\"{}\"", Uuid::nil())).is_err());
    assert!(serde_json::from_str::<SessionId>("42").is_err());
}

#[test]
fn invalid_id_message_names_the_input() {
    assert_eq!(
        invalid("xyz").to_string(),
        "invalid session id \"xyz\" (3 bytes): expected a hyphenated version 4 UUID"
    );
}

// Issue 8, item 15: a hostile 10 MB "id" used to come back whole in the
// error and its message.
#[test]
fn a_huge_invalid_id_is_echoed_only_in_part() {
    let huge = "x".repeat(10 * 1024 * 1024);
    let error = huge.parse::<SessionId>().unwrap_err();
    let SessionError::InvalidId { value, len } = &error else {
        panic!("expected InvalidId, got {error:?}");
    };
    assert_eq!(*len, huge.len());
    assert_eq!(value.chars().count(), jido_session::MAX_ECHO_CHARS + 1);
    assert!(
        error.to_string().len() < 200,
        "{} bytes",
        error.to_string().len()
    );
    let message = serde_json::from_str::<SessionId>(&format!("\"{huge}\""))
        .unwrap_err()
        .to_string();
    assert!(message.len() < 300, "{} bytes", message.len());
}
