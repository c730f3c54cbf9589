//! Where the time and the memory of a session go (issue 13's first step:
//! find the cost before changing anything), then what was changed and what
//! it bought ([What changed](#what-changed)). Measured on the 2-core VM on
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
//!
//! # What changed
//!
//! Each step measured with the same two deterministic counters as above
//! (dhat's live heap per idle session with 10,000 open; callgrind's
//! instructions per start + stop), in the order the commits landed:
//!
//! | step | live heap per session | instructions per start + stop |
//! |---|---|---|
//! | before (the findings above) | 3,607 B in 20 blocks | 29.7k |
//! | idle tasks in tokio's smallest cells | 2,583 B | 27.2k |
//! | a pid's waiters under its own lock | 2,463 B | 25.1k |
//! | registry tables hold the sessions | 2,346 B in 18 blocks | 24.7k |
//! | … but the project table keyed by a path again | 2,406 B in 19 blocks | 24.7k |
//! | floor | 1,083 B in 7 blocks | 12.3k |
//!
//! - **Idle tasks in tokio's smallest cells.** A task cell is the future
//!   plus ~104 B of header and trailer, rounded up to 128 B; ours were 640
//!   and 576 B. Four things made the futures large, each removed: the
//!   mailbox waited through a tokio `Notify` (a 64-byte waiter inside every
//!   waiting future; now the mailbox keeps its one receiver's waker, and a
//!   waiting `recv` is a borrow); the stop request was a second `Notify`
//!   waiter beside it (now a waker slot in the pid, polled with the mailbox
//!   in one `poll_fn`); the loops were `async fn`s taking their state by
//!   value, which rustc stores twice (the argument and the local it moves
//!   into; now an `async move` block owns the state and calls a `&mut self`
//!   loop); and the futures kept room for the largest thing they do when
//!   busy (now what a supervisor or a worker does with a message is a boxed
//!   future: one small allocation per message). The spawn wrapper's exit
//!   guard went from 32 B to 8. Result: three 256-byte cells, 768 B (the
//!   floor's three take 640 B); a unit test keeps a worker with 64 B of
//!   state, whatever its handler, within the 256-byte cell.
//! - **A pid's waiters under its own lock.** `Pid::wait` and
//!   `Pid::stop_requested` waited through a `Notify` (its poll, its drop and
//!   `notify_waiters` were ~2.5k instructions per cycle); now each waiting
//!   future keeps a waker in an inline slot under the pid's mutex, removed
//!   when it is dropped. The rarely used fields (an exit reason asked for, a
//!   stop term) went into one box, one monitor lives inline instead of two,
//!   and the task's abort handle is dropped when the process ends (it kept
//!   the finished task's cell alive for as long as any clone of the pid).
//!   `PidInner`: 168 → 128 B.
//! - **Registry tables hold the sessions.** The project and name tables
//!   copied the path and the name as their keys (two allocations per
//!   session); as `hashbrown::HashTable`s of the sessions themselves,
//!   hashed by path and name, they need neither. Kept for names (a lookup
//!   by name is now one hash lookup instead of two); undone for projects: a
//!   lookup by project, which the issue says must not slow down, compares
//!   through the session (one dependent load more) and measured ~10 %
//!   slower (`cargo bench -p jido-bench --bench lookups -- lookups_1t`,
//!   26.6 ns against 24.1 ns for the code before, back to back).
//! - **Tried and reverted**: giving a stopped child one scheduler turn
//!   (a yield) before arming its shutdown timer. The timer was gone from the
//!   profile, but the total rose (25.1k → 25.5k): the extra turn re-polls
//!   the supervisor's whole chain of futures.
//!
//! # What is left
//!
//! Where an idle session's 2,406 B go now (dhat, as above), against the
//! floor's 1,083 B:
//!
//! | what | ours | floor |
//! |---|---|---|
//! | task cells | 768 B (three) | 640 B (three) |
//! | pids (`PidInner`) | 432 B (three) | — |
//! | the tree's shared state, its children's slots, `SessionContext` | 352 B | — |
//! | mailboxes (supervisor + two workers) | 264 B | oneshots |
//! | the `Session` in its `Arc`, the registry's three tables, the path's copy | 430 B | ~230 B (the `Arc<Session>`, one map) |
//! | worker addresses kept for child references, monitors | 136 B | — |
//!
//! Nothing in it grows with the number of sessions but the hash tables'
//! slack. Reaching 2,048 B of RSS (about 1,700 B of live heap, since the
//! `Session` itself is counted there too) needs structural changes rather
//! than trimming: a session tree whose supervisor has no task and no pid of
//! its own while idle (its children's monitors would spawn it when one
//! ends: −400 B), and children's addresses that are their mailboxes rather
//! than a separate allocation (−64 B). In time, the floor's three spawns
//! cost the same for us (`posix_memalign` for the 128-byte-aligned cells is
//! ~1.8k instructions of them); the rest of the 2× is malloc/free of the
//! tree's pieces, the supervisor terminating its children one by one (a
//! shutdown timer each), and the registry.
//!
//! # A call's round trip (issue 23, 2026-12-03)
//!
//! `cargo bench -p jido-bench --bench calls`: one caller, one process
//! answering, 15 interleaved rounds of 20,000 calls, medians of the ratio
//! to a raw tokio `mpsc` + `oneshot` call measured in the same round.
//!
//! - **Found**: the 5-second default deadline of `Addr::call` armed a tokio
//!   timer per call, and the timer (registering and clearing it in the
//!   wheel, and the runtime parking with a timer pending) cost more than the
//!   rest of the call: `Addr::call` 2.61× the floor, the same call with no
//!   deadline 1.10×; ractor's `call` 1.77×, kameo's `ask` 2.30×. The box per
//!   message of issue 13 is inside the 1.10×.
//! - **Changed**: a call looks at its answer again after one yield (the
//!   worker just woken runs first on this thread, from tokio's LIFO slot)
//!   before it arms the timer. `Addr::call` 1.32× the floor (912 vs 689 ns),
//!   `ChildRef::call` 1.66× (was 2.98×; the name's lookup in the directory
//!   is the difference), ractor 1.85×, kameo 2.08×, the State's
//!   `append_message` 6.2× (it stores the message and caps the history).
//! - **Changed**: `ChildRef::call` finds a running child without
//!   registering a waiter for the directory's changes (only a child being
//!   restarted needs one), and calls through the directory's entry instead
//!   of a clone of the address (which took the mailbox's lock twice). In
//!   the next run: `Addr::call` 1.41× (850 vs 567 ns), `ChildRef::call`
//!   1.56× (906 ns), with no deadline 1.09×, ractor 1.91×, kameo 2.14×,
//!   `append_message` 5.5×. What is left of the timed call is the yield.
//! - **Changed**: the State's and the Manager's calls (a request carrying
//!   its reply's channel) were a `ChildRef::call` — answered once the
//!   handler returned — and then a wait on that channel: two round trips.
//!   `ChildRef::call_with` sends the request as one message and waits for
//!   the reply only. Next run: `append_message` 4.4× the raw call (3,040
//!   vs 681 ns; was 5.5×), `Addr::call` 1.29×, `ChildRef::call` 1.34×,
//!   ractor 1.87×, kameo 1.62×.
//!
//! # Start + stop, interleaved (issue 23, 2026-12-07)
//!
//! `JIDO_BENCH_ROUNDS=21 JIDO_BENCH_CYCLES=4000 cargo bench -p jido-bench
//! --bench interleaved`: the four contenders in turn in each of 21 rounds;
//! medians of the ratio to the floor of the same round, spread min–max.
//!
//! | | ours | ractor 0.16 | kameo 0.22 |
//! |---|---|---|---|
//! | sequential, µs per session (floor 2.11) | 7.11 | 10.55 | 14.57 |
//! | / floor | 3.35× (3.00–3.88) | 4.91× (4.00–6.32) | 7.18× (5.37–8.15) |
//! | 64 concurrent starters, µs per session (floor 1.06) | 2.99 | 5.76 | 7.54 |
//! | / floor | 2.77× (1.97–3.17) | 5.38× (3.10–6.15) | 6.97× (4.27–7.97) |
//!
//! Instructions per start + stop in the same build (callgrind,
//! `examples/instructions.rs`, 3,000 − 1,000 cycles ÷ 2,000): floor 12.9k,
//! ours 26.9k (2.09×), ractor 62.5k, kameo 78.3k. Against issue 23's
//! targets: ≤ 1.6× the floor interleaved, sequential and concurrent —
//! missed (3.35×, 2.77×); ≤ 1.5× in instructions — missed (2.09×; 24.6k
//! when the issue was filed: about 2k more since, of which the session's
//! span — polling the instrumented start — is ~0.4k; the rest not traced
//! yet); faster than ractor and
//! kameo — met in both workloads. What is left is the structure the
//! sections above describe (three tasks, three pids, a supervisor that
//! terminates its children one by one).
//!
//! Found later: kameo's `wait_for_shutdown` returns once the mailbox
//! closes, before `on_stop` has stopped the children, so the kameo figures
//! above timed a stop that could return with the children alive. With
//! `wait_for_shutdown_result` (the whole tree ended), the next run
//! (`cargo bench -p jido-bench --bench interleaved`, 11 rounds): kameo
//! 7.34× the floor sequential (spread 4.20–8.45), 7.14× with 64 starters;
//! ours 3.27× and 2.84×, ractor 5.08× and 5.64×. Its instructions were
//! not counted again.
//!
//! # The idle session since (2026-12-07)
//!
//! `heap_profile 10000 ours` (dhat, as above) measured 2,598 B per idle
//! session before this step, against 2,406 B when issue 23 was filed (the
//! build of c496468, measured beside it the same day: 2,406 B, 24,955
//! instructions per start + stop). Where the 192 B came from, by site: the
//! session's `SessionContext` 96 → 176 B (the journal's bookkeeping in
//! every session's `ConversationStore`, journaled or not), the registry's
//! hash tables 200 → 280 B (its project table keyed by the directory's
//! identity since issue 24), its entries 189 → 213 B.
//!
//! - **Changed**: the limits a journal last recorded (a `Mutex` around 40
//!   bytes) live in the session's journal, not in every session's store:
//!   `SessionContext` 176 → 120 B, **2,598 → 2,542 B** per idle session.
//! - **Changed**: a plain start no longer builds a timer for the read a
//!   resume makes once it owns the session (a timeout is armed only
//!   around a resume's read). Instructions per start + stop: 26.1k–27.0k
//!   over three counts, as before within the multi-thread runtime's
//!   ±0.5k.
//!
//! # No task per idle supervisor (issue 23, 2026-12-07)
//!
//! A supervisor with a child running parks when idle (`jido-process`'s
//! `park` module; one with none keeps its task, or nothing would end it
//! when its runtime shuts down): its
//! runner (its table's handle, its mailbox's receiver, its restart window)
//! waits in a small allocation with the waker every source of its
//! wake-ups holds; a child's end, a command, a stop request or a kill
//! spawns a task on the same pid, which handles what came and parks again.
//!
//! - Live heap per idle session (dhat, `heap_profile 10000 ours`):
//!   **2,542 → 2,398 B** (task cells 768 → 512 B; the parking adds what
//!   the runner needs, 120 B); **2,431 B** once each pid records its
//!   task's generation beside its abort handle (+8 B a pid: review found
//!   that a late record could leave a kill aborting a finished task).
//!   Against the floor's 1,083 B: 2.24×. Resident memory at 1,000,000
//!   idle sessions (`JIDO_SCALE_SESSIONS=1000000 cargo bench -p jido-bench
//!   --bench scale`, one run): 2,975 B per session, 2,616 B of it added by
//!   running (2,940 B on 2026-11-25); the target of 2,048 B is missed. The
//!   same run's start cost with 999,000 open against 1,000 open: mean
//!   0.74×, p50 1.31× — just past the 1.3× the issue allows.
//! - Instructions per start + stop (callgrind, three counts): 27.0k–27.3k,
//!   against 26.1k–27.0k before: the stop's wake spawns the task the
//!   supervisor no longer keeps (about +0.5k, within the runtime's noise).
//! - Wall clock, interleaved (`cargo bench -p jido-bench --bench
//!   interleaved`, 11 rounds): sequential 3.39× the floor (spread
//!   2.65–4.08; 3.35× before), 64 starters 2.94× (2.64–3.40; 2.77×
//!   before): unchanged within the spread. ractor 4.71× / 5.76×, kameo
//!   6.53× / 7.11× in the same run.
//! - Targets: live heap ≤ 1,536 B and ≤ 1.4× the floor — still missed
//!   (2,431 B, 2.24×). What is left of an idle session: two worker task
//!   cells (512 B), three pids (432 B), the registry's tables and entries
//!   (~500 B), the tree's shared state and context. Workers could park the
//!   same way (after an idle time: parking at once costs a spawn per
//!   message), the supervisor's pid could go with its task; not done.
