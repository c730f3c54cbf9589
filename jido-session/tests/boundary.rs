//! `ProjectBoundary`: every way out of a project is refused with a typed
//! error (`..`, absolute paths, symlinks — resolved, not matched as text),
//! protected files; reads by lines, atomic writes, listings.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use jido_session::{
    BoundaryError, DirEntry, EntryKind, FileError, MAX_LINE_CHARS, ProjectBoundary, ProjectPath,
};
use tempfile::TempDir;

/// A project `root/project` beside a directory `root/outside`.
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
    fs::create_dir_all(project.join("src")).unwrap();
    fs::create_dir(&outside).unwrap();
    fs::write(outside.join("secret"), "secret").unwrap();
    fs::write(project.join("src/lib.rs"), "fn main() {}\n").unwrap();
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

fn validate(f: &Fixture, path: impl AsRef<Path>) -> Result<PathBuf, BoundaryError> {
    f.boundary.validate(path.as_ref())
}

#[test]
fn relative_and_absolute_paths_inside_resolve_to_the_file() {
    let f = fixture();
    let file = f.project.join("src/lib.rs");
    assert_eq!(validate(&f, "src/lib.rs"), Ok(file.clone()));
    assert_eq!(validate(&f, &file), Ok(file.clone()));
    assert_eq!(validate(&f, "./src/../src/lib.rs"), Ok(file.clone()));
    // A path that does not exist yet (a file about to be written).
    assert_eq!(validate(&f, "src/new.rs"), Ok(f.project.join("src/new.rs")));
    assert_eq!(validate(&f, "."), Ok(f.project.clone()));
}

#[test]
fn dot_dot_that_stays_inside_is_fine_and_one_that_leaves_is_refused() {
    let f = fixture();
    assert_eq!(
        validate(&f, "src/../src/lib.rs"),
        Ok(f.project.join("src/lib.rs"))
    );
    assert_eq!(
        validate(&f, "../outside/secret"),
        Err(BoundaryError::PathEscapesBoundary {
            path: "../outside/secret".into()
        })
    );
    assert!(matches!(
        validate(&f, "src/../../../../etc/passwd"),
        Err(BoundaryError::PathEscapesBoundary { .. })
    ));
}

#[test]
fn absolute_paths_outside_are_refused_even_beside_the_project() {
    let f = fixture();
    assert_eq!(
        validate(&f, "/etc/passwd"),
        Err(BoundaryError::PathOutsideBoundary {
            path: "/etc/passwd".into()
        })
    );
    // A sibling whose name starts like the project's is not inside it.
    let sibling = PathBuf::from(format!("{}2/file", f.project.display()));
    assert!(matches!(
        validate(&f, &sibling),
        Err(BoundaryError::PathOutsideBoundary { .. })
    ));
}

#[test]
fn a_symlink_anywhere_on_the_path_that_leads_outside_is_refused() {
    let f = fixture();
    symlink(f.outside.join("secret"), f.project.join("file-link")).unwrap();
    symlink(&f.outside, f.project.join("src/dir-link")).unwrap();
    symlink(f.outside.join("not-yet"), f.project.join("dangling")).unwrap();

    assert_eq!(
        validate(&f, "file-link"),
        Err(BoundaryError::SymlinkEscapesBoundary {
            path: "file-link".into(),
            target: f.outside.join("secret")
        })
    );
    // Through a symlinked directory in the middle of the path.
    assert!(matches!(
        validate(&f, "src/dir-link/secret"),
        Err(BoundaryError::SymlinkEscapesBoundary { .. })
    ));
    assert!(matches!(
        validate(&f, "src/dir-link/new-file"),
        Err(BoundaryError::SymlinkEscapesBoundary { .. })
    ));
    // A dangling symlink pointing outside.
    assert!(matches!(
        validate(&f, "dangling"),
        Err(BoundaryError::SymlinkEscapesBoundary { .. })
    ));
    assert!(matches!(
        f.boundary.write_file(Path::new("dangling"), b"x"),
        Err(FileError::Boundary(
            BoundaryError::SymlinkEscapesBoundary { .. }
        ))
    ));
    assert!(!f.outside.join("not-yet").exists());
}

#[test]
fn a_symlink_that_stays_inside_resolves_to_its_target() {
    let f = fixture();
    symlink(f.project.join("src"), f.project.join("code")).unwrap();
    symlink("lib.rs", f.project.join("src/main-link.rs")).unwrap();
    assert_eq!(
        validate(&f, "code/lib.rs"),
        Ok(f.project.join("src/lib.rs"))
    );
    assert_eq!(
        validate(&f, "src/main-link.rs"),
        Ok(f.project.join("src/lib.rs"))
    );
    assert_eq!(
        f.boundary
            .read_file(Path::new("code/lib.rs"), 1, 10)
            .unwrap()
            .text(),
        "fn main() {}"
    );
}

#[test]
fn the_projects_settings_file_is_protected_however_it_is_spelled() {
    let f = fixture();
    fs::create_dir(f.project.join(".jido_code")).unwrap();
    fs::write(f.project.join(".jido_code/settings.json"), "{}").unwrap();
    symlink(f.project.join(".jido_code"), f.project.join("cfg")).unwrap();
    for spelling in [
        ".jido_code/settings.json",
        "./.jido_code/../.jido_code/settings.json",
        "cfg/settings.json",
    ] {
        assert!(
            matches!(
                validate(&f, spelling),
                Err(BoundaryError::ProtectedSettingsFile { .. })
            ),
            "{spelling}"
        );
    }
    assert!(matches!(
        f.boundary
            .write_file(Path::new(".jido_code/settings.json"), b"{\"evil\":1}"),
        Err(FileError::Boundary(
            BoundaryError::ProtectedSettingsFile { .. }
        ))
    ));
    assert_eq!(
        fs::read_to_string(f.project.join(".jido_code/settings.json")).unwrap(),
        "{}"
    );
    // Its neighbours are not.
    assert!(validate(&f, ".jido_code/other.json").is_ok());
}

