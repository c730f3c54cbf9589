//! The invariants no caller can break (issue 8): each test names the item
//! it covers. Items covered elsewhere: 3 (`shutdown_all.rs`), 6
//! (`rollback.rs`), 7 and 8 (`jido-process/tests/pid.rs`), 11 and 12
//! (`restarts.rs`, `jido-process`), 14 (`jido-testkit/tests/stub_memory.rs`),
//! 15 (`jido-session`); 5 and 10 under interleavings in `interleavings.rs`.

mod common;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use common::{assert_empty, assert_gone, assert_no_event, next_kind, project, session};
use futures_util::FutureExt;
use jido_supervisor::process::{Shutdown, StartOutcome, spawn_with_pid};
use jido_supervisor::session::{SessionError, SessionRecord};
use jido_supervisor::tree::{ChildContext, SessionChild, TreeHandle};
use jido_supervisor::{
    EventKind, ExitReason, RegistryError, Session, SessionConfig, SessionSupervisor, StartError,
    Term, UpdateError,
};
use jido_testkit::{Script, SessionSupervisorStub};
use parking_lot::Mutex;

/// A record of a session on `path`, as storage would hand it back.
fn record(path: &std::path::Path) -> SessionRecord {
    serde_json::from_value(serde_json::json!({
        "id": jido_supervisor::SessionId::new(),
        "name": "restored",
        "project_path": path,
        "config": SessionConfig::default(),
        "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z",
    }))
    .unwrap()
}

// Item 1: a deserialized session used to skip canonicalization, so a
// symlink spelling of an open project gave two sessions on one directory,
// and a missing directory was accepted.
#[tokio::test]
async fn a_stored_session_goes_through_every_check_before_it_can_be_registered() {
    let supervisor = SessionSupervisor::builder()
        .session_child(SessionSupervisorStub::new())
        .build();
    let dir = project();
    let alias = dir.path().with_extension("alias");
    std::os::unix::fs::symlink(dir.path(), &alias).unwrap();
    let first = supervisor.create_session(dir.path()).await.unwrap();

    let through_alias = Session::from_record(record(&alias)).unwrap();
    assert_eq!(through_alias.project_path(), first.session().project_path());
    assert!(matches!(
        supervisor.start_session(through_alias).await,
        Err(StartError::Registry(RegistryError::DuplicateProject { owner, .. })) if owner == first.id()
    ));

    let missing = dir.path().join("definitely-not-here");
    let errors = Session::from_record(record(&missing)).unwrap_err();
    assert_eq!(
        errors.errors(),
        &[SessionError::PathNotFound { path: missing }]
    );
    assert_eq!(supervisor.registry().count(), 1);
    std::fs::remove_file(alias).unwrap();
}

// Item 2: mutations used to go through the live registry the supervisor
// handed out; now they go through the supervisor, and reach the running
// Manager.
#[tokio::test]
async fn renames_and_config_changes_go_through_the_supervisor_and_reach_the_manager() {
    let supervisor = SessionSupervisor::new();
    let dir = project();
    let id = supervisor.create_session(dir.path()).await.unwrap().id();
    let manager = supervisor.manager(id).unwrap();

    let renamed = supervisor.rename_session(id, "bug hunt").await.unwrap();
    assert_eq!(renamed.name(), "bug hunt");
    assert_eq!(manager.session().await.unwrap().name(), "bug hunt");
    assert_eq!(
        supervisor
            .registry()
            .lookup_by_name("bug hunt")
            .unwrap()
            .id(),
        id
    );
    assert!(renamed.updated_at() >= renamed.created_at());

    let cold = SessionConfig {
        temperature: 0.0,
        ..SessionConfig::default()
    };
    supervisor
        .update_session_config(id, cold.clone())
        .await
        .unwrap();
    assert_eq!(manager.session().await.unwrap().config(), &cold);

    // Refused changes leave the session as it was.
    assert!(matches!(
        supervisor.rename_session(id, "   ").await,
        Err(UpdateError::Invalid(_))
    ));
    let hot = SessionConfig {
        temperature: 9.0,
        ..SessionConfig::default()
    };
    assert!(matches!(
        supervisor.update_session_config(id, hot).await,
        Err(UpdateError::Invalid(_))
    ));
    let now = manager.session().await.unwrap();
    assert_eq!((now.name(), now.config()), ("bug hunt", &cold));
    let stranger = jido_supervisor::SessionId::new();
    assert_eq!(
        supervisor.rename_session(stranger, "x").await.unwrap_err(),
        UpdateError::NotFound { id: stranger }
    );
}

