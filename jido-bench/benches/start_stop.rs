//! Start + stop of one session, sequentially: jido-supervisor vs the raw-tokio
//! floor vs ractor 0.16, side by side.
//!
//! Each iteration starts a session's tree and stops it again, one after the
//! other, on the shared benchmark runtime (tokio multi-thread, 2 workers; by
//! default the loop runs as a task on it and times itself, see
//! `jido_bench::runtime::drive`):
//!
//! - `start_stop/ours`: `SessionSupervisor::start_session` with the default
//!   per-session supervisor (`SessionSup`: supervisor + Manager + State
//!   tasks, all registered by name), then `stop_session`;
//! - `start_stop/floor`: a supervisor task spawning two child tasks, ack over
//!   a oneshot, insert into a `Mutex<HashMap>`; then cancel, join, remove
//!   (`jido_bench::floor`);
//! - `start_stop/ractor`: a named actor spawning two linked named children in
//!   `pre_start`; then `stop(None)` and join (`jido_bench::ractor_baseline`).
//!
//! With `JIDO_BENCH_DRIVER=block_on`, the loop runs in `block_on` on the
//! bench thread instead (a third thread: every spawn and wake-up crosses
//! threads, which favours designs that wait less), and the group is named
//! `start_stop_block_on`; see `jido_bench::runtime::Driver`.
//!
//! The sessions are built for 16 real directories before timing; iteration
//! `i` starts a clone of session `i % 16` (the clone is inside the timed
//! loop, for all three alike). Time is per session started and stopped.
//!
//! ```text
//! cargo bench -p jido-bench --bench start_stop
//! JIDO_BENCH_DRIVER=block_on cargo bench -p jido-bench --bench start_stop
//! ```

use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jido_bench::fixtures::Projects;
use jido_bench::runtime::{Driver, drive, runtime};
use jido_bench::workloads::sequential;
use jido_bench::{Contender, Floor, Ours, RactorSessions};
use jido_session::Session;
use tokio::runtime::Runtime;

fn bench_one<C: Contender>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    runtime: &Runtime,
    name: &str,
    contender: C,
    sessions: &Arc<[Session]>,
) {
    group.bench_function(name, |b| {
        b.iter_custom(|iterations| {
            drive(
                runtime,
                sequential(contender.clone(), Arc::clone(sessions), iterations),
            )
        });
    });
}

fn start_stop(c: &mut Criterion) {
    let runtime = runtime();
    let projects = Projects::flat(16);
    let sessions: Arc<[Session]> = projects.sessions().into();

    let mut group = c.benchmark_group(format!("start_stop{}", Driver::from_env().suffix()));
    group
        .throughput(Throughput::Elements(1))
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .sample_size(40);
    bench_one(&mut group, &runtime, "ours", Ours::new(1024), &sessions);
    bench_one(&mut group, &runtime, "floor", Floor::new(), &sessions);
    bench_one(&mut group, &runtime, "ractor", RactorSessions, &sessions);
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().nresamples(20_000);
    targets = start_stop
}
criterion_main!(benches);
