//! `Session` and `SessionBuilder`: construction, checks, changes and serde.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use jido_session::{
    MAX_NAME_CHARS, ProjectPath, Session, SessionConfig, SessionError, SessionId, SessionRecord,
    ValidationErrors,
};
use serde_json::{Value, json};
use tempfile::TempDir;

/// A temporary directory holding a project directory called `name`.
fn project(name: &str) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join(name);
    fs::create_dir(&project).unwrap();
    (dir, project)
}

fn name_too_long(name: &str) -> SessionError {
    SessionError::NameTooLong {
        name: name.to_owned(),
        len: name.chars().count(),
        max: MAX_NAME_CHARS,
    }
}

/// The JSON of a valid session on the project directory `path`, created
/// and updated at fixed times in the past.
fn stored_json(path: &Path) -> Value {
    json!({
        "id": "67e55044-10b1-426f-9247-bb680e5fe0c8",
        "name": "stored",
        "project_path": path,
        "config": {
            "provider": "anthropic",
            "model": "claude-3-5-sonnet-20241022",
            "temperature": 0.7,
            "max_tokens": 4096
        },
        "created_at": "2020-01-01T00:00:00Z",
        "updated_at": "2020-06-01T00:00:00Z"
    })
}

/// A session restored from [`stored_json`], on a fresh project directory.
fn stored() -> (TempDir, Session) {
    let (dir, path) = project("stored");
    (dir, restore(stored_json(&path)).unwrap())
}

/// What `Session::from_record` makes of `json`.
fn restore(json: Value) -> Result<Session, ValidationErrors> {
    let record: SessionRecord = serde_json::from_value(json).unwrap();
    Session::from_record(record)
}

fn at(rfc3339: &str) -> DateTime<Utc> {
    rfc3339.parse().unwrap()
}

#[test]
fn new_uses_defaults() {
    let (_dir, path) = project("my-app");
    let session = Session::new(&path).unwrap();
    assert_eq!(session.name(), "my-app");
    assert_eq!(
        session.project_path(),
        &ProjectPath::new(path.canonicalize().unwrap()).unwrap()
    );
    assert_eq!(session.config(), &SessionConfig::default());
    assert_eq!(session.created_at(), session.updated_at());
    assert!((Utc::now() - session.created_at()).abs() < Duration::minutes(1));
    assert_eq!(
        session.id().as_uuid().get_version(),
        Some(uuid::Version::Random)
    );
    assert_eq!(session.validate(), Ok(()));
}

#[test]
fn new_gives_distinct_ids() {
    let (_dir, path) = project("p");
    assert_ne!(
        Session::new(&path).unwrap().id(),
        Session::new(&path).unwrap().id()
    );
}

#[test]
fn new_reports_path_errors() {
    let (dir, _) = project("p");
    let missing = dir.path().join("missing");
    assert_eq!(
        Session::new(&missing),
        Err(SessionError::PathNotFound { path: missing })
    );
    assert_eq!(Session::new(""), Err(SessionError::PathEmpty));
}

#[test]
fn long_folder_name_is_truncated() {
    let folder = "é".repeat(60);
    let (_dir, path) = project(&folder);
    let session = Session::new(&path).unwrap();
    assert_eq!(session.name(), "é".repeat(MAX_NAME_CHARS));
    assert_eq!(session.validate(), Ok(()));
}

#[test]
fn name_length_is_counted_in_chars() {
    let (_dir, path) = project("p");
    let mut session = Session::new(&path).unwrap();

    let fifty = "é".repeat(50);
    assert_eq!(fifty.len(), 100);
    assert_eq!(session.rename(fifty.clone()), Ok(()));
    assert_eq!(session.name(), fifty);

    let fifty_one = "a".repeat(51);
    let error = session.rename(fifty_one.clone()).unwrap_err();
    assert_eq!(error, name_too_long(&fifty_one));
    assert_eq!(
        error.to_string(),
        "session name is 51 characters long; the limit is 50"
    );
    assert_eq!(
        session.rename("é".repeat(51)),
        Err(name_too_long(&"é".repeat(51)))
    );
    assert_eq!(session.name(), fifty);
}