// Item 4: a stop whose caller gave up used to leave a tree that ignores
// stop requests alive, registered and counted forever. As in OTP, a begun
// termination completes: the kill after the shutdown timeout happens.
#[tokio::test(start_paused = true)]
async fn a_stop_whose_caller_gave_up_still_kills_the_tree_after_its_timeout() {
    let stub = SessionSupervisorStub::with_shutdown(Shutdown::Timeout(Duration::from_secs(5)));
    stub.script_default(Script::IgnoreStop);
    let supervisor = SessionSupervisor::builder()
        .session_child(stub.clone())
        .max_sessions(1)
        .build();
    let mut events = supervisor.subscribe();
    let dir = project();
    let handle = supervisor.create_session(dir.path()).await.unwrap();
    let id = handle.id();
    assert_eq!(next_kind(&mut events, id).await, EventKind::Started);

    let gave_up = tokio::time::timeout(Duration::from_secs(1), supervisor.stop_session(id)).await;
    assert!(gave_up.is_err(), "the tree ignores stop requests");

    // Nobody waits on the stop any more; the kill still comes at 5 s, and
    // the supervisor itself (not an awaited handle) removes the session.
    assert_eq!(handle.pid().wait().await, ExitReason::Killed);
    supervisor.settle().await;
    assert_gone(&supervisor, id);
    assert_eq!(
        next_kind(&mut events, id).await,
        EventKind::Stopped {
            reason: ExitReason::Killed
        },
        "asked to stop: reported as stopped, not crashed"
    );
    // Not counted against the limit any more.
    let other = project();
    supervisor.create_session(other.path()).await.unwrap();
}

/// A tree that keeps its `ChildEvents` to report with later, and reports a
/// restart while it is still starting.
#[derive(Default, Clone)]
struct Reporter {
    kept: Arc<Mutex<Vec<jido_supervisor::tree::ChildEvents>>>,
}

#[async_trait]
impl SessionChild for Reporter {
    async fn start(&self, ctx: ChildContext) -> Result<StartOutcome<TreeHandle>, Term> {
        ctx.events()
            .restarted("early", ExitReason::error("while starting"));
        self.kept.lock().push(ctx.events().clone());
        let pid = spawn_with_pid(|me| async move {
            me.stop_requested().await;
            me.stop_reason()
        });
        Ok(StartOutcome::Started(TreeHandle::new(
            pid,
            Shutdown::default(),
        )))
    }
}

// Item 9: any child could emit any lifecycle event for any session. What a
// tree is given reports only its own children's restarts, for its own
// session, and only between its `Started` and its end.
#[tokio::test]
async fn a_tree_reports_only_child_events_of_its_own_session_within_its_lifecycle() {
    let reporter = Reporter::default();
    let supervisor = SessionSupervisor::builder()
        .session_child(reporter.clone())
        .build();
    let mut events = supervisor.subscribe();
    let (a, b) = (project(), project());
    let first = supervisor.create_session(a.path()).await.unwrap().id();
    let second = supervisor.create_session(b.path()).await.unwrap().id();

    // The report made during the start follows `Started`.
    for id in [first, second] {
        assert_eq!(next_kind(&mut events, id).await, EventKind::Started);
        assert!(matches!(
            next_kind(&mut events, id).await,
            EventKind::Restarted { child, .. } if child == "early"
        ));
    }
    let reports = reporter.kept.lock().clone();
    assert_eq!(reports[0].session_id(), first);
    reports[0].restarted("agent", ExitReason::Killed);
    assert_eq!(
        next_kind(&mut events, first).await,
        EventKind::Restarted {
            child: "agent".into(),
            reason: ExitReason::Killed
        },
        "reported for its own session only"
    );

    supervisor.stop_session(first).await.unwrap();
    assert!(next_kind(&mut events, first).await.is_end());
    // After its end, a tree's reports go nowhere.
    reports[0].restarted("agent", ExitReason::Killed);
    assert_no_event(&mut events);
    supervisor.stop_session(second).await.unwrap();
    assert!(next_kind(&mut events, second).await.is_end());
}

