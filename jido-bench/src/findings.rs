//! Where the time and the memory of a session go (issue 13's first step:
//! find the cost before changing anything). Measured on the 2-core VM on
//! 2026-11-25, after the open tree, the session contents and the cluster
//! backend landed; no backend configured (the embedded default).
//!
//! # Memory of an idle session
//!
//! Live heap per running session, counted by dhat's allocator (exact, not
//! RSS), 10,000 sessions started one after the other:
//!
//! ```text
//! cargo run --release -p jido-bench --example heap_profile -- 10000 ours
//! python3 jido-bench/examples/heap_sites.py dhat-heap.json 10000 2
//! cargo run --release -p jido-bench --example heap_profile -- 10000 floor
//! ```
//!
//! | what | ours |
//! |---|---|
//! | live heap per session | **3,634 B** in 20 blocks (floor: **1,083 B** in 7); 3,607 B once the slot's cluster claim was boxed (3,594 B before the cluster backend) |
//! | tokio task cells (future + header) | 1,792 B: supervisor 640, Manager + State 1,152 (floor: 640 B for its three tasks) |
//! | the tree's shared state (`Shared`, children `Vec`, `SessionContext`) | 360 + 96 B |
//! | pids (`PidInner`: state mutex, hooks, `Notify`, abort handle) | 3 × 168 B |
//! | worker addresses and their mailboxes (`Addr`, channel) | 272 B |
//! | the supervisor's registry (index entries, hash tables) | 513 B (floor: 67 B, one map) |
//! | monitors (hooks beyond the inline ones) | 72 B |
//!
//! RSS per idle session (`JIDO_SCALE_SESSIONS=100000 cargo bench -p
//! jido-bench --bench scale`) was 4,015 B against the floor's 1,485 B; the
//! difference from the live heap is the allocator's rounding and free
//! lists, in about the same proportion for both.
//!
//! Findings:
//! - **Half of it is task cells.** A tokio task cell is aligned to 128 B
//!   and holds the whole future; ours hold the loop of a worker (its state,
//!   its context, a `select!` over the stop signal and the mailbox) or of a
//!   supervisor, 512–640 B each, where the floor's tasks are ~213 B. The
//!   2,048 B target cannot be reached with three tasks of this size: it
//!   needs fewer tasks per idle session (a tree whose supervisor runs only
//!   when a child ends or a command comes, driven by monitors; workers
//!   whose idle state is only the mailbox) — a change of `jido-process`'s
//!   supervisor runtime, not a tuning.
//! - Three `PidInner`s (168 B each) and the three-table registry index
//!   (~500 B with hash-table slack) come next; each could shrink (a pid's
//!   `Notify` and state in one smaller allocation; one table keyed by id
//!   with the project and name tables holding ids only), a few hundred
//!   bytes in all.
//!
//! # Time of a start + stop
//!
//! Instructions per start + stop (valgrind's callgrind, deterministic), the
//! difference between 3,000 and 1,000 cycles of
//! `jido-bench/examples/instructions.rs`, by inclusive cost:
//!
//! ```text
//! valgrind --tool=callgrind --callgrind-out-file=cg1 target/release/examples/instructions ours 1000
//! valgrind --tool=callgrind --callgrind-out-file=cg3 target/release/examples/instructions ours 3000
//! callgrind_annotate --inclusive=yes cg3   # and cg1; subtract, divide by 2,000
//! ```
//!
//! | where | instructions per cycle |
//! |---|---|
//! | all (floor: 12.3k) | 29.7k |
//! | starting the tree (`SessionSup::start`) | 11.0k |
//! | — spawning its three tasks (`tokio::spawn`) | 4.7k, of which `posix_memalign` 1.9k |
//! | terminating the tree (`terminate_all`) | 5.9k |
//! | copying futures (`memcpy`) | 3.2k |
//! | malloc + free (all) | ~6k |
//! | waking through `Notify` (stop requested, exits) | ~3.5k |
//! | the registry (register, remove, indexes) | ~3k |
//!
//! Findings:
//! - The same three task spawns the floor pays are there (each cell is a
//!   128-byte-aligned allocation, glibc's slow `memalign` path); the rest
//!   is ours: the futures are large, so every spawn copies ~500 B
//!   (`memcpy` 3.2k), and a stop wakes each process through a `Notify`,
//!   then delivers its monitors and wakes its waiters through another.
//! - Smaller task futures pay twice: less memory, less copying.
//!
//! # Growth with the number of sessions
//!
//! Not re-measured in this step. The last full run (`cargo bench -p
//! jido-bench`, README) measured start p50/mean flat to 1M open (1.16×,
//! target 1.3×); the issue's 3.8× came before the one-lock registry of
//! issues 8/9. The registry's hash tables take ~320 B per session (the
//! `reserve_rehash` sites; up to half of it empty right after a doubling),
//! and they are resized under the write lock: the one cost above that
//! grows with the number of sessions.
