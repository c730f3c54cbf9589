//! Every refusal of a stored snapshot is a typed error, and nothing is lost:
//! not found, too large (on load and on save), corrupt or truncated, an
//! unsupported version, unsigned or tampered (with a key), stored under
//! another id; listing skips and reports what it cannot read; cleanup by
//! age; deleting what is gone succeeds.

use std::fs;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use jido_session::{Conversation, Message, Role, Session, SessionId};
use jido_store::{
    DEFAULT_MAX_AGE, DEFAULT_MAX_SNAPSHOT_BYTES, FileStore, LoadError, Persistence, SaveError,
    Skipped, Snapshot, StoreError,
};
use tempfile::TempDir;

struct Fixture {
    _project: TempDir,
    store_dir: TempDir,
    session: Session,
}

impl Fixture {
    fn new() -> Self {
        let project = tempfile::tempdir().unwrap();
        let session = Session::new(project.path()).unwrap();
        Fixture {
            _project: project,
            store_dir: tempfile::tempdir().unwrap(),
            session,
        }
    }

    fn persistence(&self) -> Persistence {
        Persistence::in_dir(self.store_dir.path()).unwrap()
    }

    fn file(&self, id: SessionId) -> std::path::PathBuf {
        FileStore::new(self.store_dir.path()).unwrap().path_of(id)
    }

    fn snapshot(&self, messages: usize) -> Snapshot {
        let mut conversation = Conversation::default();
        for n in 0..messages {
            conversation.push_message(Message::new(Role::User, format!("m{n}")));
        }
        Snapshot::of(&self.session, conversation)
    }
}

#[tokio::test]
async fn a_missing_snapshot_is_not_found_and_deleting_it_succeeds() {
    let f = Fixture::new();
    let id = SessionId::new();
    assert_eq!(
        f.persistence().load(id).await,
        Err(LoadError::NotFound { id })
    );
    assert_eq!(f.persistence().delete(id).await, Ok(()));
    let snapshot = f.snapshot(1);
    f.persistence().save(&snapshot).await.unwrap();
    f.persistence().delete(snapshot.id()).await.unwrap();
    f.persistence().delete(snapshot.id()).await.unwrap();
    assert!(f.persistence().list().await.unwrap().snapshots.is_empty());
}

#[tokio::test]
async fn snapshots_over_the_limit_are_refused_on_load_and_never_written() {
    let f = Fixture::new();
    assert_eq!(DEFAULT_MAX_SNAPSHOT_BYTES, 10 * 1024 * 1024);
    let snapshot = f.snapshot(20);
    f.persistence().save(&snapshot).await.unwrap();
    let size = fs::metadata(f.file(snapshot.id())).unwrap().len();

    let small = f.persistence().max_snapshot_bytes(size - 1);
    assert_eq!(
        small.load(snapshot.id()).await,
        Err(LoadError::TooLarge {
            id: snapshot.id(),
            size,
            limit: size - 1
        })
    );
    // Saving what could not be loaded back is refused; the old one stays.
    let bigger = f.snapshot(40);
    assert!(matches!(
        small.save(&bigger).await,
        Err(SaveError::TooLarge { .. })
    ));
    assert_eq!(f.persistence().load(snapshot.id()).await.unwrap(), snapshot);
}

#[tokio::test]
async fn corrupt_truncated_and_foreign_files_are_corrupt() {
    let f = Fixture::new();
    let snapshot = f.snapshot(3);
    f.persistence().save(&snapshot).await.unwrap();
    let path = f.file(snapshot.id());
    let good = fs::read(&path).unwrap();
    let id = snapshot.id();

    for bytes in [
        good[..good.len() / 2].to_vec(),
        b"not json".to_vec(),
        br#"{"format":"something else","version":1,"snapshot":{}}"#.to_vec(),
        br#"{"format":"jido-session-snapshot","version":1,"snapshot":{"session":1}}"#.to_vec(),
        Vec::new(),
    ] {
        fs::write(&path, &bytes).unwrap();
        assert!(
            matches!(f.persistence().load(id).await, Err(LoadError::Corrupt { id: got, .. }) if got == id),
            "{}",
            String::from_utf8_lossy(&bytes)
        );
    }
}

