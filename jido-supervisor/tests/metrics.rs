//! Issue 25, item 4: with the `metrics` feature, the supervisor's counters,
//! gauge and histogram say what its events say, and a journal's own
//! checkpoints count as saves — a recorder installed for this test binary
//! (one test: the recorder is global) counts them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use jido_registry::MemoryCluster;
use jido_supervisor::telemetry::{
    CHILD_RESTARTS, CLAIM_SECONDS, SESSION_CRASHES, SESSION_SAVES, SESSION_START_FAILURES,
    SESSION_STARTS, SESSION_STOPS, SESSIONS_OPEN,
};
use jido_supervisor::{
    EventKind, Message, Persistence, Role, SessionEvent, SessionSupervisor, StartError,
};
use metrics::{
    Counter, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};
use tokio::sync::broadcast;

/// Every metric by its key (name and labels, as `name{label=value}`).
#[derive(Default)]
struct Counts {
    counters: Mutex<HashMap<String, Arc<AtomicU64>>>,
    gauges: Mutex<HashMap<String, Arc<AtomicU64>>>,
    histograms: Mutex<HashMap<String, Arc<Samples>>>,
}

#[derive(Default)]
struct Samples(Mutex<Vec<f64>>);

impl HistogramFn for Samples {
    fn record(&self, value: f64) {
        self.0.lock().unwrap().push(value);
    }
}

fn key_text(key: &Key) -> String {
    let labels: Vec<String> = key
        .labels()
        .map(|label| format!("{}={}", label.key(), label.value()))
        .collect();
    if labels.is_empty() {
        key.name().to_owned()
    } else {
        format!("{}{{{}}}", key.name(), labels.join(","))
    }
}

struct Shared(Arc<Counts>);

impl Recorder for Shared {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let mut counters = self.0.counters.lock().unwrap();
        Counter::from_arc(counters.entry(key_text(key)).or_default().clone())
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        let mut gauges = self.0.gauges.lock().unwrap();
        Gauge::from_arc(gauges.entry(key_text(key)).or_default().clone())
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        let mut histograms = self.0.histograms.lock().unwrap();
        Histogram::from_arc(histograms.entry(key_text(key)).or_default().clone())
    }
}

impl Counts {
    fn counter(&self, key: &str) -> u64 {
        self.counters
            .lock()
            .unwrap()
            .get(key)
            .map_or(0, |count| count.load(Ordering::Relaxed))
    }

    fn gauge(&self, key: &str) -> f64 {
        self.gauges
            .lock()
            .unwrap()
            .get(key)
            .map_or(0.0, |bits| f64::from_bits(bits.load(Ordering::Relaxed)))
    }

    fn samples(&self, key: &str) -> Vec<f64> {
        self.histograms
            .lock()
            .unwrap()
            .get(key)
            .map_or_else(Vec::new, |samples| samples.0.lock().unwrap().clone())
    }
}

/// The next event, skipping none.
async fn next(events: &mut broadcast::Receiver<SessionEvent>) -> EventKind {
    events.recv().await.unwrap().kind
}

