//! Scale: start 1,000,000 sessions with the real supervisor, and check that
//! the start cost stays flat and an idle session stays small.
//!
//! Steps, each timed and printed:
//! 1. create the project directories, nested (`d0000/p0000000`, at most
//!    1,000 per directory) in a temporary directory under
//!    `$JIDO_SCALE_DIR`, else `/dev/shm` (tmpfs: a million directories are
//!    created and removed in seconds there, against minutes on a disk), else
//!    the system's temporary directory;
//! 2. build one `Session` per directory (`Session::new`, which canonicalizes
//!    and checks the directory) into a `Vec`;
//! 3. start them all, one after the other, from one task on the benchmark
//!    runtime (tokio multi-thread, 2 workers), with
//!    `SessionSupervisor::start_session` and the default `SessionSup`
//!    (supervisor + Manager + State tasks per session), the registry limit
//!    raised to the session count; every start is timed on its own, and the
//!    minor page faults are read every 1,000 starts (outside the timing);
//! 4. report the start cost over windows of 1,000 starts beginning when 1k,
//!    10k, 100k sessions are already open, and over the last 1,000 (about
//!    1M open) — it must stay flat: mean and median both within 1.3× of
//!    the 1k window's (the recorded ratio is the larger of the two) — with
//!    the page faults per start, and
//!    amortized per decade (hash-table resizes included);
//! 5. report resident memory (RSS from `/proc/self/statm`): per prepared
//!    `Session` (the `Vec` of them), and per running idle session (after all
//!    are started, the `Vec` gone; the caller keeps each start's 16-byte
//!    `SessionId`), and the difference (what running adds);
//! 6. shut the supervisor down (`shutdown()`: stops every session) and remove
//!    the directories.
//!
//! The results are also recorded (JSON, under criterion's output directory)
//! for the `summary` target.
//!
//! `JIDO_SCALE_SESSIONS` sets the count (default 1,000,000). Run without
//! `--bench` (by `cargo test --benches`), it is a 2,000-session smoke run
//! that records nothing. `JIDO_SCALE_CONTENDER=floor` or `=ractor` runs the
//! same steps with a baseline instead (for comparison; not recorded; its
//! handles, kept by the caller, are in the memory figure, and it is stopped
//! session by session).
//!
//! ```text
//! cargo bench -p jido-bench --bench scale
//! JIDO_SCALE_SESSIONS=20000 cargo bench -p jido-bench --bench scale
//! JIDO_SCALE_CONTENDER=floor cargo bench -p jido-bench --bench scale
//! ```

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jido_bench::filter::{bench_mode, selected};
use jido_bench::fixtures::NestedDirs;
use jido_bench::memory::{minor_faults, resident_bytes};
use jido_bench::numbers::thousands;
use jido_bench::ractor_baseline::RactorTree;
use jido_bench::results::write_scale_record;
use jido_bench::runtime::{Driver, WORKERS, drive, runtime};
use jido_bench::{Contender, Floor, Ours, RactorSessions};
use jido_session::{Session, SessionId};
use serde_json::{Value, json};

/// Sessions of a smoke run (not under `cargo bench`).
const SMOKE_SESSIONS: usize = 2_000;

/// Starts per measurement window.
const WINDOW: usize = 1000;

/// Flat: the mean and the median start cost with ~N open are both at most
/// this times those with 1k open.
const FLAT_TOLERANCE: f64 = 1.3;

/// How a contender is stopped once all its sessions are started.
trait ShutDown: Contender {
    /// Stops every session; `handles` are what its starts returned.
    fn shut_down(&self, handles: Vec<Self::Running>) -> impl Future<Output = ()> + Send;
    /// Sessions it holds (to check that all started, and all stopped).
    fn open(&self) -> Option<usize>;
}

impl ShutDown for Ours {
    async fn shut_down(&self, _handles: Vec<SessionId>) {
        self.supervisor().shutdown().await;
    }

    fn open(&self) -> Option<usize> {
        Some(self.supervisor().registry().count())
    }
}

impl ShutDown for Floor {
    async fn shut_down(&self, handles: Vec<SessionId>) {
        for id in handles {
            self.stop(id).await;
        }
    }

    fn open(&self) -> Option<usize> {
        Some(self.len())
    }
}

impl ShutDown for RactorSessions {
    async fn shut_down(&self, handles: Vec<RactorTree>) {
        for tree in handles {
            self.stop(tree).await;
        }
    }

    fn open(&self) -> Option<usize> {
        None
    }
}