#[test]
fn blank_names_are_rejected() {
    let (_dir, path) = project("p");
    for blank in ["", " ", " \t\n "] {
        assert_eq!(
            Session::builder(&path).name(blank).build(),
            Err(ValidationErrors::from(SessionError::NameEmpty))
        );
    }
}

#[test]
fn builder_sets_name_config_and_id() {
    let (_dir, path) = project("p");
    let id = SessionId::new();
    let config = SessionConfig {
        provider: "openai".to_owned(),
        model: "gpt-4o".to_owned(),
        temperature: 2.0,
        max_tokens: 1,
    };
    let session = Session::builder(&path)
        .name("work")
        .config(config.clone())
        .id(id)
        .build()
        .unwrap();
    assert_eq!(session.id(), id);
    assert_eq!(session.name(), "work");
    assert_eq!(session.config(), &config);
    assert_eq!(session.created_at(), session.updated_at());

    let defaults = Session::builder(&path).build().unwrap();
    assert_eq!(defaults.name(), "p");
    assert_eq!(defaults.config(), &SessionConfig::default());
    assert_ne!(defaults.id(), id);
}

#[test]
fn builder_checks_each_config_field() {
    let (_dir, path) = project("p");
    let build = |config: SessionConfig| Session::builder(&path).config(config).build();
    let base = SessionConfig::default();

    for ok in [0.0, 2.0] {
        let config = SessionConfig {
            temperature: ok,
            ..base.clone()
        };
        assert!(build(config).is_ok(), "{ok}");
    }
    for bad in [-0.1, 2.1] {
        let config = SessionConfig {
            temperature: bad,
            ..base.clone()
        };
        assert_eq!(
            build(config).unwrap_err().errors(),
            &[SessionError::TemperatureOutOfRange {
                value: bad,
                min: 0.0,
                max: 2.0
            }]
        );
    }
    let nan = SessionConfig {
        temperature: f64::NAN,
        ..base.clone()
    };
    assert!(matches!(
        build(nan).unwrap_err().errors(),
        [SessionError::TemperatureNotFinite { value }] if value.is_nan()
    ));
    let zero = SessionConfig {
        max_tokens: 0,
        ..base.clone()
    };
    assert_eq!(
        build(zero).unwrap_err().errors(),
        &[SessionError::MaxTokensZero]
    );
    let no_provider = SessionConfig {
        provider: String::new(),
        ..base.clone()
    };
    assert_eq!(
        build(no_provider).unwrap_err().errors(),
        &[SessionError::ProviderEmpty]
    );
    let no_model = SessionConfig {
        model: "  ".to_owned(),
        ..base
    };
    assert_eq!(
        build(no_model).unwrap_err().errors(),
        &[SessionError::ModelEmpty]
    );
}

#[test]
fn builder_collects_all_errors_in_order() {
    let (dir, _) = project("p");
    let missing = dir.path().join("missing");
    let long = "x".repeat(51);
    let errors = Session::builder(&missing)
        .name(long.clone())
        .config(SessionConfig {
            provider: " ".to_owned(),
            model: String::new(),
            temperature: f64::INFINITY,
            max_tokens: 0,
        })
        .build()
        .unwrap_err();
    assert_eq!(
        errors.errors(),
        &[
            name_too_long(&long),
            SessionError::PathNotFound {
                path: missing.clone()
            },
            SessionError::ProviderEmpty,
            SessionError::ModelEmpty,
            SessionError::TemperatureNotFinite {
                value: f64::INFINITY
            },
            SessionError::MaxTokensZero,
        ]
    );
    assert_eq!(
        errors.to_string(),
        format!(
            "session name is 51 characters long; the limit is 50; \
             project path {} does not exist; \
             LLM provider is empty; LLM model is empty; \
             temperature inf is not a finite number; \
             max_tokens is 0; it must be at least 1",
            missing.display()
        )
    );
}

#[test]
fn builder_without_name_reports_only_the_path() {
    let errors = Session::builder("").build().unwrap_err();
    assert_eq!(errors.errors(), &[SessionError::PathEmpty]);
}

