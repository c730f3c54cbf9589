//! A fixed start+stop loop to count instructions with valgrind, which
//! counts the same work the same way however noisy the machine is:
//!
//! ```text
//! cargo build --release -p jido-bench --example instructions
//! for n in 1000 2000; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/instructions ours $n 2>&1 | grep refs
//! done
//! ```
//!
//! Arguments: the contender (`ours`, `floor`, `ractor` or `kameo`) and the number of
//! start+stop cycles, run sequentially on the benchmark runtime. Setup
//! (runtime, directories, sessions) costs the same for every count, so the
//! instructions per start+stop are the difference between two counts
//! divided by the difference in cycles.
//!
//! What the supervisor's metrics cost with no recorder installed: build it
//! twice, without and with `--features metrics`, and count both (copy the
//! first binary aside before the second build); `callgrind_annotate` puts
//! the difference in `Events::emit`.

use std::sync::Arc;

use jido_bench::fixtures::Projects;
use jido_bench::runtime::{drive, runtime};
use jido_bench::workloads::sequential;
use jido_bench::{Floor, KameoSessions, Ours, RactorSessions};
use jido_session::Session;

fn main() {
    let mut args = std::env::args().skip(1);
    let contender = args.next().unwrap_or_else(|| "ours".into());
    let cycles: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(1000);
    let projects = Projects::flat(16);
    let sessions: Arc<[Session]> = projects.sessions().to_vec().into();
    let runtime = runtime();
    let elapsed = match contender.as_str() {
        "ours" => drive(&runtime, sequential(Ours::new(16), sessions, cycles)),
        "floor" => drive(&runtime, sequential(Floor::new(), sessions, cycles)),
        "ractor" => drive(&runtime, sequential(RactorSessions, sessions, cycles)),
        "kameo" => drive(&runtime, sequential(KameoSessions, sessions, cycles)),
        other => panic!("unknown contender {other:?}: ours, floor, ractor or kameo"),
    };
    println!("{contender}: {cycles} start+stop in {elapsed:?}");
}
