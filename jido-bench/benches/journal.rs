//! What durability costs per acknowledged change: `StateRef::append_message`
//! of a 200-byte message, answered by the State, against the floor of the
//! write alone. In one run, side by side:
//!
//! - `journal/memory`: no persistence (the State commits to memory);
//! - `journal/os`: `Persistence::in_dir` with the default durability — the
//!   change is journaled with one `write(2)` before the State answers;
//! - `journal/floor_write`: the floor: a raw `write(2)` of the same framed
//!   record's bytes to a file opened for appending (no State, no runtime);
//! - `journal/sync`: `Durability::Sync`, one writer (an `fdatasync` per
//!   change: group commit has nobody to share with);
//! - `journal/floor_fdatasync`: the floor of that: `write(2)` then
//!   `fdatasync` of the same bytes.
//!
//! - `journal/sync_64`: 64 sessions appending at once at `Durability::Sync`
//!   (one `syncfs` covers every append written meanwhile), per change;
//! - `journal/floor_group_commit_64`: its floor, raw group commit: 64
//!   writers appending the same records to one file, one `fdatasync` for
//!   every record written while the one before ran.
//!
//! Journals checkpoint every 10,000 records (the default), inside the timed
//! loop, as they would in use. And `journal/replay_10k`: a journal of 10,000
//! 200-byte messages read back and replayed into a conversation (what a
//! resume does before the session starts).
//!
//! ```text
//! cargo bench -p jido-bench --bench journal
//! ```

use std::fs::OpenOptions;
use std::io::Write;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jido_bench::runtime::{drive, runtime};
use jido_store::journal::{self, Entry};
use jido_supervisor::session::Change;
use jido_supervisor::store::{Durability, FileJournal, JournalStore};
use jido_supervisor::{Message, Persistence, Role, SessionId, SessionSupervisor, StateRef};
use tokio::runtime::Runtime;

fn message() -> Message {
    Message::new(Role::User, "x".repeat(200))
}

/// A session's State, with `persistence` (if any) at `durability`.
fn state(
    runtime: &Runtime,
    project: &std::path::Path,
    persistence: Option<(Persistence, Durability)>,
) -> (SessionSupervisor, StateRef) {
    runtime.block_on(async {
        let mut builder = SessionSupervisor::builder();
        if let Some((persistence, durability)) = persistence {
            builder = builder.persistence(persistence).durability(durability);
        }
        let supervisor = builder.build();
        let id = supervisor.create_session(project).await.unwrap().id();
        let state = supervisor.state(id).unwrap();
        (supervisor, state)
    })
}

fn bench_state(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    runtime: &Runtime,
    name: &str,
    state: &StateRef,
) {
    group.bench_function(name, |b| {
        b.iter_custom(|iterations| {
            let state = state.clone();
            drive(runtime, async move {
                let message = message();
                let start = Instant::now();
                for _ in 0..iterations {
                    state.append_message(message.clone()).await.unwrap();
                }
                start.elapsed()
            })
        });
    });
}

fn bench_floor(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    dir: &std::path::Path,
    sync: bool,
) {
    let mut frame = Vec::new();
    journal::encode(
        1,
        &Entry::change_payload(&Change::Message(message())),
        &mut frame,
    )
    .unwrap();
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(format!("{name}.floor")))
        .unwrap();
    group.bench_function(name, |b| {
        b.iter_custom(|iterations| {
            let start = Instant::now();
            for _ in 0..iterations {
                (&file).write_all(&frame).unwrap();
                if sync {
                    file.sync_data().unwrap();
                }
            }
            start.elapsed()
        });
    });
}

/// Reads back and replays a journal of 10,000 messages.
fn bench_replay(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    runtime: &Runtime,
) {
    let dir = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir().unwrap();
    let journals = FileJournal::new(dir.path()).unwrap();
    let id = SessionId::new();
    let mut frames = Vec::new();
    let record = jido_supervisor::Session::new(project.path())
        .unwrap()
        .to_record();
    journal::encode(1, &Entry::session_payload(&record), &mut frames).unwrap();
    for seq in 2..=10_001 {
        journal::encode(
            seq,
            &Entry::change_payload(&Change::Message(message())),
            &mut frames,
        )
        .unwrap();
    }
    runtime
        .block_on(journals.append(id, frames, 10_001, Durability::Os))
        .unwrap();
    group.throughput(Throughput::Elements(10_000));
    group.bench_function("replay_10k", |b| {
        b.iter_custom(|iterations| {
            let journals = journals.clone();
            drive(runtime, async move {
                let start = Instant::now();
                for _ in 0..iterations {
                    let read = journals.read(id).await.unwrap();
                    let replayed = journal::replay(None, &read).unwrap().unwrap();
                    assert_eq!(replayed.conversation.message_count(), 1_000);
                }
                start.elapsed()
            })
        });
    });
}

const WRITERS: usize = 64;