#[tokio::test]
async fn another_schema_version_is_refused_by_number() {
    let f = Fixture::new();
    let snapshot = f.snapshot(1);
    f.persistence().save(&snapshot).await.unwrap();
    let path = f.file(snapshot.id());
    let text = fs::read_to_string(&path)
        .unwrap()
        .replace("\"version\":1", "\"version\":2");
    fs::write(&path, text).unwrap();
    assert_eq!(
        f.persistence().load(snapshot.id()).await,
        Err(LoadError::UnsupportedVersion {
            id: snapshot.id(),
            version: 2
        })
    );
}

#[cfg(feature = "signing")]
#[tokio::test]
async fn a_tampered_signed_snapshot_is_refused_and_unsigned_ones_only_if_allowed() {
    let f = Fixture::new();
    let signed = f.persistence().signed_with(b"secret");
    let snapshot = f.snapshot(2);
    let id = snapshot.id();
    signed.save(&snapshot).await.unwrap();
    assert_eq!(signed.load(id).await.unwrap(), snapshot);

    // One character of the conversation changed.
    let path = f.file(id);
    let original = fs::read_to_string(&path).unwrap();
    fs::write(&path, original.replacen("\"m1\"", "\"m9\"", 1)).unwrap();
    assert_eq!(signed.load(id).await, Err(LoadError::BadSignature { id }));
    // Another key.
    fs::write(&path, &original).unwrap();
    let other = f.persistence().signed_with(b"other");
    assert_eq!(other.load(id).await, Err(LoadError::BadSignature { id }));
    // A signature that is not even hex.
    let garbled = original.replacen("\"signature\":\"", "\"signature\":\"zz", 1);
    fs::write(&path, garbled).unwrap();
    assert_eq!(signed.load(id).await, Err(LoadError::BadSignature { id }));
    // The right signature in upper case: one spelling only, as upstream.
    let start = original.find("\"signature\":\"").unwrap() + "\"signature\":\"".len();
    let end = start + original[start..].find('"').unwrap();
    let shouted = format!(
        "{}{}{}",
        &original[..start],
        original[start..end].to_uppercase(),
        &original[end..]
    );
    assert_ne!(shouted, original);
    fs::write(&path, shouted).unwrap();
    assert_eq!(signed.load(id).await, Err(LoadError::BadSignature { id }));

    // Unsigned: refused with a key, unless allowed.
    f.persistence().save(&snapshot).await.unwrap();
    assert_eq!(signed.load(id).await, Err(LoadError::Unsigned { id }));
    let lenient = signed.clone().accept_unsigned(true);
    assert_eq!(lenient.load(id).await.unwrap(), snapshot);
    // Stripping the signature off a signed one does not help when
    // unsigned ones are refused.
    signed.save(&snapshot).await.unwrap();
    let text = fs::read_to_string(&path).unwrap();
    let start = text.find("\"signature\":\"").unwrap();
    let end = start + text[start..].find("\",").unwrap() + 2;
    let stripped = format!("{}{}", &text[..start], &text[end..]);
    fs::write(&path, stripped).unwrap();
    assert_eq!(signed.load(id).await, Err(LoadError::Unsigned { id }));
}

#[tokio::test]
async fn a_snapshot_copied_under_another_id_is_refused() {
    let f = Fixture::new();
    let snapshot = f.snapshot(1);
    f.persistence().save(&snapshot).await.unwrap();
    let other = SessionId::new();
    fs::copy(f.file(snapshot.id()), f.file(other)).unwrap();
    assert_eq!(
        f.persistence().load(other).await,
        Err(LoadError::IdMismatch {
            id: other,
            found: snapshot.id()
        })
    );
}

