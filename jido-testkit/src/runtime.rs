//! [`multi_thread_runtime`]: the runtime property tests run their
//! interleavings on.

use std::io;

use tokio::runtime::{Builder, Runtime};

/// A multi-thread tokio runtime with `workers` worker threads and every
/// driver (time, I/O) enabled: where the property tests run their
/// interleavings, so that tasks really run side by side.
///
/// ```
/// let runtime = jido_testkit::multi_thread_runtime(2).unwrap();
/// assert_eq!(runtime.block_on(async { 1 + 1 }), 2);
/// assert!(jido_testkit::multi_thread_runtime(0).is_err());
/// ```
///
/// # Errors
///
/// [`io::ErrorKind::InvalidInput`] for zero workers; otherwise as
/// [`Builder::build`], when the threads or drivers cannot be made.
pub fn multi_thread_runtime(workers: usize) -> io::Result<Runtime> {
    if workers == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a multi-thread runtime needs at least one worker",
        ));
    }
    Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
}
