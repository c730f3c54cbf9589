//! Cluster admission on PostgreSQL (issue 22, item 3), on a throwaway
//! server this bench starts (`initdb` + `pg_ctl` in a temp dir, fsync off;
//! loopback), three nodes (`PgNode` + `SessionSupervisor` each) in this
//! process, all on one 2-core machine with the server.
//!
//! - **Round trip**: one `start_session` + `stop_session` on node 0, one
//!   after another, against one prepared `SELECT 1` on a plain connection
//!   to the same server: blocks of each in turn (A B A B …), the median
//!   ratio and its spread reported. Beside it, a count that does not drift
//!   with the clock: the server's write transactions per start + stop (the
//!   transaction ids handed out; the nodes' lease renewals included, a few
//!   per second).
//! - **Throughput**: 1, 4, 16 and 64 concurrent starters on each of the 3
//!   nodes, each starting and stopping its own session in a loop; starts +
//!   stops per second for the whole cluster, every count measured
//!   `JIDO_ADMISSION_ROUNDS` times (default 3) in turn, the median kept.
//! - **locate**: a session placed on another node, from a node's copy of
//!   the claims (`locate`) and from the database (`locate_fresh`).
//!
//! ```text
//! cargo bench -p jido-bench --bench admission
//! ```
//!
//! Without the PostgreSQL binaries it says so and measures nothing.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use jido_bench::fixtures::Projects;
use jido_bench::numbers::{median, spread};
use jido_bench::runtime::{drive, runtime};
use jido_bench::{Contender, Ours};
use jido_cluster::{ClusterConfig, PgNode};
use jido_registry::RegistryBackend;
use jido_session::Session;
use jido_supervisor::SessionSupervisor;
use jido_testkit::TempPostgres;

const NODES: usize = 3;
const STARTERS: [usize; 4] = [1, 4, 16, 64];
/// Starts + stops per throughput measurement, across the cluster.
const PER_MEASUREMENT: usize = 6_144;

