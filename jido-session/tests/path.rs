//! `ProjectPath`: canonicalization, filesystem checks, identity and serde.

use std::collections::HashSet;
use std::fs::{self, Permissions};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use jido_session::{MAX_PATH_BYTES, ProjectPath, SessionError};
use rustix::thread::{Gid, Uid, set_thread_res_gid, set_thread_res_uid};
use tempfile::TempDir;

/// The conventional uid and gid of `nobody`.
const NOBODY: u32 = 65534;

/// A temporary directory that every user can traverse (`tempdir()` creates
/// it with mode 0700).
fn world_traversable_tempdir() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), Permissions::from_mode(0o755)).unwrap();
    dir
}

fn running_as_root(dir: &TempDir) -> bool {
    fs::metadata(dir.path()).unwrap().uid() == 0
}

/// Creates `parent/name` with `mode`, owned by the user that
/// [`unprivileged`] runs as, so the owner permission bits are the ones
/// under test.
fn dir_with_mode(parent: &TempDir, name: &str, mode: u32) -> PathBuf {
    let dir = parent.path().join(name);
    fs::create_dir(&dir).unwrap();
    if running_as_root(parent) {
        std::os::unix::fs::chown(&dir, Some(NOBODY), Some(NOBODY)).unwrap();
    }
    fs::set_permissions(&dir, Permissions::from_mode(mode)).unwrap();
    dir
}

/// Runs `f` on a dedicated thread. When the process is root, the thread
/// first drops its own credentials to `nobody`: Linux credentials are per
/// thread in the kernel and rustix changes only the calling thread's, so the
/// rest of the test process keeps running as root. Root bypasses permission
/// bits, so without this the checks under test would always pass.
fn unprivileged<T: Send + 'static>(root: bool, f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(move || {
        if root {
            let gid = Gid::from_raw(NOBODY);
            set_thread_res_gid(gid, gid, gid).unwrap();
            let uid = Uid::from_raw(NOBODY);
            set_thread_res_uid(uid, uid, uid).unwrap();
        }
        f()
    })
    .join()
    .unwrap()
}

#[test]
fn existing_directory_is_canonical() {
    let dir = tempfile::tempdir().unwrap();
    let path = ProjectPath::new(dir.path()).unwrap();
    assert_eq!(path.as_path(), fs::canonicalize(dir.path()).unwrap());
    assert!(path.is_absolute());
    assert_eq!(path.check(), Ok(()));
    assert_eq!(path.to_string(), path.as_path().display().to_string());
    assert_eq!(
        format!("{path:?}"),
        format!("ProjectPath({:?})", path.as_path())
    );
    let as_ref: &Path = path.as_ref();
    assert_eq!(as_ref, path.as_path());
}

#[test]
fn missing_path_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let expected = SessionError::PathNotFound {
        path: missing.clone(),
    };
    assert_eq!(ProjectPath::new(&missing), Err(expected.clone()));
    assert_eq!(ProjectPath::resolve(&missing), Err(expected.clone()));
    assert_eq!(
        expected.to_string(),
        format!("project path {} does not exist", missing.display())
    );
}

#[test]
fn file_is_not_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file.txt");
    fs::write(&file, "x").unwrap();
    assert_eq!(
        ProjectPath::new(&file),
        Err(SessionError::PathNotADirectory { path: file.clone() })
    );
    // `resolve` only canonicalizes.
    let resolved = ProjectPath::resolve(&file).unwrap();
    assert_eq!(resolved.as_path(), fs::canonicalize(&file).unwrap());
    assert_eq!(
        resolved.check(),
        Err(SessionError::PathNotADirectory {
            path: resolved.as_path().to_path_buf()
        })
    );
}

#[test]
fn empty_path_is_rejected() {
    assert_eq!(ProjectPath::new(""), Err(SessionError::PathEmpty));
    assert_eq!(ProjectPath::resolve(""), Err(SessionError::PathEmpty));
}

/// An absolute path of exactly `len` bytes under a directory that does not
/// exist, made of components short enough for the kernel.
fn long_missing_path(len: usize) -> String {
    let mut path = String::from("/jido-session-test-missing-root");
    while path.len() < len {
        let room = len - path.len() - 1;
        path.push('/');
        path.push_str(&"a".repeat(room.clamp(1, 200)));
    }
    assert_eq!(path.len(), len);
    path
}

#[test]
fn path_longer_than_the_limit_is_rejected() {
    let path = long_missing_path(MAX_PATH_BYTES + 1);
    let expected = SessionError::PathTooLong {
        len: MAX_PATH_BYTES + 1,
        max: MAX_PATH_BYTES,
    };
    assert_eq!(ProjectPath::new(&path), Err(expected.clone()));
    assert_eq!(ProjectPath::resolve(&path), Err(expected.clone()));
    assert_eq!(
        expected.to_string(),
        "project path is 4097 bytes long; the limit is 4096"
    );
}

