//! Summary: one table of the latest results of the other targets, against
//! the targets set for jido-supervisor (2-core machine).
//!
//! Measures nothing itself: it reads criterion's estimates (`start_stop`,
//! `concurrent_64`, `lookups_1t`, `lookups_2t`; and `start_stop_block_on`,
//! `concurrent_64_block_on` if they were measured with
//! `JIDO_BENCH_DRIVER=block_on`) and the record of the `scale` target, from criterion's output directory (`$CRITERION_HOME`,
//! else `$CARGO_TARGET_DIR/criterion`, else the target directory this bench
//! was built in). `cargo bench -p jido-bench` runs the targets in name
//! order, so this one runs last. A result older than an hour is flagged;
//! a missing one is shown as `n/a`.
//!
//! The targets are issue 13's (and the ractor one from before):
//!
//! | target | how it is checked |
//! |---|---|
//! | start+stop within 1.5× of the raw-tokio floor | `start_stop`: ours / floor ≤ 1.5 |
//! | the same with 64 concurrent starters | `concurrent_64`: ours / floor ≤ 1.5 |
//! | at least 1.5× faster than ractor | `start_stop`: ractor / ours ≥ 1.5 |
//! | no lookup slower than before issue 13 | `lookups_1t`: ours / the plain-map baseline of the same run, at most the ratio measured before (+10 % for noise) |
//! | at most 2,048 B per idle session | `scale`: RSS per running session |
//! | flat cost from 1k to 1M sessions | `scale`: last window / 1k window ≤ 1.3, for the mean and the median |
//!
//! ```text
//! cargo bench -p jido-bench            # everything, summary last
//! cargo bench -p jido-bench --bench summary
//! ```

use std::time::Duration;

use jido_bench::filter::selected;
use jido_bench::numbers::thousands;
use jido_bench::results::{Estimate, criterion_home, estimate, read_scale_record};
use jido_bench::runtime::Driver;

/// Sessions started and stopped per `concurrent_64` iteration (64 × 16).
const SESSIONS_PER_ROUND: f64 = 1024.0;

/// Each lookup's time over the plain `RwLock<HashMap>` baseline of the same
/// run, measured before issue 13 (README's figures of issue 9: 20.0, 27.1,
/// 43.8 and 25.3 ns against 29.0 ns). A lookup is "not slower" while its
/// ratio stays within 10 % of this.
const LOOKUP_RATIOS_BEFORE: [(&str, f64); 4] = [
    ("lookup", 0.69),
    ("lookup_by_project", 0.93),
    ("lookup_by_path", 1.51),
    ("session_running", 0.87),
];

/// Results older than this are flagged as stale.
const STALE: Duration = Duration::from_secs(3600);