fn main() {
    if !selected("scale") {
        return;
    }
    let count: usize = match std::env::var("JIDO_SCALE_SESSIONS") {
        Ok(value) => value
            .replace(['_', ','], "")
            .parse()
            .expect("JIDO_SCALE_SESSIONS must be a number"),
        Err(_) => 1_000_000,
    };
    let smoke = !bench_mode();
    let count = if smoke {
        count.min(SMOKE_SESSIONS)
    } else {
        count
    };
    assert!(count >= 1, "JIDO_SCALE_SESSIONS must be at least 1");
    let contender = std::env::var("JIDO_SCALE_CONTENDER").unwrap_or_else(|_| "ours".to_owned());
    let record = match contender.as_str() {
        "ours" => run(Ours::new(count), "ours", count),
        "floor" => run(Floor::new(), "floor", count),
        "ractor" => run(RactorSessions, "ractor", count),
        other => panic!("JIDO_SCALE_CONTENDER must be ours, floor or ractor, not {other}"),
    };
    if smoke || contender != "ours" {
        println!("  (not recorded: smoke run or baseline)");
    } else if let Err(error) = write_scale_record(&record) {
        eprintln!("  could not record the results: {error}");
    }
}

/// Runs every step with `contender`; returns the record of the results.
fn run<C: ShutDown>(contender: C, name: &str, count: usize) -> Value {
    println!(
        "scale ({name}): {} sessions, tokio multi-thread, {WORKERS} workers, driver {}",
        thousands(count as u64),
        Driver::from_env().name()
    );

    // 1. Directories.
    let clock = Instant::now();
    let dirs = NestedDirs::create_in(&scale_dir(), count).expect("create the project directories");
    let dirs_time = clock.elapsed();
    println!(
        "  create {} directories:   {:>8.2} s  (in {})",
        thousands(count as u64),
        dirs_time.as_secs_f64(),
        dirs.root().display()
    );

    let runtime = runtime();
    // Touched now, so that their pages are in the baseline.
    let mut nanos = vec![u32::MAX; count];
    let mut faults = vec![u64::MAX; count / WINDOW + 1];
    let mut handles: Vec<C::Running> = Vec::with_capacity(count);
    let rss_before = resident_bytes().unwrap_or(0);

    // 2. Sessions.
    let clock = Instant::now();
    let mut sessions = Vec::with_capacity(count);
    for index in 0..count {
        sessions.push(Session::new(dirs.path(index)).expect("build a session"));
    }
    let build_time = clock.elapsed();
    let rss_prepared = resident_bytes().unwrap_or(0);
    println!(
        "  build {} Sessions:       {:>8.2} s  ({:.2} µs each)",
        thousands(count as u64),
        build_time.as_secs_f64(),
        build_time.as_secs_f64() * 1e6 / count as f64
    );

    // 3. Start them all, timing each start.
    let (nanos, faults, handles, start_time) = drive(&runtime, {
        let contender = contender.clone();
        async move {
            let clock = Instant::now();
            for (index, (slot, session)) in nanos.iter_mut().zip(sessions).enumerate() {
                if index % WINDOW == 0 {
                    faults[index / WINDOW] = minor_faults().unwrap_or(0);
                }
                let began = Instant::now();
                handles.push(contender.start(session).await);
                *slot = u32::try_from(began.elapsed().as_nanos()).unwrap_or(u32::MAX);
            }
            let time = clock.elapsed();
            if count.is_multiple_of(WINDOW) {
                faults[count / WINDOW] = minor_faults().unwrap_or(0);
            }
            (nanos, faults, handles, time)
        }
    });
    if let Some(open) = contender.open() {
        assert_eq!(open, count, "every session must be open");
    }
    let rss_running = resident_bytes().unwrap_or(0);
    println!(
        "  start {} sessions:       {:>8.2} s  ({:.2} µs each on average)",
        thousands(count as u64),
        start_time.as_secs_f64(),
        start_time.as_secs_f64() * 1e6 / count as f64
    );

    // 4. Start cost by window.
    println!("  start cost, µs per session, windows of {WINDOW} starts:");
    println!(
        "    {:<22} {:>8} {:>8} {:>8} {:>10} {:>12}",
        "already open", "mean", "p50", "p99", "max", "faults/start"
    );
    let mut firsts: Vec<usize> = [1_000, 10_000, 100_000]
        .into_iter()
        .filter(|first| first + WINDOW <= count)
        .collect();
    if count >= 2 * WINDOW {
        let last = (count / WINDOW - 1) * WINDOW;
        if !firsts.contains(&last) {
            firsts.push(last);
        }
    }
    let mut windows = Vec::new();
    for first in firsts {
        let stats = Stats::of(&nanos[first..first + WINDOW]);
        let (from, to) = (faults[first / WINDOW], faults[first / WINDOW + 1]);
        let per_start = (to != u64::MAX).then(|| to.saturating_sub(from) as f64 / WINDOW as f64);
        println!(
            "    {:<22} {} {:>12}",
            thousands(first as u64),
            stats.row(),
            per_start.map_or("n/a".to_owned(), |f| format!("{f:.2}"))
        );
        windows.push(
            json!({"open": first, "mean_us": stats.mean_us, "p50_us": stats.p50_us,
            "p99_us": stats.p99_us, "max_us": stats.max_us, "faults_per_start": per_start}),
        );
    }
    println!("  amortized (every start in the range, hash-table resizes included):");
    let mut decades = Vec::new();
    let mut low = 0;
    for high in [1_000, 10_000, 100_000, 1_000_000, usize::MAX] {
        let high = high.min(count);
        if high > low {
            let stats = Stats::of(&nanos[low..high]);
            println!(
                "    {:<22} {}",
                format!("{}..{}", thousands(low as u64), thousands(high as u64)),
                stats.row()
            );
            decades.push(json!({"from": low, "to": high, "mean_us": stats.mean_us,
                "p50_us": stats.p50_us, "p99_us": stats.p99_us, "max_us": stats.max_us}));
            low = high;
        }
    }
    let mean = |window: &Value| window["mean_us"].as_f64().unwrap_or(f64::NAN);
    let p50 = |window: &Value| window["p50_us"].as_f64().unwrap_or(f64::NAN);
    let flat_ratio = match (windows.first(), windows.last()) {
        (Some(first), Some(last)) if windows.len() > 1 => {
            println!(
                "  flat cost: with {} open / with 1,000 open: mean {:.2}x (p50 {:.2}x) -> {}",
                thousands(last["open"].as_u64().unwrap_or(0)),
                mean(last) / mean(first),
                p50(last) / p50(first),
                if mean(last) / mean(first) <= FLAT_TOLERANCE
                    && p50(last) / p50(first) <= FLAT_TOLERANCE
                {
                    "FLAT"
                } else {
                    "NOT FLAT"
                }
            );
            Some((mean(last) / mean(first)).max(p50(last) / p50(first)))
        }
        _ => {
            println!("  flat cost: too few sessions to compare windows");
            None
        }
    };

    // 5. Memory.
    let per = |bytes: u64| bytes as f64 / count as f64;
    let prepared = per(rss_prepared.saturating_sub(rss_before));
    let running = per(rss_running.saturating_sub(rss_before));
    println!("  resident memory:");
    println!("    before the Sessions:     {:>10.1} MiB", mib(rss_before));
    println!(
        "    Sessions prepared:       {:>10.1} MiB  {prepared:>8.0} B per session (size_of::<Session>() = {} B)",
        mib(rss_prepared),
        std::mem::size_of::<Session>()
    );
    println!(
        "    all started, idle:       {:>10.1} MiB  {running:>8.0} B per session, {:.0} B of it added by running",
        mib(rss_running),
        running - prepared
    );

    // 6. Shut down, clean up.
    let clock = Instant::now();
    drive(&runtime, {
        let contender = contender.clone();
        async move { contender.shut_down(handles).await }
    });
    let shutdown_time = clock.elapsed();
    if let Some(open) = contender.open() {
        assert_eq!(open, 0, "every session must be stopped");
    }
    println!(
        "  shut down:                 {:>8.2} s",
        shutdown_time.as_secs_f64()
    );
    drop(contender);
    drop(runtime);
    let clock = Instant::now();
    dirs.remove().expect("remove the project directories");
    let remove_time = clock.elapsed();
    println!(
        "  remove the directories:    {:>8.2} s",
        remove_time.as_secs_f64()
    );

    let secs = |time: Duration| time.as_secs_f64();
    json!({
        "contender": name,
        "driver": Driver::from_env().name(),
        "sessions": count,
        "window": WINDOW,
        "windows": windows,
        "decades": decades,
        "flat_ratio": flat_ratio,
        "flat_tolerance": FLAT_TOLERANCE,
        "rss_before": rss_before,
        "rss_prepared": rss_prepared,
        "rss_running": rss_running,
        "bytes_per_session_prepared": prepared,
        "bytes_per_session_running": running,
        "size_of_session": std::mem::size_of::<Session>(),
        "create_dirs_s": secs(dirs_time),
        "build_sessions_s": secs(build_time),
        "start_all_s": secs(start_time),
        "shutdown_s": secs(shutdown_time),
        "remove_dirs_s": secs(remove_time),
    })
}

