//! [`Session`], its [`SessionBuilder`], and the operations that change a
//! session (`rename`, `update_config`).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::{SessionConfig, is_blank};
use crate::error::{SessionError, ValidationErrors, echo};
use crate::id::SessionId;
use crate::path::ProjectPath;
use crate::record::SessionRecord;

/// The longest accepted session name, in characters (Unicode scalar values).
pub const MAX_NAME_CHARS: usize = 50;

/// A coding-assistant session: an id, a display name, the canonical path of
/// the project it works on, its LLM settings and its timestamps.
///
/// Fields are private so every `Session` upholds its invariants: the name
/// is not blank and has at most [`MAX_NAME_CHARS`] characters, the config
/// passes [`SessionConfig::validate`], `updated_at >= created_at`, and the
/// project path is canonical and was an existing, readable and writable
/// directory when the session was made. Only the file-system state of the
/// project directory can change behind a session's back, which
/// [`validate`](Self::validate) re-checks.
///
/// Serialized form (e.g. JSON): an object with `id`, `name`,
/// `project_path`, `config`, `created_at` and `updated_at` (RFC 3339). It
/// deserializes into a [`SessionRecord`], not a `Session`: what comes from
/// storage or another process becomes a session only through
/// [`from_record`](Self::from_record), which runs every check of
/// [`new`](Self::new).
///
/// ```compile_fail
/// // A Session cannot be deserialized: it would skip the file-system checks.
/// let session: jido_session::Session = serde_json::from_str("{}").unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Session {
    id: SessionId,
    name: String,
    project_path: ProjectPath,
    config: SessionConfig,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl Session {
    /// Opens a session on the project directory at `path`, with a new
    /// random id, the default [`SessionConfig`], and the directory's name
    /// (truncated to [`MAX_NAME_CHARS`] characters) as its name.
    ///
    /// `created_at` and `updated_at` are the same instant.
    ///
    /// # Errors
    ///
    /// Any error of [`ProjectPath::new`].
    ///
    /// # Examples
    ///
    /// ```
    /// use jido_session::Session;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let project = dir.path().join("my-project");
    /// std::fs::create_dir(&project)?;
    ///
    /// let session = Session::new(&project)?;
    /// assert_eq!(session.name(), "my-project");
    /// assert_eq!(session.project_path().as_path(), project.canonicalize()?);
    /// assert_eq!(session.created_at(), session.updated_at());
    /// assert!(session.validate().is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(path: impl AsRef<Path>) -> Result<Session, SessionError> {
        let project_path = ProjectPath::new(path)?;
        let name = default_name(&project_path);
        Ok(Self::assemble(
            SessionId::new(),
            name,
            project_path,
            SessionConfig::default(),
        ))
    }

    /// Starts building a session on the project directory at `path`; see
    /// [`SessionBuilder`].
    pub fn builder(path: impl AsRef<Path>) -> SessionBuilder {
        SessionBuilder {
            path: path.as_ref().to_path_buf(),
            name: None,
            config: None,
            id: None,
        }
    }

    fn assemble(
        id: SessionId,
        name: String,
        project_path: ProjectPath,
        config: SessionConfig,
    ) -> Self {
        let now = Utc::now();
        Self {
            id,
            name,
            project_path,
            config,
            created_at: now,
            updated_at: now,
        }
    }

    /// The session's id.
    #[must_use]
    pub fn id(&self) -> SessionId {
        self.id
    }

    /// The session's display name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The canonical path of the project directory.
    #[must_use]
    pub fn project_path(&self) -> &ProjectPath {
        &self.project_path
    }

    /// The LLM settings.
    #[must_use]
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// When the session was created.
    #[must_use]
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    /// When the session was last changed; never earlier than
    /// [`created_at`](Self::created_at).
    #[must_use]
    pub fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }

    /// Checks the whole session, including that the project directory still
    /// exists and is readable and writable.
    ///
    /// # Errors
    ///
    /// Every failure, in this order: name ([`SessionError::NameEmpty`] or
    /// [`SessionError::NameTooLong`]), path (as [`ProjectPath::check`]),
    /// provider, model, temperature, `max_tokens` (as
    /// [`SessionConfig::validate`]), then
    /// [`SessionError::UpdatedBeforeCreated`].
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = Vec::new();
        push_err(&mut errors, check_name(&self.name));
        push_err(&mut errors, self.project_path.check());
        self.config.collect_errors(&mut errors);
        push_err(
            &mut errors,
            check_timestamps(self.created_at, self.updated_at),
        );
        ValidationErrors::check(errors)
    }

    /// Renames the session and bumps [`updated_at`](Self::updated_at).
    ///
    /// # Errors
    ///
    /// [`SessionError::NameEmpty`] if `name` is empty or whitespace,
    /// [`SessionError::NameTooLong`] if it has more than [`MAX_NAME_CHARS`]
    /// characters. On error the session is unchanged.
    pub fn rename(&mut self, name: impl Into<String>) -> Result<(), SessionError> {
        let name = name.into();
        check_name(&name)?;
        self.name = name;
        self.touch();
        Ok(())
    }

    /// Replaces the LLM settings and bumps [`updated_at`](Self::updated_at).
    ///
    /// # Errors
    ///
    /// Every failure of [`SessionConfig::validate`]. On error the session is
    /// unchanged.
    pub fn update_config(&mut self, config: SessionConfig) -> Result<(), ValidationErrors> {
        config.validate()?;
        self.config = config;
        self.touch();
        Ok(())
    }

    /// Turns a stored or received record into a session, after every check
    /// [`new`](Self::new) and [`validate`](Self::validate) make: the project
    /// path must be absolute, is canonicalized (symlinks and `..` resolved,
    /// so a record spelling a project through a symlink names the same
    /// project as any other spelling), and must be an existing, readable and
    /// writable directory.
    ///
    /// # Errors
    ///
    /// Every failure, in this order: name, path
    /// ([`SessionError::PathNotAbsolute`], or as [`ProjectPath::new`]),
    /// provider, model, temperature, `max_tokens`, then
    /// [`SessionError::UpdatedBeforeCreated`].
    pub fn from_record(record: SessionRecord) -> Result<Session, ValidationErrors> {
        let SessionRecord {
            id,
            name,
            project_path,
            config,
            created_at,
            updated_at,
        } = record;
        let project = if project_path.is_absolute() {
            ProjectPath::new(&project_path)
        } else {
            Err(SessionError::PathNotAbsolute { path: project_path })
        };
        let project_path = checked(
            Some(&name),
            project,
            &config,
            Some((created_at, updated_at)),
        )?;
        Ok(Session {
            id,
            name,
            project_path,
            config,
            created_at,
            updated_at,
        })
    }

    /// The session as a plain record, to store or send.
    #[must_use]
    pub fn to_record(&self) -> SessionRecord {
        SessionRecord {
            id: self.id,
            name: self.name.clone(),
            project_path: self.project_path.as_path().to_path_buf(),
            config: self.config.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// Sets `updated_at` to now, unless the wall clock went backwards: it
    /// never decreases.
    fn touch(&mut self) {
        self.updated_at = self.updated_at.max(Utc::now());
    }
}

/// Builds a [`Session`] with a chosen name, config or id, reporting every
/// problem at once.
///
/// # Examples
///
/// ```
/// use jido_session::{Session, SessionConfig, SessionError};
///
/// let dir = tempfile::tempdir()?;
/// let session = Session::builder(dir.path())
///     .name("refactoring")
///     .config(SessionConfig { temperature: 0.0, ..SessionConfig::default() })
///     .build()?;
/// assert_eq!(session.name(), "refactoring");
///
/// let errors = Session::builder(dir.path().join("missing"))
///     .name("  ")
///     .config(SessionConfig { max_tokens: 0, ..SessionConfig::default() })
///     .build()
///     .unwrap_err();
/// assert_eq!(errors.len(), 3);
/// assert_eq!(errors.first(), &SessionError::NameEmpty);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct SessionBuilder {
    path: PathBuf,
    name: Option<String>,
    config: Option<SessionConfig>,
    id: Option<SessionId>,
}

