//! Supervisor operations as plain data: [`Op`] (each start scripted with a
//! [`Script`]), [`CrashKind`], and their strategies.

use std::ops::RangeInclusive;
use std::sync::Once;

use jido_supervisor::ExitReason;
use jido_supervisor::Term;
use proptest::prelude::*;

use super::{Sequence, sequence};
use crate::Script;

/// What a scripted panic's message starts with; see
/// [`quiet_scripted_panics`].
pub const SCRIPTED_PANIC_PREFIX: &str = "jido-testkit scripted panic";

/// Installs (once per process) a panic hook that prints nothing for panics
/// whose message starts with [`SCRIPTED_PANIC_PREFIX`] and defers to the
/// previous hook for every other panic: property tests that script hundreds
/// of panics keep a readable output.
pub fn quiet_scripted_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied());
            if !message.is_some_and(|m| m.starts_with(SCRIPTED_PANIC_PREFIX)) {
                previous(info);
            }
        }));
    });
}

/// How a running session is made to end by [`Op::Crash`].
#[derive(Debug, Clone, PartialEq)]
pub enum CrashKind {
    /// The process returns this reason (`Normal` and `Shutdown` are normal
    /// exits, the rest crashes).
    Exit(ExitReason),
    /// The process panics with this message.
    Panic(String),
    /// The process is killed (`Pid::kill`).
    Kill,
}

impl CrashKind {
    /// The exit reason the process ends with.
    pub fn exit_reason(&self) -> ExitReason {
        match self {
            CrashKind::Exit(reason) => reason.clone(),
            CrashKind::Panic(message) => ExitReason::Panic(message.as_str().into()),
            CrashKind::Kill => ExitReason::Killed,
        }
    }
}

/// The script of every [`Op::StartCancelled`]: a start that needs
/// `before + after + 1` = 5 polls to finish, and spawns its process on the
/// third.
pub const CANCELLED_START: Script = Script::Slow {
    before: 2,
    after: 2,
};

/// The most polls [`op`] gives an [`Op::StartCancelled`]: fewer than the
/// [`CANCELLED_START`] needs, so the start is always dropped in flight
/// (before its spawn for 1–2 polls, after it for 3–4, before registering
/// anything for 0).
pub const MAX_CANCEL_POLLS: u32 = 4;

/// One operation on a session supervisor, as plain data.
///
/// `pick`s name a session among those *successfully started so far*, in
/// start order, modulo their number (so a pick may name a session that has
/// since ended); with none started, a pick names an id never registered.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Starts a session on project `project` (through its alias spelling if
    /// `alias`), with the stub scripted to `script`.
    Start {
        /// The project, an index into the pool.
        project: usize,
        /// Whether to use the alias spelling of the project's path.
        alias: bool,
        /// What the stub does.
        script: Script,
    },
    /// Stops a session.
    Stop {
        /// Which session.
        pick: usize,
    },
    /// Makes a session's process end by itself.
    Crash {
        /// Which session.
        pick: usize,
        /// How it ends.
        reason: CrashKind,
    },
    /// Starts a session with the [`CANCELLED_START`] script, polls the start
    /// `polls` times (yielding in between), then drops it.
    StartCancelled {
        /// The project, an index into the pool.
        project: usize,
        /// How often the start future is polled before it is dropped.
        polls: u32,
    },
    /// Looks a session up.
    Lookup {
        /// Which session.
        pick: usize,
    },
    /// Lists every session.
    List,
}

/// A short message for a scripted failure.
pub fn failure_message() -> impl Strategy<Value = String> {
    "[a-z]{1,8}( [a-z]{1,8})?"
}

/// A message for a scripted panic: starts with [`SCRIPTED_PANIC_PREFIX`].
pub fn panic_message() -> impl Strategy<Value = String> {
    (0_u8..4).prop_map(|n| format!("{SCRIPTED_PANIC_PREFIX} {n}"))
}

/// An exit reason a process may return by itself: normal, shutdown, or an
/// error.
pub fn returned_exit_reason() -> impl Strategy<Value = ExitReason> {
    prop_oneof![
        Just(ExitReason::Normal),
        Just(ExitReason::Shutdown),
        prop::sample::select(vec!["boom", "disk full"]).prop_map(ExitReason::error),
    ]
}

/// A [`Script`], mostly ones that leave a session running.
pub fn stub_outcome() -> impl Strategy<Value = Script> {
    prop_oneof![
        8 => Just(Script::Succeed),
        2 => (0_u32..3, 0_u32..3).prop_map(|(before, after)| Script::Slow { before, after }),
        1 => Just(Script::IgnoreStop),
        1 => returned_exit_reason().prop_map(Script::CrashAfterStart),
        1 => failure_message().prop_map(|message| Script::Fail(Term::msg(message))),
        1 => Just(Script::Ignore),
        1 => panic_message().prop_map(Script::Panic),
        1 => Just(Script::Hang),
    ]
}

/// A [`CrashKind`].
pub fn crash_kind() -> impl Strategy<Value = CrashKind> {
    prop_oneof![
        2 => returned_exit_reason().prop_map(CrashKind::Exit),
        1 => panic_message().prop_map(CrashKind::Panic),
        1 => Just(CrashKind::Kill),
    ]
}

/// A session pick (see [`Op`]).
pub fn pick() -> impl Strategy<Value = usize> {
    0_usize..8
}

/// An [`Op`] on a pool of `projects` projects; starts are the most common.
///
/// # Panics
///
/// If `projects` is 0.
pub fn op(projects: usize) -> impl Strategy<Value = Op> {
    assert!(projects > 0, "a pool needs at least one project");
    prop_oneof![
        6 => (0..projects, any::<bool>(), stub_outcome())
            .prop_map(|(project, alias, script)| Op::Start { project, alias, script }),
        1 => Just(Op::List),
        1 => pick().prop_map(|pick| Op::Lookup { pick }),
        3 => pick().prop_map(|pick| Op::Stop { pick }),
        2 => (pick(), crash_kind()).prop_map(|(pick, reason)| Op::Crash { pick, reason }),
        2 => (0..projects, 0..=MAX_CANCEL_POLLS)
            .prop_map(|(project, polls)| Op::StartCancelled { project, polls }),
    ]
}

/// A sequence of [`op`]s whose length is in `len`; shrinks to a shortest
/// failing sequence (see [`sequence()`]).
pub fn ops(projects: usize, len: RangeInclusive<usize>) -> Sequence<impl Strategy<Value = Op>> {
    sequence(op(projects), len)
}
