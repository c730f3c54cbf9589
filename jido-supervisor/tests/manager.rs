//! The Manager through its typed reference: the project boundary (every way
//! out refused with a typed error, through the running process), file
//! operations inside it, run off the async workers, and a Manager that keeps
//! answering after a restart. The boundary's own cases are unit-tested in
//! `jido-session/tests/boundary.rs`.

mod common;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::PathBuf;

use common::{expect_restarted, within_a_minute};
use jido_supervisor::session::{BoundaryError, DirEntry, EntryKind, FileError};
use jido_supervisor::{ManagerError, ManagerRef, SessionId, SessionSupervisor};
use tempfile::TempDir;

/// A session on `root/project`, beside `root/outside/secret`.
struct Fixture {
    supervisor: SessionSupervisor,
    id: SessionId,
    manager: ManagerRef,
    project: PathBuf,
    outside: PathBuf,
    _root: TempDir,
}

async fn start() -> Fixture {
    let root = tempfile::tempdir().unwrap();
    let project = root.path().join("project");
    let outside = root.path().join("outside");
    fs::create_dir_all(project.join("src")).unwrap();
    fs::create_dir(&outside).unwrap();
    fs::write(outside.join("secret"), "secret\n").unwrap();
    let project = project.canonicalize().unwrap();
    let outside = outside.canonicalize().unwrap();
    let supervisor = SessionSupervisor::new();
    let id = supervisor.create_session(&project).await.unwrap().id();
    let manager = supervisor.manager(id).unwrap();
    Fixture {
        supervisor,
        id,
        manager,
        project,
        outside,
        _root: root,
    }
}

fn boundary_error(result: Result<PathBuf, ManagerError>) -> BoundaryError {
    match result {
        Err(ManagerError::Boundary(error)) => error,
        other => panic!("expected a boundary error, got {other:?}"),
    }
}

#[tokio::test]
async fn the_manager_knows_its_project_root() {
    let f = start().await;
    assert_eq!(
        f.manager.project_root().await.unwrap().as_path(),
        f.project.as_path()
    );
}

#[tokio::test]
async fn paths_that_stay_inside_resolve_and_every_way_out_is_refused() {
    let f = start().await;
    let m = &f.manager;
    symlink(&f.outside, f.project.join("out")).unwrap();
    symlink(f.project.join("src"), f.project.join("code")).unwrap();

    assert_eq!(
        m.validate_path("src/lib.rs").await.unwrap(),
        f.project.join("src/lib.rs")
    );
    assert_eq!(
        m.validate_path("src/../notes.md").await.unwrap(),
        f.project.join("notes.md"),
        "`..` that stays inside"
    );
    assert_eq!(
        m.validate_path("code/lib.rs").await.unwrap(),
        f.project.join("src/lib.rs"),
        "a symlink that stays inside resolves to its target"
    );
    assert!(matches!(
        boundary_error(m.validate_path("src/../../outside/secret").await),
        BoundaryError::PathEscapesBoundary { .. }
    ));
    assert!(matches!(
        boundary_error(m.validate_path(f.outside.join("secret")).await),
        BoundaryError::PathOutsideBoundary { .. }
    ));
    assert!(matches!(
        boundary_error(m.validate_path("out/secret").await),
        BoundaryError::SymlinkEscapesBoundary { .. }
    ));
    assert!(matches!(
        boundary_error(
            m.validate_path("./.jido_code/../.jido_code/settings.json")
                .await
        ),
        BoundaryError::ProtectedSettingsFile { .. }
    ));
    assert!(matches!(
        boundary_error(m.validate_path("").await),
        BoundaryError::InvalidPath { .. }
    ));
}

