//! The snapshot file format: a versioned envelope around the snapshot's
//! JSON, with an optional HMAC-SHA256 signature over its exact bytes.
//!
//! Signing is the `signing` feature's: without it no key can be given, and
//! the codec writes no signature and checks none (as with no key).

#[cfg(feature = "signing")]
use std::sync::Arc;

#[cfg(feature = "signing")]
use hmac::{Hmac, Mac};
use jido_session::SessionId;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
#[cfg(feature = "signing")]
use sha2::Sha256;

use crate::{LoadError, SCHEMA_VERSION, SaveError, Snapshot};

/// What the envelope's `format` says.
const FORMAT: &str = "jido-session-snapshot";

#[derive(Serialize)]
struct EnvelopeOut<'a> {
    format: &'static str,
    version: u32,
    signature: Option<String>,
    snapshot: &'a RawValue,
}

#[derive(Deserialize)]
struct EnvelopeIn<'a> {
    format: String,
    version: u32,
    #[serde(default)]
    signature: Option<String>,
    #[serde(borrow)]
    snapshot: &'a RawValue,
}

/// Encodes and decodes snapshots, signing and checking them when it has a
/// key.
#[derive(Clone, Default)]
pub(crate) struct Codec {
    #[cfg(feature = "signing")]
    key: Option<Arc<[u8]>>,
    #[cfg(feature = "signing")]
    accept_unsigned: bool,
}

#[cfg(feature = "signing")]
impl Codec {
    pub(crate) fn signed(&mut self, key: &[u8]) {
        self.key = Some(Arc::from(key));
    }

    pub(crate) fn accept_unsigned(&mut self, accept: bool) {
        self.accept_unsigned = accept;
    }

    fn mac(key: &[u8], version: u32, snapshot: &str) -> Hmac<Sha256> {
        // HMAC takes keys of any length: this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(FORMAT.as_bytes());
        mac.update(&[0]);
        mac.update(&version.to_be_bytes());
        mac.update(snapshot.as_bytes());
        mac
    }

    fn catalog_mac(key: &[u8], purpose: &[u8]) -> Hmac<Sha256> {
        // HMAC takes keys of any length: this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(b"jido-snapshot-catalog");
        mac.update(&[0]);
        mac.update(purpose);
        mac.update(&[0]);
        mac
    }

    /// The signature of a snapshot's `body`, if signing.
    fn signature(&self, body: &str) -> Option<String> {
        let key = self.key.as_ref()?;
        Some(hex(&Self::mac(key, SCHEMA_VERSION, body)
            .finalize()
            .into_bytes()))
    }

    /// Checks the envelope's signature against the key, if signing.
    fn check(
        &self,
        id: SessionId,
        version: u32,
        body: &str,
        signature: Option<&str>,
    ) -> Result<(), LoadError> {
        let Some(key) = &self.key else {
            return Ok(());
        };
        match signature {
            None if self.accept_unsigned => Ok(()),
            None => Err(LoadError::Unsigned { id }),
            Some(signature) => {
                let expected = unhex(signature).ok_or(LoadError::BadSignature { id })?;
                Self::mac(key, version, body)
                    .verify_slice(&expected)
                    .map_err(|_| LoadError::BadSignature { id })
            }
        }
    }

    /// What [`catalog_settings`](Self::catalog_settings) records of the
    /// signing settings.
    fn signing_settings(&self) -> String {
        let key = match &self.key {
            Some(key) => hex(&Self::catalog_mac(key, b"key").finalize().into_bytes()),
            None => "none".to_owned(),
        };
        format!("key={key};accept_unsigned={}", self.accept_unsigned)
    }

    /// The seal of a catalog cache's `bytes`: their HMAC under the key, if
    /// snapshots are signed (so that the cache cannot list what the key
    /// would refuse).
    pub(crate) fn catalog_seal(&self, bytes: &[u8]) -> Option<String> {
        let key = self.key.as_ref()?;
        let mut mac = Self::catalog_mac(key, b"entries");
        mac.update(bytes);
        Some(hex(&mac.finalize().into_bytes()))
    }

    /// Whether `seal` is the seal of `bytes` ([`catalog_seal`](Self::catalog_seal)).
    pub(crate) fn catalog_seal_matches(&self, bytes: &[u8], seal: Option<&str>) -> bool {
        match (&self.key, seal) {
            (None, None) => true,
            (Some(key), Some(seal)) => unhex(seal).is_some_and(|expected| {
                let mut mac = Self::catalog_mac(key, b"entries");
                mac.update(bytes);
                mac.verify_slice(&expected).is_ok()
            }),
            _ => false,
        }
    }
}

/// Without the `signing` feature: nothing is signed or checked.
#[cfg(not(feature = "signing"))]
impl Codec {
    fn signature(&self, _body: &str) -> Option<String> {
        None
    }

    fn check(&self, _: SessionId, _: u32, _: &str, _: Option<&str>) -> Result<(), LoadError> {
        Ok(())
    }

