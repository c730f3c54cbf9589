//! The one runtime every contender runs on, and how a workload is driven.

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::Runtime;

/// How many worker threads the benchmark runtime has (the machine's cores).
pub const WORKERS: usize = 2;

/// A tokio multi-thread runtime with [`WORKERS`] workers, timers and I/O
/// enabled. Every contender is measured on a runtime built here.
///
/// # Panics
///
/// If the runtime cannot be built (no threads available).
pub fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()
        .expect("build the tokio runtime")
}

/// How [`drive`] runs a workload, chosen by the environment variable
/// `JIDO_BENCH_DRIVER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    /// `JIDO_BENCH_DRIVER=task` (the default): the workload is spawned as a
    /// task on the runtime's workers, like the application code that would
    /// call the supervisor; tasks it spawns start on its worker.
    Task,
    /// `JIDO_BENCH_DRIVER=block_on`: the workload runs in `block_on` on the
    /// calling (bench) thread, a third thread next to the two workers, as
    /// criterion's `to_async` would run it; every task it spawns is handed
    /// to a worker, and every wake-up crosses threads.
    BlockOn,
}

impl Driver {
    /// The driver `JIDO_BENCH_DRIVER` selects (read once).
    ///
    /// # Panics
    ///
    /// If `JIDO_BENCH_DRIVER` is set to anything but `task` or `block_on`.
    pub fn from_env() -> Driver {
        static DRIVER: OnceLock<Driver> = OnceLock::new();
        *DRIVER.get_or_init(|| match std::env::var("JIDO_BENCH_DRIVER").as_deref() {
            Err(_) | Ok("task") => Driver::Task,
            Ok("block_on") => Driver::BlockOn,
            Ok(other) => panic!("JIDO_BENCH_DRIVER must be task or block_on, not {other}"),
        })
    }
}

impl Driver {
    /// Both drivers, the default first.
    pub const ALL: [Driver; 2] = [Driver::Task, Driver::BlockOn];

    /// What the bench targets append to a group's name for results measured
    /// with this driver: nothing for the default, `_block_on` otherwise.
    pub fn suffix(self) -> &'static str {
        match self {
            Driver::Task => "",
            Driver::BlockOn => "_block_on",
        }
    }

    /// The value of `JIDO_BENCH_DRIVER` that selects this driver.
    pub fn name(self) -> &'static str {
        match self {
            Driver::Task => "task",
            Driver::BlockOn => "block_on",
        }
    }
}

/// Runs `work` on `runtime` as [`Driver::from_env`] says, and returns its
/// output. Every contender is driven the same way.
///
/// Workloads time themselves inside `work`, so the hand-over to the runtime
/// and back is not measured.
///
/// # Panics
///
/// If `work` panics.
pub fn drive<F>(runtime: &Runtime, work: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match Driver::from_env() {
        Driver::BlockOn => runtime.block_on(work),
        Driver::Task => match runtime.block_on(runtime.spawn(work)) {
            Ok(output) => output,
            Err(error) => std::panic::resume_unwind(error.into_panic()),
        },
    }
}