/// Where the project directories go: `$JIDO_SCALE_DIR`, else `/dev/shm` if
/// it is a writable directory, else the system's temporary directory.
fn scale_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("JIDO_SCALE_DIR") {
        return PathBuf::from(dir);
    }
    let shm = Path::new("/dev/shm");
    if shm.is_dir() && tempfile::tempdir_in(shm).is_ok() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

/// Summary of a run of start times.
struct Stats {
    mean_us: f64,
    p50_us: f64,
    p99_us: f64,
    max_us: f64,
}

impl Stats {
    fn of(nanos: &[u32]) -> Self {
        let mut sorted = nanos.to_vec();
        sorted.sort_unstable();
        let at = |quantile: f64| {
            let index = ((sorted.len() - 1) as f64 * quantile).round() as usize;
            f64::from(sorted[index]) / 1e3
        };
        let sum: u64 = sorted.iter().map(|&n| u64::from(n)).sum();
        Stats {
            mean_us: sum as f64 / sorted.len() as f64 / 1e3,
            p50_us: at(0.5),
            p99_us: at(0.99),
            max_us: at(1.0),
        }
    }

    fn row(&self) -> String {
        format!(
            "{:>8.2} {:>8.2} {:>8.2} {:>10.1}",
            self.mean_us, self.p50_us, self.p99_us, self.max_us
        )
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