/// 64 sessions appending at once, at `Durability::Sync`.
fn bench_sync_64(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    runtime: &Runtime,
) {
    let store = tempfile::tempdir().unwrap();
    let projects: Vec<_> = (0..WRITERS).map(|_| tempfile::tempdir().unwrap()).collect();
    let (supervisor, states) = runtime.block_on(async {
        let supervisor = SessionSupervisor::builder()
            .max_sessions(WRITERS)
            .persistence(Persistence::in_dir(store.path()).unwrap())
            .durability(Durability::Sync)
            .build();
        let mut states = Vec::new();
        for project in &projects {
            let id = supervisor
                .create_session(project.path())
                .await
                .unwrap()
                .id();
            states.push(supervisor.state(id).unwrap());
        }
        (supervisor, states)
    });
    group.bench_function("sync_64", |b| {
        b.iter_custom(|iterations| {
            let states = states.clone();
            drive(runtime, async move {
                let each = iterations.div_ceil(WRITERS as u64);
                let start = Instant::now();
                let writers: Vec<_> = states
                    .into_iter()
                    .map(|state| {
                        tokio::spawn(async move {
                            let message = message();
                            for _ in 0..each {
                                state.append_message(message.clone()).await.unwrap();
                            }
                        })
                    })
                    .collect();
                for writer in writers {
                    writer.await.unwrap();
                }
                // Per change: the loop did `each * WRITERS` of them.
                start
                    .elapsed()
                    .mul_f64(iterations as f64 / (each * WRITERS as u64) as f64)
            })
        });
    });
    drop(supervisor);
}

/// Raw group commit: 64 writers, one file, one `fdatasync` per batch.
fn bench_floor_group_commit(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    runtime: &Runtime,
    dir: &std::path::Path,
) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    let mut frame = Vec::new();
    journal::encode(
        1,
        &Entry::change_payload(&Change::Message(message())),
        &mut frame,
    )
    .unwrap();
    let file = Arc::new(
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("group.floor"))
            .unwrap(),
    );
    let frame: Arc<[u8]> = frame.into();
    group.bench_function("floor_group_commit_64", |b| {
        b.iter_custom(|iterations| {
            let (file, frame) = (Arc::clone(&file), Arc::clone(&frame));
            drive(runtime, async move {
                let written = Arc::new(AtomicU64::new(0));
                let synced = Arc::new(tokio::sync::Mutex::new(0u64));
                let each = iterations.div_ceil(WRITERS as u64);
                let start = Instant::now();
                let writers: Vec<_> = (0..WRITERS)
                    .map(|_| {
                        let (file, frame) = (Arc::clone(&file), Arc::clone(&frame));
                        let (written, synced) = (Arc::clone(&written), Arc::clone(&synced));
                        tokio::spawn(async move {
                            for _ in 0..each {
                                (&*file).write_all(&frame).unwrap();
                                let ticket = written.fetch_add(1, Ordering::AcqRel) + 1;
                                let mut done = synced.lock().await;
                                if *done < ticket {
                                    let upto = written.load(Ordering::Acquire);
                                    let file = Arc::clone(&file);
                                    tokio::task::spawn_blocking(move || file.sync_data().unwrap())
                                        .await
                                        .unwrap();
                                    *done = upto;
                                }
                            }
                        })
                    })
                    .collect();
                for writer in writers {
                    writer.await.unwrap();
                }
                start
                    .elapsed()
                    .mul_f64(iterations as f64 / (each * WRITERS as u64) as f64)
            })
        });
    });
}

fn journal(c: &mut Criterion) {
    let runtime = runtime();
    let (os_dir, sync_dir, floor_dir) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let projects = [
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    ];
    let (_memory, in_memory) = state(&runtime, projects[0].path(), None);
    let (_os, os) = state(
        &runtime,
        projects[1].path(),
        Some((Persistence::in_dir(os_dir.path()).unwrap(), Durability::Os)),
    );
    let (_sync, sync) = state(
        &runtime,
        projects[2].path(),
        Some((
            Persistence::in_dir(sync_dir.path()).unwrap(),
            Durability::Sync,
        )),
    );

    let mut group = c.benchmark_group("journal");
    group
        .throughput(Throughput::Elements(1))
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .sample_size(40);
    bench_state(&mut group, &runtime, "memory", &in_memory);
    bench_state(&mut group, &runtime, "os", &os);
    bench_floor(&mut group, "floor_write", floor_dir.path(), false);
    bench_state(&mut group, &runtime, "sync", &sync);
    bench_floor(&mut group, "floor_fdatasync", floor_dir.path(), true);
    group.sample_size(10);
    bench_sync_64(&mut group, &runtime);
    bench_floor_group_commit(&mut group, &runtime, floor_dir.path());
    bench_replay(&mut group, &runtime);
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().nresamples(20_000);
    targets = journal
}
criterion_main!(benches);