#[test]
fn empty_and_nul_paths_are_invalid() {
    let f = fixture();
    assert!(matches!(
        validate(&f, ""),
        Err(BoundaryError::InvalidPath { .. })
    ));
    assert!(matches!(
        validate(&f, "src/a\0b"),
        Err(BoundaryError::InvalidPath { .. })
    ));
    let long = "a/".repeat(3000);
    assert!(matches!(
        validate(&f, long),
        Err(BoundaryError::InvalidPath { .. })
    ));
}

#[test]
fn read_file_returns_lines_from_an_offset_and_cuts_long_ones() {
    let f = fixture();
    let long = "x".repeat(MAX_LINE_CHARS + 10);
    let text = format!("one\r\ntwo\nthree\n{long}\nfive");
    fs::write(f.project.join("notes.txt"), text).unwrap();

    let all = f
        .boundary
        .read_file(Path::new("notes.txt"), 1, 100)
        .unwrap();
    assert_eq!(all.lines.len(), 5);
    assert_eq!(&all.lines[..3], ["one", "two", "three"]);
    assert_eq!(all.lines[3].chars().count(), MAX_LINE_CHARS);
    assert_eq!((all.cut_lines, all.has_more, all.offset), (1, false, 1));

    let middle = f.boundary.read_file(Path::new("notes.txt"), 2, 2).unwrap();
    assert_eq!(middle.lines, ["two", "three"]);
    assert!(middle.has_more);
    let beyond = f.boundary.read_file(Path::new("notes.txt"), 99, 2).unwrap();
    assert!(beyond.lines.is_empty());

    fs::write(f.project.join("binary"), [0xff, 0xfe, b'\n', b'o', b'k']).unwrap();
    let binary = f.boundary.read_file(Path::new("binary"), 1, 10).unwrap();
    assert_eq!(binary.lines, ["\u{fffd}\u{fffd}", "ok"]);
}

#[test]
fn read_file_refuses_offset_zero_missing_files_and_directories() {
    let f = fixture();
    assert_eq!(
        f.boundary.read_file(Path::new("src/lib.rs"), 0, 10),
        Err(FileError::InvalidOffset)
    );
    assert_eq!(
        f.boundary.read_file(Path::new("missing.rs"), 1, 10),
        Err(FileError::NotFound {
            path: f.project.join("missing.rs")
        })
    );
    assert_eq!(
        f.boundary.read_file(Path::new("src"), 1, 10),
        Err(FileError::NotAFile {
            path: f.project.join("src")
        })
    );
}

#[test]
fn write_file_replaces_atomically_and_leaves_no_temporary_file() {
    let f = fixture();
    let path = f
        .boundary
        .write_file(Path::new("src/lib.rs"), b"new\n")
        .unwrap();
    assert_eq!(path, f.project.join("src/lib.rs"));
    assert_eq!(fs::read_to_string(&path).unwrap(), "new\n");
    f.boundary
        .write_file(Path::new("src/fresh.rs"), b"fresh")
        .unwrap();
    let names: Vec<String> = fs::read_dir(f.project.join("src"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let mut names = names;
    names.sort();
    assert_eq!(names, ["fresh.rs", "lib.rs"], "no temporary file left");
}

#[test]
fn write_file_creates_missing_parent_directories_inside_the_project() {
    let f = fixture();
    assert_eq!(
        f.boundary.write_file(Path::new("new/deeper/file.rs"), b"x"),
        Ok(f.project.join("new/deeper/file.rs"))
    );
    assert_eq!(
        fs::read(f.project.join("new/deeper/file.rs")).unwrap(),
        b"x"
    );
    // A file in place of a directory.
    assert_eq!(
        f.boundary
            .write_file(Path::new("src/lib.rs/inner.rs"), b"x"),
        Err(FileError::NotADirectory {
            path: f.project.join("src/lib.rs")
        })
    );
    assert_eq!(
        f.boundary.write_file(Path::new("src"), b"x"),
        Err(FileError::NotAFile {
            path: f.project.join("src")
        })
    );
    assert!(matches!(
        f.boundary.write_file(Path::new("../outside/new"), b"x"),
        Err(FileError::Boundary(
            BoundaryError::PathEscapesBoundary { .. }
        ))
    ));
    assert!(!f.outside.join("new").exists());
}

#[test]
fn list_dir_lists_entries_by_name_with_their_kind() {
    let f = fixture();
    fs::write(f.project.join("b.txt"), "").unwrap();
    symlink(f.project.join("b.txt"), f.project.join("a-link")).unwrap();
    let entries = f.boundary.list_dir(Path::new(".")).unwrap();
    assert_eq!(
        entries,
        [
            DirEntry {
                name: "a-link".into(),
                os_name: "a-link".into(),
                kind: EntryKind::Symlink
            },
            DirEntry {
                name: "b.txt".into(),
                os_name: "b.txt".into(),
                kind: EntryKind::File
            },
            DirEntry {
                name: "src".into(),
                os_name: "src".into(),
                kind: EntryKind::Directory
            },
        ]
    );
    assert_eq!(
        f.boundary.list_dir(Path::new("b.txt")),
        Err(FileError::NotADirectory {
            path: f.project.join("b.txt")
        })
    );
    assert!(matches!(
        f.boundary.list_dir(&f.outside),
        Err(FileError::Boundary(
            BoundaryError::PathOutsideBoundary { .. }
        ))
    ));
}
