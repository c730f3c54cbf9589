//! Where an idle session's heap goes: starts N sessions (default 10,000)
//! with the real supervisor and the default tree under dhat's counting
//! allocator, prints the live heap per session (bytes and blocks), and
//! writes `dhat-heap.json` with the live bytes of every allocation site at
//! that moment (the profile ends while the sessions run).
//!
//! ```text
//! cargo run --release -p jido-bench --example heap_profile -- 10000 ours
//! python3 jido-bench/examples/heap_sites.py dhat-heap.json 10000
//! ```
//!
//! The second argument, `floor`, profiles the raw-tokio floor instead.

use jido_bench::fixtures::Projects;
use jido_bench::runtime::{drive, runtime};
use jido_bench::{Contender, Floor, Ours};
use jido_session::Session;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

async fn start_all<C: Contender>(contender: C, sessions: Vec<Session>) -> Vec<C::Running> {
    let mut running = Vec::with_capacity(sessions.len());
    for session in sessions {
        running.push(contender.start(session).await);
    }
    running
}

fn report(label: &str, before: dhat::HeapStats, after: dhat::HeapStats, n: usize) {
    let bytes = after.curr_bytes as f64 - before.curr_bytes as f64;
    let blocks = after.curr_blocks as f64 - before.curr_blocks as f64;
    println!(
        "{label}: {:.0} B in {:.1} blocks of live heap per session ({n} sessions)",
        bytes / n as f64,
        blocks / n as f64
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let contender = args.next().unwrap_or_else(|| "ours".into());
    let projects = Projects::flat(n);
    let sessions: Vec<Session> = projects.sessions().to_vec();
    let runtime = runtime();
    let profiler = dhat::Profiler::new_heap();
    // The sessions are built before the baseline: what is counted is what
    // starting them adds (the `Session`s move into the registry).
    let before = dhat::HeapStats::get();
    match contender.as_str() {
        "ours" => {
            let ours = Ours::new(n);
            let running = drive(&runtime, start_all(ours.clone(), sessions));
            report("ours", before, dhat::HeapStats::get(), n);
            drop(profiler);
            drop(running);
            drive(&runtime, async move { ours.supervisor().shutdown().await });
        }
        "floor" => {
            let floor = Floor::new();
            let running = drive(&runtime, start_all(floor.clone(), sessions));
            report("floor", before, dhat::HeapStats::get(), n);
            drop(profiler);
            drive(&runtime, async move {
                for tree in running {
                    floor.stop(tree).await;
                }
            });
        }
        other => panic!("unknown contender {other:?}: ours or floor"),
    }
}