#[test]
fn path_at_the_limit_is_checked_normally() {
    let path = long_missing_path(MAX_PATH_BYTES);
    assert_eq!(
        ProjectPath::new(&path),
        Err(SessionError::PathNotFound { path: path.into() })
    );
}

#[test]
fn symlink_and_dot_dot_alias_the_same_directory() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    fs::create_dir(&real).unwrap();
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();

    let direct = ProjectPath::new(&real).unwrap();
    let via_link = ProjectPath::new(&link).unwrap();
    let via_dot_dot = ProjectPath::new(real.join("..").join("real")).unwrap();
    let via_dot = ProjectPath::new(real.join(".")).unwrap();
    let resolved = ProjectPath::resolve(&link).unwrap();

    assert_eq!(via_link, direct);
    assert_eq!(via_dot_dot, direct);
    assert_eq!(via_dot, direct);
    assert_eq!(resolved, direct);
    assert_eq!(via_link.folder_name(), "real");
    let set: HashSet<ProjectPath> = [direct, via_link, via_dot_dot, via_dot, resolved].into();
    assert_eq!(set.len(), 1);

    let other = ProjectPath::new(dir.path()).unwrap();
    assert!(!set.contains(&other));
}

#[test]
fn ordering_is_consistent_with_equality() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    fs::create_dir(&a).unwrap();
    fs::create_dir(&b).unwrap();
    let a = ProjectPath::new(a).unwrap();
    let b = ProjectPath::new(b).unwrap();
    assert!(a < b);
    assert_eq!(a.cmp(&a.clone()), std::cmp::Ordering::Equal);
}

#[test]
fn unreadable_directory_is_rejected() {
    let parent = world_traversable_tempdir();
    let root = running_as_root(&parent);
    let dir = dir_with_mode(&parent, "unreadable", 0o300);
    let result = unprivileged(root, {
        let dir = dir.clone();
        move || ProjectPath::new(dir)
    });
    assert_eq!(result, Err(SessionError::PathUnreadable { path: dir }));
}

#[test]
fn unwritable_directory_is_rejected() {
    let parent = world_traversable_tempdir();
    let root = running_as_root(&parent);
    let dir = dir_with_mode(&parent, "unwritable", 0o500);
    let result = unprivileged(root, {
        let dir = dir.clone();
        move || ProjectPath::new(dir)
    });
    assert_eq!(result, Err(SessionError::PathUnwritable { path: dir }));
}

/// Issue 24: a directory that can be read and written but not searched
/// (no `x`) is refused: nothing beneath it could be opened.
#[test]
fn unsearchable_directory_is_rejected() {
    let parent = world_traversable_tempdir();
    let root = running_as_root(&parent);
    let dir = dir_with_mode(&parent, "unsearchable", 0o600);
    let result = unprivileged(root, {
        let dir = dir.clone();
        move || ProjectPath::new(dir)
    });
    assert_eq!(result, Err(SessionError::PathNotSearchable { path: dir }));
}

#[test]
fn unprivileged_owner_with_full_access_is_accepted() {
    // Control for the two tests above: the same setup with mode 0700 passes,
    // so their failures come from the permission bits under test.
    let parent = world_traversable_tempdir();
    let root = running_as_root(&parent);
    let dir = dir_with_mode(&parent, "usable", 0o700);
    let result = unprivileged(root, {
        let dir = dir.clone();
        move || ProjectPath::new(dir)
    });
    assert_eq!(result.unwrap().as_path(), fs::canonicalize(&dir).unwrap());
}

#[test]
fn check_sees_later_changes() {
    let parent = world_traversable_tempdir();
    let root = running_as_root(&parent);
    let dir = dir_with_mode(&parent, "project", 0o700);
    let path = ProjectPath::new(&dir).unwrap();
    fs::set_permissions(&dir, Permissions::from_mode(0o500)).unwrap();
    let result = unprivileged(root, {
        let path = path.clone();
        move || path.check()
    });
    assert_eq!(
        result,
        Err(SessionError::PathUnwritable {
            path: path.as_path().to_path_buf()
        })
    );

    fs::remove_dir(&dir).unwrap();
    assert_eq!(
        path.check(),
        Err(SessionError::PathNotFound {
            path: path.as_path().to_path_buf()
        })
    );
}

#[test]
fn folder_name_is_the_last_component() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("my project");
    fs::create_dir(&project).unwrap();
    assert_eq!(
        ProjectPath::new(&project).unwrap().folder_name(),
        "my project"
    );
    assert_eq!(ProjectPath::resolve("/").unwrap().folder_name(), "/");
}

#[test]
fn serializes_as_a_string() {
    let dir = tempfile::tempdir().unwrap();
    let path = ProjectPath::new(dir.path()).unwrap();
    let json = serde_json::to_string(&path).unwrap();
    assert_eq!(
        json,
        serde_json::to_string(path.as_path().to_str().unwrap()).unwrap()
    );
}