impl SessionBuilder {
    /// Sets the name; by default the project directory's name, truncated to
    /// [`MAX_NAME_CHARS`] characters.
    pub fn name(self, name: impl Into<String>) -> Self {
        Self {
            name: Some(name.into()),
            ..self
        }
    }

    /// Sets the LLM settings; by default [`SessionConfig::default`].
    pub fn config(self, config: SessionConfig) -> Self {
        Self {
            config: Some(config),
            ..self
        }
    }

    /// Sets the id, e.g. to restore a persisted session; by default a new
    /// random id.
    pub fn id(self, id: SessionId) -> Self {
        Self {
            id: Some(id),
            ..self
        }
    }

    /// Checks everything and builds the session.
    ///
    /// # Errors
    ///
    /// Every failure, in this order: name (only when one was set), path (as
    /// [`ProjectPath::new`]), then the config (as
    /// [`SessionConfig::validate`]).
    pub fn build(self) -> Result<Session, ValidationErrors> {
        let config = self.config.unwrap_or_default();
        let project_path = checked(
            self.name.as_deref(),
            ProjectPath::new(&self.path),
            &config,
            None,
        )?;
        let name = self.name.unwrap_or_else(|| default_name(&project_path));
        let id = self.id.unwrap_or_default();
        Ok(Session::assemble(id, name, project_path, config))
    }
}

