//! Metrics of the session supervisor, through the [`metrics`](https://docs.rs/metrics) facade crate
//! (the `metrics` feature, off by default): counters and gauges of what
//! happens to sessions, recorded by whichever recorder the program installs
//! (`metrics-exporter-prometheus`, `metrics-util`'s, your own).
//!
//! | name | kind | what |
//! |---|---|---|
//! | [`SESSIONS_OPEN`] | gauge | sessions open (started, not yet ended) |
//! | [`SESSION_STARTS`] | counter | sessions started (resumed and adopted ones too) |
//! | [`SESSION_START_FAILURES`] | counter | starts refused or failed (registry, claim, tree) |
//! | [`SESSION_STOPS`] | counter | sessions ended normally: stopped, shut down |
//! | [`SESSION_CRASHES`] | counter | sessions whose tree ended abnormally |
//! | [`CHILD_RESTARTS`] | counter | children of session trees restarted |
//! | [`CHILD_RESTART_FAILURES`] | counter | restarts of a child that failed |
//! | [`SESSION_SAVES`] | counter | snapshots saved or checkpointed, labelled `outcome` = `ok` / `failed` |
//! | [`SESSION_ADOPTIONS`] | counter | orphaned sessions adopted from a dead node |
//! | [`CLAIM_SECONDS`] | histogram | how long a cluster claim took (with a [`backend`](crate::SessionSupervisorBuilder::backend)) |
//!
//! The gauge goes up and down (it is not set from one supervisor's count):
//! several supervisors in one program add up. Install the recorder before
//! the first supervisor starts a session, as with every `metrics` user.
//! A start whose future is dropped is neither a start nor a failure (it
//! is rolled back, as if never asked). Records are made where the events
//! are sent, some under the supervisor's session table lock: a recorder
//! must be quick and must not call back into the supervisor (the
//! exporters' recorders are and do not).
//! `describe()` (with the feature) gives the recorder each metric's description and unit.
//!
//! The names are constants, there with the feature off too. With the
//! feature off nothing is recorded and no code is compiled in. With it on
//! and no recorder installed, each record asks `metrics` for its recorder
//! (a thread-local and a global load) and calls the no-op one: counted with
//! callgrind (`jido-bench`'s `instructions` example, with and without
//! `--features metrics`), 158 instructions per session start + stop, 0.6%
//! of its 26.5k. Keys are built at compile time: a record hashes nothing.
//!
//! ```
//! # #[cfg(feature = "metrics")] {
//! use jido_supervisor::telemetry;
//!
//! // At the start of the program, after installing a recorder:
//! telemetry::describe();
//! # }
//! ```

#[cfg(feature = "metrics")]
use std::time::Duration;

/// Gauge: sessions open.
pub const SESSIONS_OPEN: &str = "jido_sessions_open";
/// Counter: sessions started.
pub const SESSION_STARTS: &str = "jido_session_starts_total";
/// Counter: session starts that failed.
pub const SESSION_START_FAILURES: &str = "jido_session_start_failures_total";
/// Counter: sessions ended normally.
pub const SESSION_STOPS: &str = "jido_session_stops_total";
/// Counter: sessions whose tree ended abnormally.
pub const SESSION_CRASHES: &str = "jido_session_crashes_total";
/// Counter: children of session trees restarted.
pub const CHILD_RESTARTS: &str = "jido_child_restarts_total";
/// Counter: restarts of a child that failed.
pub const CHILD_RESTART_FAILURES: &str = "jido_child_restart_failures_total";
/// Counter: saves, labelled `outcome` (`ok`, `failed`).
pub const SESSION_SAVES: &str = "jido_session_saves_total";
/// Counter: orphaned sessions adopted.
pub const SESSION_ADOPTIONS: &str = "jido_session_adoptions_total";
/// Histogram: seconds a cluster claim took.
pub const CLAIM_SECONDS: &str = "jido_claim_seconds";

/// Registers every metric's description and unit with the installed
/// recorder (call it once, after installing the recorder).
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_gauge!(SESSIONS_OPEN, Unit::Count, "sessions open");
    describe_counter!(SESSION_STARTS, Unit::Count, "sessions started");
    describe_counter!(
        SESSION_START_FAILURES,
        Unit::Count,
        "session starts refused or failed"
    );
    describe_counter!(SESSION_STOPS, Unit::Count, "sessions ended normally");
    describe_counter!(SESSION_CRASHES, Unit::Count, "sessions crashed");
    describe_counter!(CHILD_RESTARTS, Unit::Count, "session children restarted");
    describe_counter!(
        CHILD_RESTART_FAILURES,
        Unit::Count,
        "session child restarts that failed"
    );
    describe_counter!(SESSION_SAVES, Unit::Count, "session saves, by outcome");
    describe_counter!(SESSION_ADOPTIONS, Unit::Count, "orphaned sessions adopted");
    describe_histogram!(CLAIM_SECONDS, Unit::Seconds, "cluster claim latency");
}