#[test]
fn validate_reports_a_vanished_directory() {
    let (_dir, path) = project("p");
    let session = Session::new(&path).unwrap();
    let canonical = session.project_path().as_path().to_path_buf();
    fs::remove_dir(&path).unwrap();
    assert_eq!(
        session.validate().unwrap_err().errors(),
        &[SessionError::PathNotFound { path: canonical }]
    );
}

#[test]
fn rename_bumps_updated_at_only() {
    let (_dir, mut session) = stored();
    let before = session.clone();
    session.rename("renamed").unwrap();
    assert_eq!(session.name(), "renamed");
    assert_eq!(session.created_at(), before.created_at());
    assert!(session.updated_at() > before.updated_at());
    assert!((Utc::now() - session.updated_at()).abs() < Duration::minutes(1));
    assert_eq!(session.id(), before.id());
    assert_eq!(session.config(), before.config());
}

#[test]
fn failed_rename_leaves_the_session_unchanged() {
    let (_dir, mut session) = stored();
    let before = session.clone();
    assert_eq!(session.rename("   "), Err(SessionError::NameEmpty));
    assert_eq!(session, before);
    assert!(session.rename("y".repeat(51)).is_err());
    assert_eq!(session, before);
}

#[test]
fn update_config_bumps_updated_at_only() {
    let (_dir, mut session) = stored();
    let before = session.clone();
    let config = SessionConfig {
        temperature: 0.0,
        ..SessionConfig::default()
    };
    session.update_config(config.clone()).unwrap();
    assert_eq!(session.config(), &config);
    assert_eq!(session.created_at(), before.created_at());
    assert!(session.updated_at() > before.updated_at());
    assert_eq!(session.name(), before.name());
}

#[test]
fn failed_update_config_leaves_the_session_unchanged() {
    let (_dir, mut session) = stored();
    let before = session.clone();
    let errors = session
        .update_config(SessionConfig {
            model: String::new(),
            temperature: -0.1,
            ..SessionConfig::default()
        })
        .unwrap_err();
    assert_eq!(
        errors.errors(),
        &[
            SessionError::ModelEmpty,
            SessionError::TemperatureOutOfRange {
                value: -0.1,
                min: 0.0,
                max: 2.0
            },
        ]
    );
    assert_eq!(session, before);
}

#[test]
fn updated_at_never_goes_backwards() {
    let (_dir, path) = project("p");
    let mut stored = stored_json(&path);
    stored["created_at"] = json!("2020-01-01T00:00:00Z");
    stored["updated_at"] = json!("2999-01-01T00:00:00Z");
    let mut session = restore(stored).unwrap();
    session.rename("later").unwrap();
    assert_eq!(session.updated_at(), at("2999-01-01T00:00:00Z"));
    session.update_config(SessionConfig::default()).unwrap();
    assert_eq!(session.updated_at(), at("2999-01-01T00:00:00Z"));
}

#[test]
fn serde_roundtrips_through_a_record() {
    let (_dir, path) = project("roundtrip");
    let mut session = Session::new(&path).unwrap();
    session.rename("round trip").unwrap();
    let json = serde_json::to_value(&session).unwrap();
    assert_eq!(json["id"], json!(session.id().to_string()));
    assert_eq!(json["name"], json!("round trip"));
    assert_eq!(
        json["project_path"],
        json!(session.project_path().to_str().unwrap())
    );
    assert_eq!(json, serde_json::to_value(session.to_record()).unwrap());
    let restored = restore(json).unwrap();
    assert_eq!(restored, session);
    assert_eq!(restored.validate(), Ok(()));
}

#[test]
fn stored_fields_are_read_back() {
    let (_dir, path) = project("p");
    let session = restore(stored_json(&path)).unwrap();
    assert_eq!(
        session.id().to_string(),
        "67e55044-10b1-426f-9247-bb680e5fe0c8"
    );
    assert_eq!(session.name(), "stored");
    assert_eq!(
        session.project_path().as_path(),
        path.canonicalize().unwrap()
    );
    assert_eq!(session.created_at(), at("2020-01-01T00:00:00Z"));
    assert_eq!(session.updated_at(), at("2020-06-01T00:00:00Z"));
}

