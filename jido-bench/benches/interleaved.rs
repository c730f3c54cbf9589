//! Start + stop, interleaved (issue 23): jido-supervisor, the raw-tokio
//! floor, ractor 0.16 and kameo 0.22 take turns (A B C D, B C D A, …), each
//! turn a sequential run and a run of 64 concurrent starters, so that the
//! machine's drift (up to 3× over minutes here) falls on every contender
//! alike; each ratio is to the floor measured in the same round, and the
//! report gives its median and spread (min–max) over the rounds.
//!
//! ```text
//! cargo bench -p jido-bench --bench interleaved
//! JIDO_BENCH_ROUNDS=21 JIDO_BENCH_CYCLES=4000 cargo bench -p jido-bench --bench interleaved
//! ```
//!
//! Each turn: `JIDO_BENCH_CYCLES` (default 2,000) start + stop cycles one
//! after the other (`workloads::sequential`, 16 projects), then 64 tasks
//! each starting and stopping its own project's session
//! `JIDO_BENCH_CYCLES / 64` times (`workloads::concurrent_round`); times
//! are per session started and stopped. One untimed round warms up first.
//! Run as a smoke test (`cargo test --benches`), one short round.

use std::sync::Arc;
use std::time::Duration;

use jido_bench::filter::{bench_mode, selected};
use jido_bench::fixtures::Projects;
use jido_bench::numbers::{median, spread};
use jido_bench::runtime::{drive, runtime};
use jido_bench::workloads::{concurrent_round, sequential};
use jido_bench::{Contender, Floor, KameoSessions, Ours, RactorSessions};
use jido_session::Session;
use tokio::runtime::Runtime;

/// The two workloads of a turn.
#[derive(Clone, Copy)]
enum Workload {
    Sequential,
    Concurrent,
}

/// Runs `workload` for `cycles` sessions with `contender`; the time per
/// session started and stopped, in µs.
fn turn<C: Contender>(
    runtime: &Runtime,
    contender: &C,
    workload: Workload,
    sequential_sessions: &Arc<[Session]>,
    concurrent_sessions: &Arc<[Session]>,
    cycles: u64,
) -> f64 {
    let (elapsed, sessions): (Duration, u64) = match workload {
        Workload::Sequential => (
            drive(
                runtime,
                sequential(contender.clone(), Arc::clone(sequential_sessions), cycles),
            ),
            cycles,
        ),
        Workload::Concurrent => {
            let tasks = concurrent_sessions.len() as u64;
            let per_task = (cycles / tasks).max(1);
            (
                drive(
                    runtime,
                    concurrent_round(contender.clone(), Arc::clone(concurrent_sessions), per_task),
                ),
                per_task * tasks,
            )
        }
    };
    elapsed.as_secs_f64() * 1e6 / sessions as f64
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn main() {
    if !selected("interleaved") {
        return;
    }
    let (rounds, cycles) = if bench_mode() {
        (
            env_or("JIDO_BENCH_ROUNDS", 11).max(1),
            env_or("JIDO_BENCH_CYCLES", 2_000).max(64),
        )
    } else {
        (1, 64)
    };
    let runtime = runtime();
    let projects = Projects::flat(64);
    let all: Arc<[Session]> = projects.sessions().into();
    let sixteen: Arc<[Session]> = all[..16].to_vec().into();

    let ours = Ours::new(1024);
    let floor = Floor::new();
    let names = ["floor", "ours", "ractor", "kameo"];
    let run = |contender: usize, workload: Workload| match contender {
        0 => turn(&runtime, &floor, workload, &sixteen, &all, cycles),
        1 => turn(&runtime, &ours, workload, &sixteen, &all, cycles),
        2 => turn(&runtime, &RactorSessions, workload, &sixteen, &all, cycles),
        _ => turn(&runtime, &KameoSessions, workload, &sixteen, &all, cycles),
    };

    for workload in [Workload::Sequential, Workload::Concurrent] {
        for contender in 0..names.len() {
            run(contender, workload);
        }
    }
    // times[workload][contender] and ratios to the floor of the same round.
    let mut times = vec![vec![Vec::new(); names.len()]; 2];
    let mut ratios = vec![vec![Vec::new(); names.len()]; 2];
    for round in 0..rounds as usize {
        for (w, workload) in [Workload::Sequential, Workload::Concurrent]
            .into_iter()
            .enumerate()
        {
            let mut this_round = vec![0.0; names.len()];
            for k in 0..names.len() {
                let contender = (round + k) % names.len();
                this_round[contender] = run(contender, workload);
            }
            for (contender, micros) in this_round.iter().enumerate() {
                times[w][contender].push(*micros);
                ratios[w][contender].push(micros / this_round[0]);
            }
        }
    }

    println!(
        "start + stop, interleaved ({rounds} rounds; {cycles} sequential cycles and 64 concurrent starters per turn):"
    );
    for (w, title) in ["sequential", "64 concurrent starters"].iter().enumerate() {
        println!("  {title}:");
        for (contender, name) in names.iter().enumerate() {
            let micros = median(&mut times[w][contender]);
            let (low, high) = spread(&ratios[w][contender]);
            let ratio = median(&mut ratios[w][contender]);
            println!(
                "    {name:<7} {micros:>7.2} µs per session; / floor {ratio:.2}x median (spread {low:.2}–{high:.2})"
            );
        }
    }
}
