//! Issue 21: `ProjectBoundary`'s file operations against a hostile project
//! directory — paths swapped between check and use, FIFOs and devices,
//! names that are not UTF-8, hard links to the protected file, modes. The
//! races run as loops (`JIDO_RACE_ROUNDS`, default 4,000 operations) and
//! never once reach outside.

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use jido_session::{BoundaryError, EntryKind, FileError, ProjectBoundary, ProjectPath, Session};
use tempfile::TempDir;

struct Fixture {
    _root: TempDir,
    project: PathBuf,
    outside: PathBuf,
    boundary: ProjectBoundary,
}

fn fixture() -> Fixture {
    let root = tempfile::tempdir().unwrap();
    let project = root.path().join("project");
    let outside = root.path().join("outside");
    fs::create_dir_all(&project).unwrap();
    fs::create_dir(&outside).unwrap();
    fs::write(outside.join("secret.txt"), "SECRET\n").unwrap();
    let project = project.canonicalize().unwrap();
    let outside = outside.canonicalize().unwrap();
    let boundary = ProjectBoundary::new(ProjectPath::new(&project).unwrap());
    Fixture {
        _root: root,
        project,
        outside,
        boundary,
    }
}

fn rounds() -> usize {
    std::env::var("JIDO_RACE_ROUNDS")
        .ok()
        .and_then(|rounds| rounds.parse().ok())
        .unwrap_or(4_000)
}

/// Swaps `path` between the entries `a` and `b` (prepared beside it, each
/// moved into place with one atomic `rename`) until `stop`.
fn swapper(
    path: PathBuf,
    a: PathBuf,
    b: PathBuf,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let mut swaps = 0;
        while !stop.load(Ordering::Relaxed) {
            for (from, back) in [(&a, &b), (&b, &a)] {
                // `from` into place; what was there back to its own name.
                let parked = path.with_extension("parked");
                let _ = fs::rename(&path, &parked);
                let _ = fs::rename(&parked, if from == &a { &b } else { &a });
                let _ = fs::rename(from, &path);
                let _ = back;
                swaps += 1;
            }
        }
        swaps
    })
}

#[test]
fn a_file_swapped_for_a_symlink_to_outside_is_never_read_through() {
    let f = fixture();
    let inside = f.project.join("inside.txt");
    let file = f.project.join("a-file");
    let link = f.project.join("a-link");
    fs::write(&file, "inside\n").unwrap();
    symlink(f.outside.join("secret.txt"), &link).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = swapper(inside.clone(), file, link, Arc::clone(&stop));
    let (mut read, mut refused) = (0, 0);
    for _ in 0..rounds() {
        match f.boundary.read_file(Path::new("inside.txt"), 1, 10) {
            Ok(content) => {
                assert_ne!(content.text(), "SECRET", "read outside the project");
                read += 1;
            }
            Err(_) => refused += 1,
        }
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = swaps.join().unwrap();
    eprintln!("{read} reads inside, {refused} refused, {swaps} swaps, none outside");
    assert!(swaps > 0);
}

#[test]
fn a_directory_swapped_for_a_symlink_to_outside_never_receives_a_write() {
    let f = fixture();
    let sub = f.project.join("sub");
    let real = f.project.join("a-dir");
    let link = f.project.join("a-link");
    fs::create_dir(&real).unwrap();
    symlink(&f.outside, &link).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = swapper(sub, real, link, Arc::clone(&stop));
    let (mut written, mut refused) = (0, 0);
    for n in 0..rounds() {
        match f
            .boundary
            .write_file(Path::new("sub/new.txt"), format!("{n}").as_bytes())
        {
            Ok(_) => written += 1,
            Err(_) => refused += 1,
        }
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = swaps.join().unwrap();
    let mut outside: Vec<_> = fs::read_dir(&f.outside)
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    outside.sort();
    assert_eq!(
        outside,
        ["secret.txt"],
        "a file (or a temporary) landed outside"
    );
    eprintln!("{written} writes inside, {refused} refused, {swaps} swaps, none outside");
    assert!(swaps > 0);
}

/// Runs `operation` on another thread; fails if it has not answered in
/// 20 s (it is wedged), instead of hanging the test run.
fn answers<T: Send + 'static>(operation: impl FnOnce() -> T + Send + 'static) -> T {
    let (sent, answer) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sent.send(operation());
    });
    answer
        .recv_timeout(Duration::from_secs(20))
        .expect("the operation is wedged")
}

#[test]
fn a_fifo_is_refused_without_being_opened_for_good() {
    let f = fixture();
    let fifo = f.project.join("pipe");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    let boundary = f.boundary.clone();
    let read = answers(move || boundary.read_file(Path::new("pipe"), 1, 10));
    assert_eq!(
        read,
        Err(FileError::NotARegularFile {
            path: fifo.clone(),
            what: "a FIFO"
        })
    );
    let boundary = f.boundary.clone();
    let written = answers(move || boundary.write_file(Path::new("pipe"), b"x"));
    assert!(
        matches!(written, Err(FileError::NotARegularFile { .. })),
        "{written:?}"
    );
    // Listed as what it is.
    let listed = f.boundary.list_dir(Path::new(".")).unwrap();
    assert_eq!(listed[0].kind, EntryKind::Other);
}