// Issue 8, item 1: a deserialized session used to skip the file-system
// checks, so a symlink spelling of a project, or a directory that does not
// exist, could be registered. A record now goes through every check of
// `Session::new`.
#[test]
fn a_record_through_a_symlink_names_the_target_project() {
    let (_dir, path) = project("real");
    let link = path.parent().unwrap().join("alias");
    std::os::unix::fs::symlink(&path, &link).unwrap();
    let direct = restore(stored_json(&path)).unwrap();
    let through_link = restore(stored_json(&link)).unwrap();
    assert_eq!(through_link.project_path(), direct.project_path());
    assert_eq!(
        through_link.project_path().as_path(),
        path.canonicalize().unwrap()
    );
}

#[test]
fn a_record_on_a_missing_directory_or_a_file_is_refused() {
    let (dir, path) = project("p");
    let missing = dir.path().join("definitely-not-here");
    assert_eq!(
        restore(stored_json(&missing)).unwrap_err().errors(),
        &[SessionError::PathNotFound { path: missing }]
    );
    let file = path.join("file.txt");
    fs::write(&file, "x").unwrap();
    assert_eq!(
        restore(stored_json(&file)).unwrap_err().errors(),
        &[SessionError::PathNotADirectory { path: file }]
    );
    assert_eq!(
        restore(stored_json(Path::new("relative/dir")))
            .unwrap_err()
            .errors(),
        &[SessionError::PathNotAbsolute {
            path: "relative/dir".into()
        }]
    );
}

fn record_errors(edit: impl FnOnce(&mut Value)) -> String {
    let (_dir, path) = project("p");
    let mut stored = stored_json(&path);
    edit(&mut stored);
    restore(stored).unwrap_err().to_string()
}

#[test]
fn records_with_bad_names_are_refused() {
    let message = record_errors(|s| s["name"] = json!("n".repeat(51)));
    assert!(message.contains("51 characters long"), "{message}");
    let message = record_errors(|s| s["name"] = json!(" "));
    assert!(message.contains("session name is empty"), "{message}");
}

#[test]
fn records_with_bad_configs_are_refused() {
    let message = record_errors(|s| s["config"]["temperature"] = json!(2.5));
    assert!(
        message.contains("temperature 2.5 is out of range"),
        "{message}"
    );
    let message = record_errors(|s| s["config"]["max_tokens"] = json!(0));
    assert!(message.contains("max_tokens is 0"), "{message}");
}

#[test]
fn records_updated_before_created_are_refused() {
    let message = record_errors(|s| s["updated_at"] = json!("2019-12-31T23:59:59Z"));
    assert!(message.contains("before it was created"), "{message}");
}

#[test]
fn a_record_reports_every_problem_in_order() {
    let message = record_errors(|s| {
        s["name"] = json!("");
        s["project_path"] = json!("/jido-session-test/missing");
        s["config"]["provider"] = json!("");
        s["updated_at"] = json!("2019-01-01T00:00:00Z");
    });
    assert!(
        message.starts_with(
            "session name is empty; project path /jido-session-test/missing does not exist; \
             LLM provider is empty; session was updated at"
        ),
        "{message}"
    );
}

#[test]
fn records_with_bad_ids_or_missing_fields_do_not_deserialize() {
    let (_dir, path) = project("p");
    let mut stored = stored_json(&path);
    stored["id"] = json!("c232ab00-9414-11ec-b3c8-9f6bdeced846");
    let message = serde_json::from_value::<SessionRecord>(stored)
        .unwrap_err()
        .to_string();
    assert!(message.contains("invalid session id"), "{message}");
    let mut stored = stored_json(&path);
    stored.as_object_mut().unwrap().remove("created_at");
    let message = serde_json::from_value::<SessionRecord>(stored)
        .unwrap_err()
        .to_string();
    assert!(message.contains("created_at"), "{message}");
}
