//! Start + stop with 64 concurrent starters (throughput): jido-supervisor vs
//! the raw-tokio floor vs ractor 0.16, side by side.
//!
//! One iteration is a round: 64 tasks run at once on the shared benchmark
//! runtime (tokio multi-thread, 2 workers), each starting then stopping its
//! own session (its own real directory) 16 times over, so 1,024 sessions are
//! started and stopped per round (`Throughput::Elements(1024)`: criterion
//! reports sessions per second). Contenders as in `start_stop`; ours has its
//! registry limit raised to 1,024 (`max_sessions`), above the 64 open at
//! once. Sessions are built before timing and cloned per start. With
//! `JIDO_BENCH_DRIVER=block_on`, each round's 64 tasks are still spawned,
//! from `block_on` on the bench thread (group `concurrent_64_block_on`).
//!
//! ```text
//! cargo bench -p jido-bench --bench concurrent
//! JIDO_BENCH_DRIVER=block_on cargo bench -p jido-bench --bench concurrent
//! ```

use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jido_bench::fixtures::Projects;
use jido_bench::runtime::{Driver, drive, runtime};
use jido_bench::workloads::concurrent;
use jido_bench::{Contender, Floor, Ours, RactorSessions};
use jido_session::Session;
use tokio::runtime::Runtime;

/// Concurrent starters.
const TASKS: usize = 64;
/// Sessions each starter starts then stops, per round.
const PER_TASK: u64 = 16;

fn bench_one<C: Contender>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    runtime: &Runtime,
    name: &str,
    contender: C,
    sessions: &Arc<[Session]>,
) {
    group.bench_function(name, |b| {
        b.iter_custom(|rounds| {
            drive(
                runtime,
                concurrent(contender.clone(), Arc::clone(sessions), PER_TASK, rounds),
            )
        });
    });
}

fn concurrent_starters(c: &mut Criterion) {
    let runtime = runtime();
    let projects = Projects::flat(TASKS);
    let sessions: Arc<[Session]> = projects.sessions().into();

    let mut group = c.benchmark_group(format!("concurrent_64{}", Driver::from_env().suffix()));
    group
        .throughput(Throughput::Elements(TASKS as u64 * PER_TASK))
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .sample_size(20);
    bench_one(&mut group, &runtime, "ours", Ours::new(1024), &sessions);
    bench_one(&mut group, &runtime, "floor", Floor::new(), &sessions);
    bench_one(&mut group, &runtime, "ractor", RactorSessions, &sessions);
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().nresamples(20_000);
    targets = concurrent_starters
}
criterion_main!(benches);
