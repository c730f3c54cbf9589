//! Validated coding-assistant sessions.
//!
//! A [`Session`] is one conversation of a coding assistant with a project:
//! it has a random [`SessionId`], a display name, the canonical
//! [`ProjectPath`] of the project directory, the LLM settings
//! ([`SessionConfig`]) and its creation and last-update times. This crate is
//! the Rust port of the session model of `jido_code`.
//!
//! Every `Session` is valid by construction: [`Session::new`],
//! [`SessionBuilder::build`], [`Session::rename`],
//! [`Session::update_config`] and deserialization all check their input, and
//! fields are only reachable through accessors. Checks that can find several
//! problems report all of them at once, in a fixed order, as
//! [`ValidationErrors`]; each problem is a [`SessionError`].
//!
//! The project path is canonical (absolute, with symlinks and `..`
//! resolved), so two spellings of one directory give equal
//! [`ProjectPath`]s; use it as the key to find the session of a project.
//!
//! # Example
//!
//! ```
//! use jido_session::{Session, SessionConfig, SessionError};
//!
//! let dir = tempfile::tempdir()?;
//! let mut session = Session::new(dir.path())?;
//! assert!(session.validate().is_ok());
//!
//! session.rename("bug hunt")?;
//! assert_eq!(session.name(), "bug hunt");
//!
//! let hot = SessionConfig { temperature: 3.0, ..SessionConfig::default() };
//! let errors = session.update_config(hot).unwrap_err();
//! assert!(matches!(errors.first(), SessionError::TemperatureOutOfRange { .. }));
//! assert_eq!(session.config(), &SessionConfig::default());
//!
//! let json = serde_json::to_string(&session)?;
//! let restored: Session = serde_json::from_str(&json)?;
//! assert_eq!(restored, session);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

mod config;
mod error;
mod id;
mod path;
mod session;

pub use config::{MAX_TEMPERATURE, MIN_TEMPERATURE, SessionConfig};
pub use error::{SessionError, ValidationErrors};
pub use id::SessionId;
pub use path::{MAX_PATH_BYTES, ProjectPath};
pub use session::{MAX_NAME_CHARS, Session, SessionBuilder};