    fn signing_settings(&self) -> String {
        "key=none;accept_unsigned=false".to_owned()
    }

    pub(crate) fn catalog_seal(&self, _bytes: &[u8]) -> Option<String> {
        None
    }

    pub(crate) fn catalog_seal_matches(&self, _bytes: &[u8], seal: Option<&str>) -> bool {
        seal.is_none()
    }
}

impl Codec {
    /// Whether snapshots are signed (and checked) with a key.
    pub(crate) fn is_signing(&self) -> bool {
        #[cfg(feature = "signing")]
        return self.key.is_some();
        #[cfg(not(feature = "signing"))]
        false
    }

    pub(crate) fn encode(&self, snapshot: &Snapshot) -> Result<Vec<u8>, SaveError> {
        let id = snapshot.id();
        let encode_error = |error: serde_json::Error| SaveError::Encode {
            id,
            reason: error.to_string(),
        };
        let body = serde_json::to_string(snapshot).map_err(encode_error)?;
        let signature = self.signature(&body);
        let raw = RawValue::from_string(body).map_err(encode_error)?;
        serde_json::to_vec(&EnvelopeOut {
            format: FORMAT,
            version: SCHEMA_VERSION,
            signature,
            snapshot: &raw,
        })
        .map_err(encode_error)
    }

    pub(crate) fn decode(&self, id: SessionId, bytes: &[u8]) -> Result<Snapshot, LoadError> {
        let corrupt = |reason: String| LoadError::Corrupt { id, reason };
        let envelope: EnvelopeIn<'_> =
            serde_json::from_slice(bytes).map_err(|error| corrupt(error.to_string()))?;
        if envelope.format != FORMAT {
            return Err(corrupt(format!("unknown format {:?}", envelope.format)));
        }
        if envelope.version != SCHEMA_VERSION {
            return Err(LoadError::UnsupportedVersion {
                id,
                version: envelope.version,
            });
        }
        let body = envelope.snapshot.get();
        self.check(id, envelope.version, body, envelope.signature.as_deref())?;
        let snapshot: Snapshot =
            serde_json::from_str(body).map_err(|error| corrupt(error.to_string()))?;
        if snapshot.id() != id {
            return Err(LoadError::IdMismatch {
                id,
                found: snapshot.id(),
            });
        }
        Ok(snapshot)
    }

    /// What a catalog cache written under these settings records of them:
    /// whether and with which key (by a digest of it, not the key)
    /// snapshots are checked, whether unsigned ones are accepted, and the
    /// size limit. A cache written under other settings is not read.
    pub(crate) fn catalog_settings(&self, max_bytes: u64) -> String {
        format!("{};max_bytes={max_bytes}", self.signing_settings())
    }
}

#[cfg(feature = "signing")]
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    out
}

/// The bytes of `text`, lower-case hex digits only: the one spelling
/// [`hex`] writes (as upstream's case-sensitive comparison accepts one).
#[cfg(feature = "signing")]
fn unhex(text: &str) -> Option<Vec<u8>> {
    fn digit(byte: u8) -> Option<u8> {
        match byte {
            b'0'..=b'9' => Some(byte - b'0'),
            b'a'..=b'f' => Some(byte - b'a' + 10),
            _ => None,
        }
    }
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

#[cfg(all(test, feature = "signing"))]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let bytes = [0_u8, 1, 0xab, 0xff, 0x10];
        assert_eq!(hex(&bytes), "0001abff10");
        assert_eq!(unhex("0001abff10").unwrap(), bytes);
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex("é1"), None);
        // One spelling only: upper case, signs and spaces are refused.
        assert_eq!(unhex("AB"), None);
        assert_eq!(unhex("aB"), None);
        assert_eq!(unhex("+1"), None);
        assert_eq!(unhex(" 1"), None);
    }
}

#[cfg(all(test, not(feature = "signing")))]
mod unsigned_tests {
    use jido_session::{Conversation, Session};

    use super::*;

    /// Without the `signing` feature nothing is signed, and a signature
    /// written by a build with it is not checked (as with no key).
    #[test]
    fn without_signing_no_signature_is_written_or_checked() {
        let project = std::env::temp_dir();
        let session = Session::new(&project).unwrap();
        let snapshot = Snapshot::of(&session, Conversation::default());
        let codec = Codec::default();
        let bytes = codec.encode(&snapshot).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.contains("\"signature\":null"), "{text}");
        let signed = text.replace("\"signature\":null", "\"signature\":\"00ff\"");
        assert_eq!(codec.decode(session.id(), signed.as_bytes()), Ok(snapshot));
        assert!(!codec.is_signing());
        assert_eq!(codec.catalog_seal(b"entries"), None);
        assert!(codec.catalog_seal_matches(b"entries", None));
        assert!(!codec.catalog_seal_matches(b"entries", Some("00")));
    }
}