/// A supervisor whose trees are waited for (`Infinity`), with one session
/// that stops when asked and one that ignores it.
async fn polite_and_stubborn() -> (
    SessionSupervisor,
    jido_supervisor::SessionId,
    jido_supervisor::SessionHandle,
    [tempfile::TempDir; 2],
) {
    let stub = SessionSupervisorStub::with_shutdown(Shutdown::Infinity);
    let supervisor = SessionSupervisor::builder()
        .session_child(stub.clone())
        .build();
    let dirs = [project(), project()];
    let polite = supervisor
        .create_session(dirs[0].path())
        .await
        .unwrap()
        .id();
    let stubborn = session(&dirs[1]);
    stub.script_session(stubborn.id(), Script::IgnoreStop);
    let stubborn = supervisor.start_session(stubborn).await.unwrap();
    (supervisor, polite, stubborn, dirs)
}

// Item 13: `shutdown()` used to hang forever on an `Infinity` tree that
// never stops, with no way out. `shutdown_within` is the bounded way out,
// and says what it had to kill.
#[tokio::test(start_paused = true)]
async fn a_bounded_shutdown_kills_what_does_not_stop_and_reports_it() {
    let (supervisor, polite, stubborn, _dirs) = polite_and_stubborn().await;
    let mut events = supervisor.subscribe();

    let report = supervisor.shutdown_within(Duration::from_secs(10)).await;

    assert_eq!(report.stopped, [polite]);
    assert_eq!(report.killed, [stubborn.id()]);
    assert_eq!(stubborn.wait().await, ExitReason::Killed);
    assert_empty(&supervisor);
    let mut ends: Vec<_> = std::iter::from_fn(|| events.try_recv().ok())
        .map(|event| (event.session_id, event.kind))
        .collect();
    ends.sort_by_key(|(id, _)| *id == polite);
    assert_eq!(
        ends,
        [
            (
                stubborn.id(),
                EventKind::Stopped {
                    reason: ExitReason::Killed
                }
            ),
            (
                polite,
                EventKind::Stopped {
                    reason: ExitReason::Shutdown
                }
            ),
        ]
    );
}

// Item 13, the other half: `shutdown()` keeps OTP's meaning of `Infinity`
// (a supervisor is waited for as long as it takes), and completes as soon
// as the tree ends.
#[tokio::test(start_paused = true)]
async fn an_unbounded_shutdown_waits_for_an_infinity_tree_as_long_as_it_runs() {
    let (supervisor, _polite, stubborn, _dirs) = polite_and_stubborn().await;
    let shutdown = supervisor.shutdown();
    tokio::pin!(shutdown);

    let an_hour = tokio::time::timeout(Duration::from_secs(3600), &mut shutdown).await;
    assert!(an_hour.is_err(), "still waiting an hour later");

    stubborn.pid().kill();
    shutdown.await;
    assert_empty(&supervisor);
}

// Item 16: outside a runtime, a typed error rather than tokio's panic.
#[test]
fn starting_outside_a_runtime_is_a_typed_error() {
    let supervisor = SessionSupervisor::new();
    let dir = project();
    let result = supervisor
        .create_session(dir.path())
        .now_or_never()
        .expect("answers at once");
    assert_eq!(result.unwrap_err(), StartError::NoRuntime);
    assert_eq!(supervisor.registry().count(), 0);
}

// Item 16: a runtime without its time driver: tokio's own panic names the
// missing feature (documented on `SessionSupervisor`).
#[test]
#[should_panic(expected = "timers are disabled")]
fn starting_in_a_runtime_without_timers_panics_naming_the_missing_driver() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let supervisor = SessionSupervisor::new();
        let dir = project();
        let _ = supervisor.create_session(dir.path()).await;
    });
}