#[test]
fn a_device_is_refused_before_anything_is_read_from_it() {
    let f = fixture();
    let device = f.project.join("zero");
    // /dev/zero's numbers; only a privileged process may make one.
    if let Err(error) = rustix::fs::mknodat(
        rustix::fs::CWD,
        &device,
        rustix::fs::FileType::CharacterDevice,
        rustix::fs::Mode::from_raw_mode(0o600),
        rustix::fs::makedev(1, 5),
    ) {
        eprintln!("skipped: cannot make a device here ({error})");
        return;
    }
    let boundary = f.boundary.clone();
    let read = answers(move || boundary.read_file(Path::new("zero"), 1, 10));
    assert_eq!(
        read,
        Err(FileError::NotARegularFile {
            path: device,
            what: "a character device"
        })
    );
}

#[test]
fn names_that_are_not_utf8_are_listed_as_they_are_and_open_again() {
    let f = fixture();
    let names = [&b"name-\xff"[..], &b"name-\xfe"[..]];
    for (n, name) in names.iter().enumerate() {
        let path = f.project.join(std::ffi::OsStr::from_bytes(name));
        fs::write(path, format!("file {n}\n")).unwrap();
    }
    let listed = f.boundary.list_dir(Path::new(".")).unwrap();
    assert_eq!(listed.len(), 2);
    // Shown alike, told apart.
    assert_eq!(listed[0].name, listed[1].name);
    assert_ne!(listed[0].os_name, listed[1].os_name);
    let mut contents: Vec<String> = listed
        .iter()
        .map(|entry| {
            f.boundary
                .read_file(Path::new(&entry.os_name), 1, 10)
                .unwrap()
                .text()
        })
        .collect();
    contents.sort();
    assert_eq!(contents, ["file 0", "file 1"]);
}

#[test]
fn a_project_path_that_is_not_utf8_is_refused_with_a_typed_error() {
    let root = tempfile::tempdir().unwrap();
    let project = root
        .path()
        .join(std::ffi::OsStr::from_bytes(b"project-\xff"));
    fs::create_dir(&project).unwrap();
    assert!(matches!(
        Session::new(&project),
        Err(jido_session::SessionError::PathNotUtf8 { .. })
    ));
}

#[test]
fn a_hard_link_to_the_protected_settings_file_is_refused_by_identity() {
    let f = fixture();
    fs::create_dir(f.project.join(".jido_code")).unwrap();
    let settings = f.project.join(".jido_code/settings.json");
    fs::write(&settings, "{\"api_key\": \"k\"}").unwrap();
    fs::hard_link(&settings, f.project.join("innocent.json")).unwrap();
    symlink(".jido_code/settings.json", f.project.join("link.json")).unwrap();
    for name in ["innocent.json", "link.json"] {
        assert!(
            matches!(
                f.boundary.read_file(Path::new(name), 1, 10),
                Err(FileError::Boundary(
                    BoundaryError::ProtectedSettingsFile { .. }
                ))
            ),
            "{name}"
        );
        assert!(
            matches!(
                f.boundary.write_file(Path::new(name), b"{}"),
                Err(FileError::Boundary(
                    BoundaryError::ProtectedSettingsFile { .. }
                ))
            ),
            "{name}"
        );
    }
    assert_eq!(
        fs::read_to_string(&settings).unwrap(),
        "{\"api_key\": \"k\"}"
    );
}

#[test]
fn a_write_keeps_the_files_mode_and_creates_missing_directories() {
    let f = fixture();
    let script = f.project.join("run.sh");
    fs::write(&script, "#!/bin/sh\n").unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    f.boundary
        .write_file(Path::new("run.sh"), b"#!/bin/sh\necho hi\n")
        .unwrap();
    assert_eq!(
        fs::metadata(&script).unwrap().permissions().mode() & 0o7777,
        0o755
    );
    assert_eq!(fs::read_to_string(&script).unwrap(), "#!/bin/sh\necho hi\n");

    f.boundary
        .write_file(Path::new("new/folder/file.rs"), b"fn f() {}")
        .unwrap();
    assert_eq!(
        fs::read_to_string(f.project.join("new/folder/file.rs")).unwrap(),
        "fn f() {}"
    );
    // A missing directory reached through a symlink out is not made.
    symlink(&f.outside, f.project.join("out")).unwrap();
    assert!(matches!(
        f.boundary.write_file(Path::new("out/made/file.rs"), b"x"),
        Err(FileError::Boundary(
            BoundaryError::SymlinkEscapesBoundary { .. }
        ))
    ));
    assert!(!f.outside.join("made").exists());
}
