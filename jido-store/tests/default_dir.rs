//! Issue 24: `Persistence::default_dir`, the per-user store directory —
//! under the platform's data directory, created owner-only. Run in a child
//! process of this test binary with its own `XDG_DATA_HOME` and `HOME`, so
//! that no test writes into the real home directory.

use std::path::PathBuf;
use std::process::Command;

use jido_store::Persistence;

/// The child: prints the directory it was given.
#[test]
#[ignore = "run by default_dir_is_per_user_and_owner_only in a child process"]
fn child_prints_the_default_dir() {
    if std::env::var_os("JIDO_DEFAULT_DIR_CHILD").is_none() {
        return;
    }
    let dir = Persistence::default_dir().unwrap();
    println!("DIR={}", dir.display());
}

/// Runs [`child_prints_the_default_dir`] in a child process with `HOME` at
/// `home` and `XDG_DATA_HOME` at `data` (unset if `None`); what it printed.
#[cfg(target_os = "linux")]
fn default_dir_in_child(home: &std::path::Path, data: Option<&std::path::Path>) -> String {
    let mut child = Command::new(std::env::current_exe().unwrap());
    child
        .args([
            "--exact",
            "child_prints_the_default_dir",
            "--ignored",
            "--nocapture",
        ])
        .env("JIDO_DEFAULT_DIR_CHILD", "1")
        .env("HOME", home);
    match data {
        Some(data) => child.env("XDG_DATA_HOME", data),
        None => child.env_remove("XDG_DATA_HOME"),
    };
    let output = child.output().unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

#[cfg(target_os = "linux")]
#[test]
fn default_dir_is_per_user_and_owner_only() {
    use std::os::unix::fs::PermissionsExt;

    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let stdout = default_dir_in_child(home.path(), Some(&data));
    let dir: PathBuf = stdout
        .lines()
        .find_map(|line| line.strip_prefix("DIR="))
        .unwrap_or_else(|| panic!("no DIR= in {stdout}"))
        .into();
    assert_eq!(dir, data.join("jido").join("sessions"));
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    // A store opens there.
    let persistence = Persistence::in_dir(&dir).unwrap();
    drop(persistence);

    // Without XDG_DATA_HOME: under the home directory.
    let stdout = default_dir_in_child(home.path(), None);
    assert!(
        stdout.contains(&format!(
            "DIR={}",
            home.path().join(".local/share/jido/sessions").display()
        )),
        "{stdout}"
    );
}