#[tokio::test]
async fn files_are_written_atomically_read_by_lines_and_listed_inside_the_project() {
    let f = start().await;
    let m = &f.manager;

    let written = m
        .write_file("src/main.rs", "one\ntwo\nthree\n")
        .await
        .unwrap();
    assert_eq!(written, f.project.join("src/main.rs"));
    m.write_file("src/main.rs", "1\n2\n3\n4\n").await.unwrap();
    let page = m.read_file("src/main.rs", 2, 2).await.unwrap();
    assert_eq!(page.lines, ["2", "3"]);
    assert!(page.has_more);
    assert_eq!(page.path, f.project.join("src/main.rs"));

    assert_eq!(
        m.list_dir("src").await.unwrap(),
        [DirEntry {
            name: "main.rs".into(),
            os_name: "main.rs".into(),
            kind: EntryKind::File
        }],
        "no temporary file left behind"
    );
}

#[tokio::test]
async fn file_operations_fail_with_typed_errors() {
    let f = start().await;
    let m = &f.manager;
    fs::write(f.project.join("plain"), "x").unwrap();

    assert_eq!(
        m.read_file("missing.rs", 1, 10).await.unwrap_err(),
        ManagerError::File(FileError::NotFound {
            path: f.project.join("missing.rs")
        })
    );
    assert_eq!(
        m.read_file("src", 1, 10).await.unwrap_err(),
        ManagerError::File(FileError::NotAFile {
            path: f.project.join("src")
        })
    );
    assert_eq!(
        m.read_file("plain", 0, 10).await.unwrap_err(),
        ManagerError::File(FileError::InvalidOffset)
    );
    // Missing directories are made (issue 21), beneath the project.
    assert_eq!(
        m.write_file("nowhere/new.rs", "x").await.unwrap(),
        f.project.join("nowhere/new.rs")
    );
    // A file where a directory should be.
    assert_eq!(
        m.write_file("plain/new.rs", "x").await.unwrap_err(),
        ManagerError::File(FileError::NotADirectory {
            path: f.project.join("plain")
        })
    );
    assert_eq!(
        m.list_dir("plain").await.unwrap_err(),
        ManagerError::File(FileError::NotADirectory {
            path: f.project.join("plain")
        })
    );
    assert!(matches!(
        m.write_file("../outside/secret", "pwned").await,
        Err(ManagerError::File(FileError::Boundary(
            BoundaryError::PathEscapesBoundary { .. }
        )))
    ));
    assert_eq!(
        fs::read_to_string(f.outside.join("secret")).unwrap(),
        "secret\n"
    );
}

/// Issue 21: a FIFO in the project wedged the Manager (the read blocked
/// until someone wrote to it, and every later call timed out). It is
/// refused at once, and the Manager answers every call after it.
#[tokio::test(flavor = "current_thread")]
async fn a_fifo_in_the_project_is_refused_and_wedges_nothing() {
    let f = start().await;
    let fifo = f.project.join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let refused = within_a_minute(f.manager.read_file("pipe", 1, 10)).await;
    assert_eq!(
        refused.unwrap_err(),
        ManagerError::File(FileError::NotARegularFile {
            path: fifo.clone(),
            what: "a FIFO"
        })
    );
    assert!(
        within_a_minute(f.manager.validate_path("pipe"))
            .await
            .is_ok()
    );
    let listed = within_a_minute(f.manager.list_dir(".")).await.unwrap();
    assert!(listed.iter().any(|entry| entry.name == "pipe"));
}

#[tokio::test]
async fn a_restarted_manager_still_guards_the_same_project() {
    let f = start().await;
    let mut events = f.supervisor.subscribe();
    let old = f.manager.pid().unwrap();
    old.kill();
    within_a_minute(expect_restarted(&mut events, f.id, "manager")).await;

    assert_ne!(f.manager.pid(), Some(old));
    assert!(matches!(
        boundary_error(f.manager.validate_path("/etc/passwd").await),
        BoundaryError::PathOutsideBoundary { .. }
    ));
    f.manager.write_file("after.txt", "ok").await.unwrap();
    assert_eq!(
        fs::read_to_string(f.project.join("after.txt")).unwrap(),
        "ok"
    );
}
