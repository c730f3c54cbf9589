//! Validated coding-assistant sessions.
//!
//! A [`Session`] is one conversation of a coding assistant with a project:
//! it has a random [`SessionId`], a display name, the canonical
//! [`ProjectPath`] of the project directory, the LLM settings
//! ([`SessionConfig`]) and its creation and last-update times. This crate is
//! the Rust port of the session model of `jido_code`.
//!
//! Every `Session` is valid by construction: [`Session::new`],
//! [`SessionBuilder::build`], [`Session::from_record`] (for what comes from
//! storage: serialized sessions deserialize into a [`SessionRecord`]),
//! [`Session::rename`] and [`Session::update_config`] all check their input,
//! and fields are only reachable through accessors. Checks that can find several
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
//! use jido_session::{Session, SessionConfig, SessionError, SessionRecord};
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
//! let record: SessionRecord = serde_json::from_str(&json)?;
//! assert_eq!(Session::from_record(record)?, session);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

mod boundary;
mod config;
mod conversation;
mod error;
mod id;
mod path;
mod record;
mod session;

pub use boundary::{
    BoundaryError, DEFAULT_PROTECTED, DEFAULT_READ_LIMIT, DirEntry, EntryKind, FileContent,
    FileError, MAX_LINE_CHARS, ProjectBoundary,
};
pub use config::{MAX_TEMPERATURE, MIN_TEMPERATURE, SessionConfig};
pub use conversation::{
    Change, Conversation, ConversationError, ConversationLimits, FileOperation, Message, Page,
    PageMeta, ReasoningStep, Role, Todo, TodoStatus, ToolCall, ToolStatus,
};
pub use error::{MAX_ECHO_CHARS, SessionError, ValidationErrors};
pub use id::SessionId;
pub use path::{DirectoryId, MAX_PATH_BYTES, ProjectPath};
pub use record::SessionRecord;
pub use session::{MAX_NAME_CHARS, Session, SessionBuilder};