/// Saves one snapshot per entry of `days_ago`, each of a session on a
/// project of its own closed that many days before `now`; returns their ids
/// and the projects (kept alive).
async fn save_closed(
    persistence: &Persistence,
    days_ago: &[i64],
    now: chrono::DateTime<Utc>,
) -> (Vec<SessionId>, Vec<TempDir>) {
    let mut ids = Vec::new();
    let mut projects = Vec::new();
    for days in days_ago {
        let project = tempfile::tempdir().unwrap();
        let session = Session::new(project.path()).unwrap();
        let mut snapshot = Snapshot::of(&session, Conversation::default());
        snapshot.closed_at = now - chrono::Duration::days(*days);
        persistence.save(&snapshot).await.unwrap();
        ids.push(snapshot.id());
        projects.push(project);
    }
    (ids, projects)
}

#[tokio::test]
async fn listing_is_newest_closed_first_and_reports_what_it_cannot_read() {
    let store = tempfile::tempdir().unwrap();
    let persistence = Persistence::in_dir(store.path()).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap();
    let (ids, _projects) = save_closed(&persistence, &[5, 1, 3], now).await;
    let corrupt = SessionId::new();
    fs::write(FileStore::new(store.path()).unwrap().path_of(corrupt), "{").unwrap();

    let listing = persistence.list().await.unwrap();
    let order: Vec<SessionId> = listing.snapshots.iter().map(|s| s.id).collect();
    assert_eq!(order, [ids[1], ids[2], ids[0]]);
    assert_eq!(listing.unreadable.len(), 1);
    assert!(matches!(listing.unreadable[0], (id, LoadError::Corrupt { .. }) if id == corrupt));
}

#[tokio::test]
async fn cleanup_deletes_what_is_older_than_the_max_age_and_says_what_it_kept() {
    assert_eq!(DEFAULT_MAX_AGE, Duration::from_secs(30 * 86_400));
    let store = tempfile::tempdir().unwrap();
    let persistence = Persistence::in_dir(store.path()).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap();
    let (ids, _projects) = save_closed(&persistence, &[31, 29], now).await;
    let corrupt = SessionId::new();
    fs::write(FileStore::new(store.path()).unwrap().path_of(corrupt), "").unwrap();

    let report = persistence.cleanup_at(DEFAULT_MAX_AGE, now).await.unwrap();
    assert_eq!(report.deleted, [ids[0]]);
    assert!(report.failed.is_empty());
    // The recent one is counted, not listed.
    assert_eq!(report.kept, 1);
    assert_eq!(report.skipped.len(), 1);
    assert!(
        report.skipped.iter().any(|(id, why)| *id == corrupt
            && matches!(why, Skipped::Unreadable(LoadError::Corrupt { .. })))
    );
    assert_eq!(
        persistence.load(ids[0]).await,
        Err(LoadError::NotFound { id: ids[0] })
    );
    assert!(persistence.load(ids[1]).await.is_ok());
}

/// Issue 24: a store whose directory was removed says so — listing,
/// loading and saving — rather than listing nothing or failing with a bare
/// I/O error.
#[tokio::test]
async fn a_store_whose_directory_is_gone_says_so() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("sessions");
    let persistence = Persistence::in_dir(&dir).unwrap();
    let project = tempfile::tempdir().unwrap();
    let snapshot = Snapshot::of(
        &jido_session::Session::new(project.path()).unwrap(),
        jido_session::Conversation::default(),
    );
    persistence.save(&snapshot).await.unwrap();
    fs::remove_dir_all(&dir).unwrap();

    let gone = StoreError::DirectoryGone { path: dir.clone() };
    assert_eq!(persistence.list().await, Err(gone.clone()));
    assert_eq!(
        persistence.load(snapshot.id()).await,
        Err(LoadError::Store(gone.clone()))
    );
    assert!(matches!(
        persistence.save(&snapshot).await,
        Err(SaveError::Store(error)) if error == gone
    ));
    assert!(gone.to_string().contains("is gone"));
}
