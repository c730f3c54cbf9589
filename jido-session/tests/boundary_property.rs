//! Issue 21: over random trees of files, directories and symlinks (inside,
//! outside, dangling, absolute, chains) and hard links (to files inside and
//! to the protected settings file), every read, write and listing either
//! stays inside the project or returns a typed error: nothing outside is
//! read, written or listed, and the settings file is never touched. (A hard
//! link to a file outside cannot be told from the file itself: not
//! generated, and documented as not guaranteed.) Cases: `PROPTEST_CASES`
//! (default 64).

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use jido_session::{ProjectBoundary, ProjectPath};
use proptest::prelude::*;

const NAMES: &[&str] = &["a", "b", "d/a", "d/b", "d/e/a", "e"];
const SETTINGS: &str = ".jido_code/settings.json";

#[derive(Debug, Clone)]
enum Entry {
    File,
    Dir,
    /// A symlink to a name inside, relative or absolute.
    Inside(usize, bool),
    /// A symlink to the outside directory or its file.
    Outside(bool),
    Dangling,
    /// A hard link to a name inside (if it is a file), or to the settings.
    Hard(Option<usize>),
}

#[derive(Debug, Clone)]
enum Op {
    Read(String),
    Write(String),
    List(String),
}

fn entry() -> impl Strategy<Value = Entry> {
    prop_oneof![
        3 => Just(Entry::File),
        2 => Just(Entry::Dir),
        2 => (0..NAMES.len(), any::<bool>()).prop_map(|(n, abs)| Entry::Inside(n, abs)),
        2 => any::<bool>().prop_map(Entry::Outside),
        1 => Just(Entry::Dangling),
        1 => prop::option::of(0..NAMES.len()).prop_map(Entry::Hard),
    ]
}

fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(NAMES).prop_map(str::to_owned),
        1 => prop::sample::select(NAMES).prop_map(|name| format!("{name}/x")),
        1 => prop::sample::select(NAMES).prop_map(|name| format!("d/../{name}")),
        1 => Just("../outside/secret".to_owned()),
        1 => Just(SETTINGS.to_owned()),
        1 => Just(".".to_owned()),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        path().prop_map(Op::Read),
        path().prop_map(Op::Write),
        path().prop_map(Op::List),
    ]
}

/// Everything under `dir`: relative path → contents (directories: empty).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut all = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(at) = todo.pop() {
        for entry in fs::read_dir(&at).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let kind = entry.file_type().unwrap();
            let key = path.strip_prefix(dir).unwrap().to_path_buf();
            if kind.is_dir() {
                all.insert(key, Vec::new());
                todo.push(path);
            } else if kind.is_symlink() {
                all.insert(
                    key,
                    fs::read_link(&path)
                        .unwrap()
                        .into_os_string()
                        .into_encoded_bytes(),
                );
            } else {
                all.insert(key, fs::read(&path).unwrap());
            }
        }
    }
    all
}

fn build(project: &Path, outside: &Path, tree: &[(usize, Entry)]) {
    fs::create_dir_all(project.join(".jido_code")).unwrap();
    fs::write(project.join(SETTINGS), "SETTINGS\n").unwrap();
    for (name, entry) in tree {
        let at = project.join(NAMES[*name]);
        if at.symlink_metadata().is_ok() {
            continue;
        }
        if fs::create_dir_all(at.parent().unwrap()).is_err() {
            continue;
        }
        let _ = match entry {
            Entry::File => fs::write(&at, format!("inside {}\n", NAMES[*name])),
            Entry::Dir => fs::create_dir(&at),
            Entry::Inside(target, absolute) => {
                if *absolute {
                    symlink(project.join(NAMES[*target]), &at)
                } else {
                    let depth = NAMES[*name].matches('/').count();
                    symlink(format!("{}{}", "../".repeat(depth), NAMES[*target]), &at)
                }
            }
            Entry::Outside(file) => symlink(
                if *file {
                    outside.join("secret")
                } else {
                    outside.to_path_buf()
                },
                &at,
            ),
            Entry::Dangling => symlink(project.join("nowhere/at/all"), &at),
            Entry::Hard(None) => fs::hard_link(project.join(SETTINGS), &at),
            Entry::Hard(Some(target)) => {
                let target = project.join(NAMES[*target]);
                if target.symlink_metadata().is_ok_and(|m| m.is_file()) {
                    fs::hard_link(target, &at)
                } else {
                    Ok(())
                }
            }
        };
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(64),
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_operation_stays_inside_or_is_refused(
        tree in prop::collection::vec((0..NAMES.len(), entry()), 0..10),
        ops in prop::collection::vec(op(), 1..12),
    ) {
        let root = tempfile::tempdir().unwrap();
        let project = root.path().join("project");
        let outside = root.path().join("outside");
        fs::create_dir_all(&project).unwrap();
        fs::create_dir(&outside).unwrap();
        fs::write(outside.join("secret"), "OUTSIDE\n").unwrap();
        fs::write(outside.join("outside-marker"), "OUTSIDE\n").unwrap();
        let project = project.canonicalize().unwrap();
        let outside = outside.canonicalize().unwrap();
        build(&project, &outside, &tree);
        let boundary = ProjectBoundary::new(ProjectPath::new(&project).unwrap());
        let before = snapshot(&outside);

        for op in &ops {
            match op {
                Op::Read(path) => {
                    if let Ok(content) = boundary.read_file(Path::new(path), 1, 10) {
                        prop_assert!(content.text() != "OUTSIDE", "{path}: read outside");
                        prop_assert!(content.text() != "SETTINGS", "{path}: read the settings");
                        prop_assert!(content.path.starts_with(&project));
                    }
                }
                Op::Write(path) => {
                    if let Ok(written) = boundary.write_file(Path::new(path), b"WRITTEN") {
                        prop_assert!(written.starts_with(&project), "{path}: wrote {written:?}");
                    }
                }
                Op::List(path) => {
                    if let Ok(entries) = boundary.list_dir(Path::new(path)) {
                        prop_assert!(
                            !entries.iter().any(|entry| entry.name == "outside-marker"),
                            "{path}: listed outside"
                        );
                    }
                }
            }
            prop_assert_eq!(&snapshot(&outside), &before, "{:?} changed the outside", op);
            prop_assert_eq!(
                fs::read(project.join(SETTINGS)).unwrap(),
                b"SETTINGS\n".to_vec(),
                "{:?} changed the settings", op
            );
        }
    }
}
