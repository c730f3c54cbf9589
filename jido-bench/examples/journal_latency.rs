//! The latency distribution of an acknowledged change, with and without the
//! journal: what criterion's means do not show (issue 20's target is on the
//! p99 of the added cost).
//!
//! ```text
//! cargo run --release -p jido-bench --example journal_latency -- 100000
//! ```
//!
//! Two sessions — one in memory, one journaled at the default durability —
//! take turns, 1,000 appends at a time, so that both see the same machine;
//! each `append_message` of a 200-byte message is timed alone. Prints the
//! percentiles of each and of the difference.

use std::time::{Duration, Instant};

use jido_supervisor::{Message, Persistence, Role, SessionSupervisor, StateRef};

async fn state(supervisor: &SessionSupervisor, project: &std::path::Path) -> StateRef {
    let id = supervisor.create_session(project).await.unwrap().id();
    supervisor.state(id).unwrap()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let total: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let (store, a, b) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let memory = SessionSupervisor::new();
    let journaled = SessionSupervisor::builder()
        .persistence(Persistence::in_dir(store.path()).unwrap())
        .build();
    let (in_memory, on_disk) = (
        state(&memory, a.path()).await,
        state(&journaled, b.path()).await,
    );
    let message = Message::new(Role::User, "x".repeat(200));
    let (mut times_memory, mut times_journal) = (Vec::new(), Vec::new());
    while times_memory.len() < total {
        for (state, times) in [
            (&in_memory, &mut times_memory),
            (&on_disk, &mut times_journal),
        ] {
            for _ in 0..1_000 {
                let start = Instant::now();
                state.append_message(message.clone()).await.unwrap();
                times.push(start.elapsed());
            }
        }
    }
    times_memory.sort();
    times_journal.sort();
    println!("{total} appends each (µs):   p50     p99     p99.9");
    for (name, times) in [("memory", &times_memory), ("journaled", &times_journal)] {
        println!(
            "  {name:<10} {:>8.2} {:>8.2} {:>8.2}",
            percentile(times, 0.50).as_secs_f64() * 1e6,
            percentile(times, 0.99).as_secs_f64() * 1e6,
            percentile(times, 0.999).as_secs_f64() * 1e6,
        );
    }
    let added = percentile(&times_journal, 0.99).saturating_sub(percentile(&times_memory, 0.99));
    println!(
        "  added at p99: {:.2} µs (target ≤ 20 µs)",
        added.as_secs_f64() * 1e6
    );
}
