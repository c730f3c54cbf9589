//! The session registry in memory (the embedded default) vs on PostgreSQL
//! (`jido-cluster`'s `PgNode`), in one run, on a throwaway server this
//! bench starts (`initdb` + `pg_ctl` in a temp dir, fsync off; loopback).
//!
//! - `cluster_start_stop/{memory,postgres}`: `start_session` + `stop_session`
//!   of one session with the default tree, sequentially; with PostgreSQL
//!   each start is a claim and each stop a release (one call of
//!   `jido_admit` each, when nothing else queues).
//! - `cluster_locate/{memory,postgres}`: "which node runs session X"
//!   (`SessionSupervisor::locate`) with 64 sessions open: a registry read in
//!   memory, a read of the node's copy of the claims with PostgreSQL.
//! - `cluster_local_lookup/postgres`: `registry().lookup(id)` on a node with
//!   the PostgreSQL backend — local lookups never touch the database.
//!
//! Prints the ratios at the end. Without the PostgreSQL binaries it says so
//! and measures nothing.
//!
//! ```text
//! cargo bench -p jido-bench --bench cluster
//! ```

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use jido_bench::fixtures::Projects;
use jido_bench::results::estimate;
use jido_bench::runtime::{drive, runtime};
use jido_bench::workloads::sequential;
use jido_bench::{Contender, Ours};
use jido_cluster::{ClusterConfig, PgNode};
use jido_session::{Session, SessionId};
use jido_supervisor::SessionSupervisor;
use jido_testkit::TempPostgres;

const OPEN: usize = 64;

fn main() {
    let Some(server) = TempPostgres::start_or_skip("the cluster bench") else {
        return;
    };
    let runtime = runtime();
    let node = runtime
        .block_on(PgNode::connect(ClusterConfig::new(server.url())))
        .unwrap_or_else(|error| panic!("connecting to the bench's server: {error}"));
    let memory = Ours::new(1024);
    let postgres = Ours::with_supervisor(
        SessionSupervisor::builder()
            .backend(node)
            .max_sessions(1024)
            .build(),
    );
    let projects = Projects::flat(16 + OPEN);
    let all = projects.sessions();
    let cycled: Arc<[Session]> = all[..16].to_vec().into();
    let open: Vec<Session> = all[16..].to_vec();

    let mut c = Criterion::default().configure_from_args();
    {
        let mut group = c.benchmark_group("cluster_start_stop");
        group
            .throughput(Throughput::Elements(1))
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(4))
            .sample_size(30);
        for (name, contender) in [("memory", &memory), ("postgres", &postgres)] {
            group.bench_function(name, |b| {
                b.iter_custom(|iterations| {
                    drive(
                        &runtime,
                        sequential(contender.clone(), Arc::clone(&cycled), iterations),
                    )
                });
            });
        }
        group.finish();
    }

    // 64 sessions open on each, then lookups.
    let ids: Vec<SessionId> = open.iter().map(Session::id).collect();
    for contender in [&memory, &postgres] {
        let contender = contender.clone();
        let open = open.clone();
        drive(&runtime, async move {
            for session in open {
                contender.start(session).await;
            }
        });
    }
    {
        let mut group = c.benchmark_group("cluster_locate");
        group
            .throughput(Throughput::Elements(1))
            .measurement_time(Duration::from_secs(3))
            .sample_size(30);
        for (name, contender) in [("memory", &memory), ("postgres", &postgres)] {
            let supervisor = contender.supervisor().clone();
            let ids = ids.clone();
            group.bench_function(name, |b| {
                b.iter_custom(|iterations| {
                    let supervisor = supervisor.clone();
                    let ids = ids.clone();
                    drive(&runtime, async move {
                        let started = Instant::now();
                        for i in 0..iterations {
                            let id = ids[i as usize % ids.len()];
                            black_box(supervisor.locate(id).await.ok().flatten());
                        }
                        started.elapsed()
                    })
                });
            });
        }
        group.finish();
    }
    {
        let mut group = c.benchmark_group("cluster_local_lookup");
        group.throughput(Throughput::Elements(1)).sample_size(30);
        let supervisor = postgres.supervisor().clone();
        let mut i = 0;
        group.bench_function("postgres", |b| {
            b.iter(|| {
                i += 1;
                black_box(supervisor.registry().lookup(ids[i % ids.len()]))
            });
        });
        group.finish();
    }
    c.final_summary();

    let ratio = |group: &str| -> Option<(f64, f64)> {
        Some((
            estimate(group, "memory")?.nanos,
            estimate(group, "postgres")?.nanos,
        ))
    };
    println!("\ncluster summary (same run):");
    for group in ["cluster_start_stop", "cluster_locate"] {
        if let Some((memory, postgres)) = ratio(group) {
            println!(
                "  {group}: memory {:.2} µs, postgres {:.1} µs ({:.0}x)",
                memory / 1e3,
                postgres / 1e3,
                postgres / memory
            );
        }
    }
    if let Some(local) = estimate("cluster_local_lookup", "postgres") {
        println!("  local lookup on a postgres node: {:.0} ns", local.nanos);
    }
}