/// Runs the checks shared by every way of making a session, collecting every
/// failure in the documented order — name (when there is one), path,
/// config, timestamps (when given) — and returns the checked path.
fn checked(
    name: Option<&str>,
    project_path: Result<ProjectPath, SessionError>,
    config: &SessionConfig,
    timestamps: Option<(DateTime<Utc>, DateTime<Utc>)>,
) -> Result<ProjectPath, ValidationErrors> {
    let mut errors = Vec::new();
    if let Some(name) = name {
        push_err(&mut errors, check_name(name));
    }
    if let Err(error) = &project_path {
        errors.push(error.clone());
    }
    config.collect_errors(&mut errors);
    if let Some((created_at, updated_at)) = timestamps {
        push_err(&mut errors, check_timestamps(created_at, updated_at));
    }
    ValidationErrors::check(errors)?;
    // A path error was pushed above, so `check` already returned it.
    Ok(project_path?)
}

/// The name of a session opened without one: the folder name truncated to
/// [`MAX_NAME_CHARS`] characters, or, if that is blank (a folder named
/// `"  "`), the whole path truncated the same way. Always passes
/// [`check_name`]: the whole path starts with `/`.
fn default_name(path: &ProjectPath) -> String {
    let folder = path.folder_name();
    let name = if is_blank(&folder) {
        path.to_string_lossy().into_owned()
    } else {
        folder
    };
    name.chars().take(MAX_NAME_CHARS).collect()
}

fn check_name(name: &str) -> Result<(), SessionError> {
    if is_blank(name) {
        return Err(SessionError::NameEmpty);
    }
    let len = name.chars().count();
    if len > MAX_NAME_CHARS {
        return Err(SessionError::NameTooLong {
            name: echo(name),
            len,
            max: MAX_NAME_CHARS,
        });
    }
    Ok(())
}

fn check_timestamps(
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
) -> Result<(), SessionError> {
    if updated_at < created_at {
        Err(SessionError::UpdatedBeforeCreated {
            created_at,
            updated_at,
        })
    } else {
        Ok(())
    }
}

fn push_err(errors: &mut Vec<SessionError>, result: Result<(), SessionError>) {
    if let Err(error) = result {
        errors.push(error);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_folder_name_falls_back_to_the_path() {
        let path = ProjectPath::unchecked("/tmp/   ");
        assert_eq!(default_name(&path), "/tmp/   ");
        assert_eq!(check_name(&default_name(&path)), Ok(()));
    }

    #[test]
    fn long_folder_name_is_truncated_by_chars() {
        let path = ProjectPath::unchecked(format!("/{}", "é".repeat(60)));
        let name = default_name(&path);
        assert_eq!(name, "é".repeat(MAX_NAME_CHARS));
        assert_eq!(check_name(&name), Ok(()));
    }

    #[test]
    fn validate_reports_every_error_in_order() {
        let created_at = Utc::now();
        let updated_at = created_at - chrono::Duration::seconds(1);
        let session = Session {
            id: SessionId::new(),
            name: " ".to_owned(),
            project_path: ProjectPath::unchecked("/jido-session-test/missing"),
            config: SessionConfig {
                provider: String::new(),
                model: String::new(),
                temperature: -1.0,
                max_tokens: 0,
            },
            created_at,
            updated_at,
        };
        assert_eq!(
            session.validate().unwrap_err().into_vec(),
            vec![
                SessionError::NameEmpty,
                SessionError::PathNotFound {
                    path: "/jido-session-test/missing".into()
                },
                SessionError::ProviderEmpty,
                SessionError::ModelEmpty,
                SessionError::TemperatureOutOfRange {
                    value: -1.0,
                    min: 0.0,
                    max: 2.0
                },
                SessionError::MaxTokensZero,
                SessionError::UpdatedBeforeCreated {
                    created_at,
                    updated_at
                },
            ]
        );
        let long = Session {
            name: "n".repeat(51),
            ..session
        };
        assert!(matches!(
            long.validate().unwrap_err().first(),
            SessionError::NameTooLong {
                len: 51,
                max: 50,
                ..
            }
        ));
    }

    #[test]
    fn touch_never_goes_backwards() {
        let dir = tempfile::tempdir().unwrap();
        let mut session = Session::new(dir.path()).unwrap();
        let future = Utc::now() + chrono::Duration::days(365);
        session.updated_at = future;
        session.touch();
        assert_eq!(session.updated_at, future);
    }
}