fn main() {
    let Some(server) = TempPostgres::start_or_skip("the admission bench") else {
        return;
    };
    let rounds: usize = std::env::var("JIDO_ADMISSION_ROUNDS")
        .ok()
        .and_then(|rounds| rounds.parse().ok())
        .unwrap_or(3);
    let runtime = runtime();
    let url = server.url();
    let (nodes, contenders, admin) = drive(&runtime, async move {
        let mut nodes = Vec::new();
        let mut contenders = Vec::new();
        for _ in 0..NODES {
            let node = PgNode::connect(ClusterConfig::new(url.clone()).pool_size(8))
                .await
                .unwrap_or_else(|error| panic!("connecting to the bench's server: {error}"));
            contenders.push(Ours::with_supervisor(
                SessionSupervisor::builder()
                    .backend(node.clone())
                    .max_sessions(4_096)
                    .build(),
            ));
            nodes.push(node);
        }
        let (admin, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|error| panic!("connecting to the bench's server: {error}"));
        tokio::spawn(connection);
        (nodes, contenders, Arc::new(admin))
    });
    let projects = Projects::flat(NODES * 64 + 1);
    let sessions: Arc<[Session]> = projects.sessions().to_vec().into();

    // Round trip: interleaved blocks.
    let block = 400;
    let mut ratios = Vec::new();
    let mut select_us = Vec::new();
    let mut start_stop_us = Vec::new();
    for _ in 0..15 {
        let admin = Arc::clone(&admin);
        let select = drive(&runtime, async move {
            let statement = admin.prepare("SELECT 1").await.expect("prepare SELECT 1");
            let started = Instant::now();
            for _ in 0..block {
                black_box(admin.query_one(&statement, &[]).await.expect("SELECT 1"));
            }
            started.elapsed()
        });
        let contender = contenders[0].clone();
        let session = sessions[0].clone();
        let cycle = drive(&runtime, async move {
            let started = Instant::now();
            for _ in 0..block {
                let running = contender.start(session.clone()).await;
                contender.stop(running).await;
            }
            started.elapsed()
        });
        let select = select.as_secs_f64() * 1e6 / f64::from(block);
        let cycle = cycle.as_secs_f64() * 1e6 / f64::from(block);
        select_us.push(select);
        start_stop_us.push(cycle);
        ratios.push(cycle / select);
    }
    // Write transactions per start + stop: the transaction ids the server
    // handed out meanwhile (a read-only transaction takes none; the nodes'
    // lease renewals, a few per second, are counted too).
    let writes = {
        let admin = Arc::clone(&admin);
        let contender = contenders[0].clone();
        let session = sessions[0].clone();
        drive(&runtime, async move {
            let next_xid = || async {
                let row = admin
                    .query_one("SELECT pg_snapshot_xmax(pg_current_snapshot())::text", &[])
                    .await
                    .expect("read the next transaction id");
                row.get::<_, String>(0).parse::<u64>().unwrap_or(0)
            };
            let before = next_xid().await;
            let n = 2_000;
            for _ in 0..n {
                let running = contender.start(session.clone()).await;
                contender.stop(running).await;
            }
            (next_xid().await - before) as f64 / f64::from(n)
        })
    };

    // Throughput: each count of starters in turn, `rounds` times.
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); STARTERS.len()];
    for _ in 0..rounds {
        for (slot, &starters) in STARTERS.iter().enumerate() {
            let per_starter = (PER_MEASUREMENT / (NODES * starters)).max(8);
            let contenders = contenders.clone();
            let sessions = Arc::clone(&sessions);
            let elapsed = drive(&runtime, async move {
                let started = Instant::now();
                let mut tasks = Vec::new();
                for (n, contender) in contenders.iter().enumerate() {
                    for s in 0..starters {
                        let contender = contender.clone();
                        let session = sessions[n * 64 + s].clone();
                        tasks.push(tokio::spawn(async move {
                            for _ in 0..per_starter {
                                let running = contender.start(session.clone()).await;
                                contender.stop(running).await;
                            }
                        }));
                    }
                }
                for task in tasks {
                    task.await.expect("a starter failed");
                }
                started.elapsed()
            });
            let total = (NODES * starters * per_starter) as f64;
            rates[slot].push(total / elapsed.as_secs_f64());
        }
    }

    // locate: a session on node 1, asked on node 0.
    let (cached_ns, fresh_us) = {
        let contenders = contenders.clone();
        let nodes = nodes.clone();
        let session = sessions[NODES * 64].clone();
        drive(&runtime, async move {
            let id = contenders[1].start(session).await;
            nodes[0]
                .sync_placements()
                .await
                .expect("sync the placements");
            assert!(nodes[0].locate(id).await.expect("locate").is_some());
            let n = 200_000;
            let started = Instant::now();
            for _ in 0..n {
                black_box(nodes[0].locate(black_box(id)).await.expect("locate"));
            }
            let cached = started.elapsed().as_secs_f64() * 1e9 / f64::from(n);
            let n = 1_000;
            let started = Instant::now();
            for _ in 0..n {
                black_box(nodes[0].locate_fresh(id).await.expect("locate_fresh"));
            }
            let fresh = started.elapsed().as_secs_f64() * 1e6 / f64::from(n);
            contenders[1].stop(id).await;
            (cached, fresh)
        })
    };

    let (low, high) = spread(&ratios);
    println!("admission summary (same run, {NODES} nodes, loopback, fsync off):");
    println!(
        "  round trip: SELECT 1 {:.1} µs, start+stop {:.1} µs (medians of 15 interleaved blocks of {block}); \
         start+stop / SELECT 1 = {:.2}x median (spread {low:.2}–{high:.2}); target ≤ 2x: {}",
        median(&mut select_us),
        median(&mut start_stop_us),
        median(&mut ratios.clone()),
        if median(&mut ratios) <= 2.0 {
            "met"
        } else {
            "missed"
        }
    );
    println!("  write transactions per start+stop: {writes:.2}");
    for (slot, starters) in STARTERS.iter().enumerate() {
        let (low, high) = spread(&rates[slot]);
        let rate = median(&mut rates[slot]);
        println!(
            "  {starters:>2} starters per node: {rate:>8.0} starts+stops/s (spread {low:.0}–{high:.0}){}",
            if *starters == 64 {
                if rate >= 10_000.0 {
                    "; target ≥ 10,000: met"
                } else {
                    "; target ≥ 10,000: missed"
                }
            } else {
                ""
            }
        );
    }
    println!(
        "  locate from the copy: {cached_ns:.0} ns (target ≤ 1 µs: {}); from the database: {fresh_us:.1} µs",
        if cached_ns <= 1_000.0 {
            "met"
        } else {
            "missed"
        }
    );
    drop(nodes);
}