/// Receives until an event matching `wanted` (returning how many of each
/// kind were seen on the way, that one included).
async fn until(
    events: &mut broadcast::Receiver<SessionEvent>,
    seen: &mut HashMap<&'static str, u64>,
    wanted: fn(&EventKind) -> bool,
) {
    loop {
        let kind = next(events).await;
        let name = match &kind {
            EventKind::Started => "started",
            EventKind::Stopped { .. } => "stopped",
            EventKind::Crashed { .. } => "crashed",
            EventKind::Restarted { .. } => "restarted",
            EventKind::Saved => "saved",
            EventKind::SaveFailed { .. } => "save_failed",
            _ => "other",
        };
        *seen.entry(name).or_default() += 1;
        if wanted(&kind) {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_count_what_the_events_say() {
    let counts = Arc::new(Counts::default());
    metrics::set_global_recorder(Shared(counts.clone())).unwrap();
    jido_supervisor::telemetry::describe();

    let snapshots = tempfile::tempdir().unwrap();
    let cluster = MemoryCluster::new();
    let supervisor = SessionSupervisor::builder()
        .persistence(Persistence::in_dir(snapshots.path()).unwrap())
        .save_on_stop(true)
        .backend(cluster.join())
        .build();
    let mut events = supervisor.subscribe();
    let mut seen = HashMap::new();

    // A start: counted, the gauge up, its claim timed.
    let first = tempfile::tempdir().unwrap();
    let id = supervisor.create_session(first.path()).await.unwrap().id();
    until(&mut events, &mut seen, |kind| *kind == EventKind::Started).await;
    assert_eq!(counts.counter(SESSION_STARTS), 1);
    assert_eq!(counts.gauge(SESSIONS_OPEN), 1.0);
    assert_eq!(counts.samples(CLAIM_SECONDS).len(), 1);

    // A refused start (the project is taken): a start failure, not a start.
    let refused = supervisor.create_session(first.path()).await;
    assert!(
        matches!(refused, Err(StartError::Registry(_))),
        "{refused:?}"
    );
    assert_eq!(counts.counter(SESSION_START_FAILURES), 1);
    assert_eq!(counts.counter(SESSION_STARTS), 1);

    // A child's crash: a restart.
    supervisor.state(id).unwrap().pid().unwrap().kill();
    until(&mut events, &mut seen, |kind| {
        matches!(kind, EventKind::Restarted { .. })
    })
    .await;
    assert_eq!(counts.counter(CHILD_RESTARTS), 1);

    // A save asked for, then a stop that saves: two saves, both ok.
    supervisor.save(id).await.unwrap();
    assert_eq!(counts.counter(&format!("{SESSION_SAVES}{{outcome=ok}}")), 1);
    supervisor.stop_session(id).await.unwrap();
    until(&mut events, &mut seen, EventKind::is_end).await;
    assert_eq!(seen.get("saved"), Some(&1));
    assert_eq!(counts.counter(&format!("{SESSION_SAVES}{{outcome=ok}}")), 2);
    assert_eq!(counts.counter(SESSION_STOPS), 1);
    assert_eq!(counts.gauge(SESSIONS_OPEN), 0.0);

    // A session whose tree is killed: a crash, the gauge down again.
    let second = tempfile::tempdir().unwrap();
    let id = supervisor.create_session(second.path()).await.unwrap().id();
    until(&mut events, &mut seen, |kind| *kind == EventKind::Started).await;
    assert_eq!(counts.gauge(SESSIONS_OPEN), 1.0);
    supervisor.tree(id).unwrap().pid().kill();
    until(&mut events, &mut seen, EventKind::is_end).await;
    assert_eq!(counts.counter(SESSION_CRASHES), 1);
    assert_eq!(counts.gauge(SESSIONS_OPEN), 0.0);

    // Every count is the events' own.
    assert_eq!(counts.counter(SESSION_STARTS), seen["started"]);
    assert_eq!(counts.counter(SESSION_STOPS), seen["stopped"]);
    assert_eq!(counts.counter(SESSION_CRASHES), seen["crashed"]);
    assert_eq!(counts.counter(CHILD_RESTARTS), seen["restarted"]);
    assert_eq!(counts.samples(CLAIM_SECONDS).len(), 2);
    assert!(counts.samples(CLAIM_SECONDS).iter().all(|s| *s >= 0.0));
    supervisor.shutdown().await;

    // The checkpoints a journal takes by itself are saves too.
    let saves = counts.counter(&format!("{SESSION_SAVES}{{outcome=ok}}"));
    let snapshots = tempfile::tempdir().unwrap();
    let journaled = SessionSupervisor::builder()
        .persistence(Persistence::in_dir(snapshots.path()).unwrap())
        .checkpoint_every(2)
        .build();
    let third = tempfile::tempdir().unwrap();
    let id = journaled.create_session(third.path()).await.unwrap().id();
    let state = journaled.state(id).unwrap();
    for n in 0..6 {
        state
            .append_message(Message::new(Role::User, format!("message {n}")))
            .await
            .unwrap();
    }
    let checkpointed = counts.counter(&format!("{SESSION_SAVES}{{outcome=ok}}")) - saves;
    assert!(checkpointed >= 2, "{checkpointed} checkpoints counted");
    journaled.shutdown().await;
}
