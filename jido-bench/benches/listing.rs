//! Listing and cleaning up many saved sessions (issue 24): a store of
//! 100,000 snapshots (`JIDO_LISTING_SNAPSHOTS` for another size), side by
//! side in one run:
//!
//! - `listing/page`: a page of 50 (`Persistence::list_page`), the catalog
//!   warm (listed before): one read of the directory;
//! - `listing/page_first_from_cache`: the first page of a store opened
//!   afresh (`Persistence::in_dir`), its catalog read from the cache file
//!   and checked against the files — what a program's first listing costs;
//! - `listing/page_reading_every_snapshot`: the baseline, what every
//!   listing cost before the catalog (and still costs a store without
//!   stamps): every snapshot read and decoded;
//! - `listing/cleanup_1000`, `listing/cleanup_none`: a cleanup that deletes
//!   1,000 old sessions among the 100,000, and one that deletes none: the
//!   difference is what the deletions cost.
//!
//! ```text
//! cargo bench -p jido-bench --bench listing
//! ```

use std::path::Path;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use jido_bench::runtime::runtime;
use jido_session::{Conversation, Message, Role, Session, SessionId};
use jido_store::{FileStore, Persistence, Snapshot};

/// Writes `count` snapshots of sessions on `project`, closed one second
/// apart from `newest` back, straight to files (no flush: a fixture).
fn write_snapshots(
    dir: &Path,
    project: &Path,
    count: usize,
    newest: chrono::DateTime<chrono::Utc>,
) {
    let session = Session::new(project).expect("a project");
    let mut conversation = Conversation::default();
    conversation.push_message(Message::new(Role::User, "fix the parser"));
    for n in 0..count {
        let mut record = session.to_record();
        record.id = SessionId::new();
        let closed_at = newest - chrono::Duration::seconds(n as i64);
        let snapshot = Snapshot::new(record, conversation.clone(), closed_at, None);
        let body = serde_json::to_string(&snapshot).expect("a snapshot encodes");
        let envelope = format!(
            r#"{{"format":"jido-session-snapshot","version":1,"signature":null,"snapshot":{body}}}"#
        );
        std::fs::write(dir.join(format!("{}.json", snapshot.id())), envelope).expect("write");
    }
}

fn listing(c: &mut Criterion) {
    // `cargo test --benches` runs each target once, without `--bench`: a
    // small store then, as a smoke test.
    let benchmarking = std::env::args().any(|arg| arg == "--bench");
    let count: usize = std::env::var("JIDO_LISTING_SNAPSHOTS")
        .ok()
        .and_then(|count| count.parse().ok())
        .unwrap_or(if benchmarking { 100_000 } else { 2_000 });
    let runtime = runtime();
    let store = tempfile::tempdir().expect("a store directory");
    let project = tempfile::tempdir().expect("a project");
    let now = chrono::Utc::now();
    write_snapshots(store.path(), project.path(), count, now);
    // A check that the fixture reads back, and the catalog warmed.
    let persistence = Persistence::in_dir(store.path()).expect("open the store");
    let listed = runtime
        .block_on(persistence.list_page(0, 50))
        .expect("list");
    assert_eq!(listed.total, count);
    assert!(listed.unreadable.is_empty());

    let mut group = c.benchmark_group("listing");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("page", |b| {
        b.iter(|| {
            runtime
                .block_on(persistence.list_page(0, 50))
                .expect("list")
        });
    });
    drop(persistence);
    group.bench_function("page_first_from_cache", |b| {
        b.iter(|| {
            let persistence = Persistence::in_dir(store.path()).expect("open the store");
            runtime
                .block_on(persistence.list_page(0, 50))
                .expect("list")
        });
    });
    group.bench_function("page_reading_every_snapshot", |b| {
        b.iter(|| {
            let uncached = Persistence::new(FileStore::new(store.path()).expect("a store"));
            runtime.block_on(uncached.list_page(0, 50)).expect("list")
        });
    });
    let persistence = Persistence::in_dir(store.path()).expect("open the store");
    let old = now - chrono::Duration::days(400);
    let max_age = Duration::from_secs(365 * 86_400);
    group.bench_function("cleanup_1000", |b| {
        b.iter_batched(
            || write_snapshots(store.path(), project.path(), 1_000, old),
            |()| {
                let report = runtime
                    .block_on(persistence.cleanup(max_age))
                    .expect("clean up");
                assert_eq!(report.deleted.len(), 1_000);
                report
            },
            BatchSize::PerIteration,
        );
    });
    group.bench_function("cleanup_none", |b| {
        b.iter(|| {
            let report = runtime
                .block_on(persistence.cleanup(max_age))
                .expect("clean up");
            assert!(report.deleted.is_empty());
            report
        });
    });
    group.finish();
}

criterion_group!(benches, listing);
criterion_main!(benches);
