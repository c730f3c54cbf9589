//! Lookups with 1,024 sessions open: jido-supervisor's registry and
//! supervisor vs a plain `std` `RwLock<HashMap<SessionId, Arc<Session>>>`,
//! single-threaded and with 2 threads hammering at once.
//!
//! The 1,024 sessions (real directories) are started with the real
//! supervisor before timing. Each operation looks up the next of the 1,024
//! keys in turn:
//!
//! - `lookup`: `registry().lookup(id)` (an `Arc<Session>` clone);
//! - `lookup_by_project`: `registry().lookup_by_project(&project_path)`;
//! - `lookup_by_path`: `registry().lookup_by_path(path)` with the path
//!   spelled as registered (absolute, canonical): a hash lookup;
//! - `lookup_by_path_alias`: the same directory spelled `path/.`, which has
//!   to be canonicalized first (system calls);
//! - `session_running`: `session_running(id)`;
//! - `plain_rwlock_hashmap`: the baseline's `get(&id).cloned()` under a read
//!   lock.
//!
//! Group `lookups_1t` runs on the bench thread. Group `lookups_2t` runs two
//! `std` threads doing the operation at once, each `iterations` times; the
//! time reported is wall time per operation *per thread* (latency under
//! contention), and the throughput (2 elements per iteration) is the two
//! threads' total. The tokio workers are idle meanwhile.
//!
//! ```text
//! cargo bench -p jido-bench --bench lookups
//! ```

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use jido_bench::fixtures::Projects;
use jido_bench::plain_index::PlainIndex;
use jido_bench::runtime::{drive, runtime};
use jido_session::{ProjectPath, SessionId};
use jido_supervisor::SessionSupervisor;

/// Sessions open during the lookups (a power of two: keys are picked by mask).
const SESSIONS: usize = 1024;
const MASK: usize = SESSIONS - 1;

/// The keys, each in the form one operation takes.
struct Keys {
    ids: Vec<SessionId>,
    projects: Vec<ProjectPath>,
    paths: Vec<PathBuf>,
    /// The same directories, spelled `path/.`.
    aliases: Vec<PathBuf>,
}

/// Benchmarks `op` (given a key index) single-threaded.
fn one_thread<R>(group: &mut BenchmarkGroup<'_, WallTime>, name: &str, op: impl Fn(usize) -> R) {
    group.bench_function(name, |b| {
        let mut next = 0usize;
        b.iter(|| {
            next = next.wrapping_add(1);
            op(next & MASK)
        });
    });
}

/// Benchmarks `op` on two threads at once; reports wall time per operation
/// per thread.
fn two_threads<R>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    op: impl Fn(usize) -> R + Sync,
) {
    group.bench_function(name, |b| {
        b.iter_custom(|iterations| {
            let start = Barrier::new(3);
            std::thread::scope(|scope| {
                for thread in 0..2 {
                    let (op, start) = (&op, &start);
                    scope.spawn(move || {
                        start.wait();
                        // The two threads walk the keys half a table apart.
                        let offset = thread * SESSIONS / 2;
                        for k in 0..iterations {
                            black_box(op((offset + k as usize) & MASK));
                        }
                    });
                }
                start.wait();
                let began = Instant::now();
                // Leaving the scope joins both threads.
                began
            })
            .elapsed()
        });
    });
}

fn lookups(c: &mut Criterion) {
    let runtime = runtime();
    let projects = Projects::flat(SESSIONS);
    let supervisor = SessionSupervisor::builder().max_sessions(SESSIONS).build();
    let keys = Keys {
        ids: projects.sessions().iter().map(|s| s.id()).collect(),
        projects: projects
            .sessions()
            .iter()
            .map(|s| s.project_path().clone())
            .collect(),
        paths: projects.paths().to_vec(),
        aliases: projects.paths().iter().map(|path| path.join(".")).collect(),
    };
    {
        let supervisor = supervisor.clone();
        let sessions = projects.sessions().to_vec();
        drive(&runtime, async move {
            for session in sessions {
                supervisor
                    .start_session(session)
                    .await
                    .expect("start a session");
            }
        });
    }
    assert_eq!(supervisor.registry().count(), SESSIONS);
    let plain = PlainIndex::new(supervisor.registry().list_all());
    let registry = supervisor.registry();

    for (group_name, threads) in [("lookups_1t", 1), ("lookups_2t", 2)] {
        let mut group = c.benchmark_group(group_name);
        group
            .throughput(Throughput::Elements(threads))
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2))
            .sample_size(40);
        // A macro, not a closure over `dyn Fn`: every operation is called
        // statically, like the baseline.
        macro_rules! bench {
            ($name:literal, $op:expr) => {
                if threads == 1 {
                    one_thread(&mut group, $name, $op);
                } else {
                    two_threads(&mut group, $name, $op);
                }
            };
        }
        bench!("lookup", |i| registry.lookup(keys.ids[i]).is_some());
        bench!("lookup_by_project", |i| {
            registry.lookup_by_project(&keys.projects[i]).is_some()
        });
        bench!("lookup_by_path", |i| {
            registry.lookup_by_path(&keys.paths[i]).is_some()
        });
        bench!("lookup_by_path_alias", |i| {
            registry.lookup_by_path(&keys.aliases[i]).is_some()
        });
        bench!("session_running", |i| supervisor
            .session_running(keys.ids[i]));
        bench!("plain_rwlock_hashmap", |i| plain
            .lookup(keys.ids[i])
            .is_some());
        group.finish();
    }

    drive(&runtime, {
        let supervisor = supervisor.clone();
        async move { supervisor.shutdown().await }
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().nresamples(20_000);
    targets = lookups
}
criterion_main!(benches);