/// The metrics' keys and the call sites' metadata, built at compile time:
/// a record hashes nothing (the `metrics` macros do only for literal names).
#[cfg(feature = "metrics")]
mod keys {
    use metrics::{Counter, Gauge, Histogram, Key, Label, Level, Metadata};

    static METADATA: Metadata<'static> =
        Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

    pub(super) static STARTS: Key = Key::from_static_name(super::SESSION_STARTS);
    pub(super) static START_FAILURES: Key = Key::from_static_name(super::SESSION_START_FAILURES);
    pub(super) static STOPS: Key = Key::from_static_name(super::SESSION_STOPS);
    pub(super) static CRASHES: Key = Key::from_static_name(super::SESSION_CRASHES);
    pub(super) static RESTARTS: Key = Key::from_static_name(super::CHILD_RESTARTS);
    pub(super) static RESTART_FAILURES: Key = Key::from_static_name(super::CHILD_RESTART_FAILURES);
    pub(super) static ADOPTIONS: Key = Key::from_static_name(super::SESSION_ADOPTIONS);
    pub(super) static OPEN: Key = Key::from_static_name(super::SESSIONS_OPEN);
    pub(super) static CLAIM: Key = Key::from_static_name(super::CLAIM_SECONDS);
    static OK: [Label; 1] = [Label::from_static_parts("outcome", "ok")];
    static FAILED: [Label; 1] = [Label::from_static_parts("outcome", "failed")];
    pub(super) static SAVED: Key = Key::from_static_parts(super::SESSION_SAVES, &OK);
    pub(super) static SAVE_FAILED: Key = Key::from_static_parts(super::SESSION_SAVES, &FAILED);

    pub(super) fn counter(key: &'static Key) -> Counter {
        metrics::with_recorder(|recorder| recorder.register_counter(key, &METADATA))
    }

    pub(super) fn gauge(key: &'static Key) -> Gauge {
        metrics::with_recorder(|recorder| recorder.register_gauge(key, &METADATA))
    }

    pub(super) fn histogram(key: &'static Key) -> Histogram {
        metrics::with_recorder(|recorder| recorder.register_histogram(key, &METADATA))
    }
}

/// Records what an event says (called where every event is sent).
#[inline]
pub(crate) fn event(kind: &crate::EventKind) {
    #[cfg(feature = "metrics")]
    {
        use crate::EventKind;
        use keys::{counter, gauge};
        match kind {
            EventKind::Started => {
                counter(&keys::STARTS).increment(1);
                gauge(&keys::OPEN).increment(1.0);
            }
            EventKind::Stopped { .. } => {
                counter(&keys::STOPS).increment(1);
                gauge(&keys::OPEN).decrement(1.0);
            }
            EventKind::Crashed { .. } => {
                counter(&keys::CRASHES).increment(1);
                gauge(&keys::OPEN).decrement(1.0);
            }
            EventKind::Restarted { .. } => counter(&keys::RESTARTS).increment(1),
            EventKind::RestartFailed { .. } => counter(&keys::RESTART_FAILURES).increment(1),
            EventKind::Saved => saved(true),
            EventKind::SaveFailed { .. } => saved(false),
            EventKind::Adopted { .. } => counter(&keys::ADOPTIONS).increment(1),
        }
    }
    #[cfg(not(feature = "metrics"))]
    let _ = kind;
}

/// Records a save's outcome (on stop, or asked for).
#[inline]
pub(crate) fn saved(ok: bool) {
    #[cfg(feature = "metrics")]
    keys::counter(if ok { &keys::SAVED } else { &keys::SAVE_FAILED }).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = ok;
}

/// Records a start that failed.
#[inline]
pub(crate) fn start_failed() {
    #[cfg(feature = "metrics")]
    keys::counter(&keys::START_FAILURES).increment(1);
}

/// Times a cluster claim: [`done`](ClaimTimer::done) records it (a claim
/// whose start was cancelled records nothing).
#[inline]
pub(crate) fn claim_timer() -> ClaimTimer {
    ClaimTimer {
        #[cfg(feature = "metrics")]
        started: std::time::Instant::now(),
    }
}

/// A claim being timed ([`claim_timer`]).
pub(crate) struct ClaimTimer {
    #[cfg(feature = "metrics")]
    started: std::time::Instant,
}

impl ClaimTimer {
    /// Records the time since [`claim_timer`], whatever the claim's outcome.
    #[inline]
    pub(crate) fn done(self) {
        #[cfg(feature = "metrics")]
        {
            let took: Duration = self.started.elapsed();
            keys::histogram(&keys::CLAIM).record(took.as_secs_f64());
        }
    }
}
