//! Where results are kept between bench targets: criterion's estimates, and
//! the scale target's own record, both under criterion's output directory.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde_json::Value;

/// Criterion's output directory, found as criterion finds it:
/// `$CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`, else
/// `<target>/criterion` with `<target>` taken from this executable's path
/// (`<target>/release/deps/<bench>`).
pub fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return Path::new(&target).join("criterion");
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.join("criterion")))
        .unwrap_or_else(|| PathBuf::from("target/criterion"))
}

/// One benchmark's latest result, as criterion recorded it.
#[derive(Debug, Clone, Copy)]
pub struct Estimate {
    /// Time per iteration, in nanoseconds: criterion's slope estimate when it
    /// has one (linear sampling), else the mean.
    pub nanos: f64,
    /// How long ago it was measured.
    pub age: Duration,
}

/// The latest estimate of benchmark `group/name`, or `None` if criterion has
/// not recorded it.
pub fn estimate(group: &str, name: &str) -> Option<Estimate> {
    let path = criterion_home()
        .join(group)
        .join(name)
        .join("new")
        .join("estimates.json");
    let json: Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    let point = |kind: &str| json.get(kind)?.get("point_estimate")?.as_f64();
    Some(Estimate {
        nanos: point("slope").or_else(|| point("mean"))?,
        age: age_of(&path),
    })
}

fn age_of(path: &Path) -> Duration {
    std::fs::metadata(path)
        .and_then(|metadata| metadata.modified())
        .ok()
        .and_then(|modified| SystemTime::now().duration_since(modified).ok())
        .unwrap_or_default()
}

/// Where the scale target records its results.
pub fn scale_record_path() -> PathBuf {
    criterion_home().join("jido-scale").join("results.json")
}

/// Records the scale target's results.
///
/// # Errors
///
/// If the file cannot be written.
pub fn write_scale_record(record: &Value) -> std::io::Result<()> {
    let path = scale_record_path();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, serde_json::to_vec_pretty(record)?)
}

/// The scale target's latest results and their age, if recorded.
pub fn read_scale_record() -> Option<(Value, Duration)> {
    let path = scale_record_path();
    let json = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    Some((json, age_of(&path)))
}