fn main() {
    if !selected("summary") {
        return;
    }
    println!();
    println!("==================== jido-supervisor benchmark summary ====================");
    println!("(results from {})", criterion_home().display());
    let mut stale = false;
    let mut get = |group: &str, name: &str| -> Option<Estimate> {
        let found = estimate(group, name);
        if found.is_some_and(|e| e.age > STALE) {
            stale = true;
        }
        found
    };

    for driver in Driver::ALL {
        let group = format!("start_stop{}", driver.suffix());
        let ours = get(&group, "ours").map(|e| e.nanos / 1e3);
        let floor = get(&group, "floor").map(|e| e.nanos / 1e3);
        let ractor = get(&group, "ractor").map(|e| e.nanos / 1e3);
        if driver != Driver::Task && ours.is_none() && floor.is_none() && ractor.is_none() {
            continue;
        }
        println!();
        println!(
            "start + stop of one session, sequential (µs per session; driver {})",
            driver.name()
        );
        println!(
            "  ours {}   floor {}   ractor {}",
            us(ours),
            us(floor),
            us(ractor)
        );
        let ours_floor = ours.zip(floor).map(|(o, f)| o / f);
        let ractor_ours = ractor.zip(ours).map(|(r, o)| r / o);
        println!(
            "  ours / floor   = {}   target <= 1.50   {}",
            ratio(ours_floor),
            verdict(ours_floor.map(|r| r <= 1.5))
        );
        println!(
            "  ractor / ours  = {}   target >= 1.50   {}",
            ratio(ractor_ours),
            verdict(ractor_ours.map(|r| r >= 1.5))
        );
    }

    for driver in Driver::ALL {
        let group = format!("concurrent_64{}", driver.suffix());
        let per_session: Vec<Option<f64>> = ["ours", "floor", "ractor"]
            .into_iter()
            .map(|name| get(&group, name).map(|e| e.nanos / 1e3 / SESSIONS_PER_ROUND))
            .collect();
        if driver != Driver::Task && per_session.iter().all(Option::is_none) {
            continue;
        }
        println!();
        println!(
            "start + stop, 64 concurrent starters (µs per session | sessions per second; driver {})",
            driver.name()
        );
        for (name, micros) in ["ours", "floor", "ractor"].into_iter().zip(&per_session) {
            println!(
                "  {name:<7} {}   {:>12}/s",
                us(*micros),
                micros.map_or("n/a".to_owned(), |m| thousands((1e6 / m) as u64))
            );
        }
        let ours_floor = per_session[0].zip(per_session[1]).map(|(o, f)| o / f);
        let ractor_ours = per_session[2].zip(per_session[0]).map(|(r, o)| r / o);
        println!(
            "  ours / floor = {}   target <= 1.50   {}   ractor / ours = {}",
            ratio(ours_floor),
            verdict(ours_floor.map(|r| r <= 1.5)),
            ratio(ractor_ours)
        );
    }

    // Lookups.
    println!();
    println!("lookups, 1,024 sessions open (ns per op; 2t: per op per thread, 2 threads at once)");
    let baseline = get("lookups_1t", "plain_rwlock_hashmap").map(|e| e.nanos);
    println!(
        "  {:<22} {:>10} {:>10}   1t / baseline (before)   target: not slower than before",
        "", "1 thread", "2 threads"
    );
    for name in [
        "lookup",
        "lookup_by_project",
        "lookup_by_path",
        "lookup_by_path_alias",
        "session_running",
        "plain_rwlock_hashmap",
    ] {
        let one = get("lookups_1t", name).map(|e| e.nanos);
        let two = get("lookups_2t", name).map(|e| e.nanos);
        let before = LOOKUP_RATIOS_BEFORE
            .iter()
            .find(|(lookup, _)| *lookup == name)
            .map(|(_, before)| *before);
        let now = one.zip(baseline).map(|(o, b)| o / b);
        let check = match (name, before) {
            ("plain_rwlock_hashmap", _) => "(baseline)".to_owned(),
            (_, Some(before)) => format!(
                "{} ({before:.2})   {}",
                ratio(now),
                verdict(now.map(|r| r <= before * 1.1))
            ),
            _ => "(another spelling: canonicalizes, syscalls)".to_owned(),
        };
        println!("  {name:<22} {:>10} {:>10}   {check}", ns(one), ns(two));
    }

    // Scale.
    println!();
    match read_scale_record() {
        None => println!("scale: n/a (run the `scale` target)"),
        Some((record, age)) => {
            if age > STALE {
                stale = true;
            }
            let sessions = record["sessions"].as_u64().unwrap_or(0);
            println!(
                "scale: {} sessions started with the real supervisor (driver {})",
                thousands(sessions),
                record["driver"].as_str().unwrap_or("task")
            );
            if let Some(windows) = record["windows"].as_array() {
                let cells: Vec<String> = windows
                    .iter()
                    .map(|w| {
                        format!(
                            "{} open: {:.2}",
                            thousands(w["open"].as_u64().unwrap_or(0)),
                            w["mean_us"].as_f64().unwrap_or(f64::NAN)
                        )
                    })
                    .collect();
                println!(
                    "  start µs per session (mean of 1,000)   {}",
                    cells.join(" | ")
                );
            }
            let flat = record["flat_ratio"].as_f64();
            println!(
                "  flat cost: last / 1k window, worse of mean and p50 = {}   target <= {:.2}   {}",
                ratio(flat),
                record["flat_tolerance"].as_f64().unwrap_or(1.3),
                verdict(flat.map(|r| r <= record["flat_tolerance"].as_f64().unwrap_or(1.3)))
            );
            let running = record["bytes_per_session_running"].as_f64();
            let prepared = record["bytes_per_session_prepared"].as_f64();
            println!(
                "  memory per idle session: {} B (prepared Session alone {} B, added by running {} B)   target <= 2,048 B   {}",
                bytes(running),
                bytes(prepared),
                bytes(running.zip(prepared).map(|(r, p)| r - p)),
                verdict(running.map(|r| r <= 2048.0))
            );
        }
    }
    if stale {
        println!();
        println!("note: some results are more than an hour old (not from this run).");
    }
    println!("===========================================================================");
}

fn us(value: Option<f64>) -> String {
    value.map_or("n/a".to_owned(), |v| format!("{v:>8.2} µs"))
}

fn ns(value: Option<f64>) -> String {
    value.map_or("n/a".to_owned(), |v| format!("{v:.1} ns"))
}

fn bytes(value: Option<f64>) -> String {
    value.map_or("n/a".to_owned(), |v| thousands(v.max(0.0).round() as u64))
}

fn ratio(value: Option<f64>) -> String {
    value.map_or("n/a".to_owned(), |v| format!("{v:.2}"))
}

fn verdict(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "MET",
        Some(false) => "MISSED",
        None => "n/a",
    }
}
