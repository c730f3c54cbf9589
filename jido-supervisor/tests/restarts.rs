//! Restarts in the real per-session supervisor: restart types, strategies,
//! and the restart intensity (under paused time).

mod common;

use std::time::Duration;

use common::{
    assert_empty, assert_gone, assert_no_event, expect_restarted, next_kind, project, session,
};
use jido_supervisor::ExitReason;
use jido_supervisor::SessionId;
use jido_supervisor::process::Pid;
use jido_supervisor::process::{CallError, Restart, RestartIntensity, Strategy, SupervisorExit};
use jido_supervisor::session::{Manager, State};
use jido_supervisor::tree::{ProcessKey, SessionSup};
use jido_supervisor::{EventKind, Message, Role, SessionEvent, SessionHandle, SessionSupervisor};
use tempfile::TempDir;
use tokio::sync::broadcast;

/// A supervisor of real trees built like `tree`, with one session started,
/// and a receiver that has already read its `Started` event.
struct Fixture {
    supervisor: SessionSupervisor,
    events: broadcast::Receiver<SessionEvent>,
    id: SessionId,
    handle: SessionHandle,
    dir: TempDir,
}

async fn start(tree: SessionSup) -> Fixture {
    let supervisor = SessionSupervisor::builder().session_child(tree).build();
    let mut events = supervisor.subscribe();
    let dir = project();
    let session = session(&dir);
    let id = session.id();
    let handle = supervisor.start_session(session).await.unwrap();
    assert_eq!(next_kind(&mut events, id).await, EventKind::Started);
    Fixture {
        supervisor,
        events,
        id,
        handle,
        dir,
    }
}

impl Fixture {
    fn manager(&self) -> Option<Pid> {
        self.supervisor
            .whereis(&ProcessKey::new(self.id, "manager"))
    }

    fn state(&self) -> Option<Pid> {
        self.supervisor.whereis(&ProcessKey::new(self.id, "state"))
    }

    /// Kills the session's child `child`; returns its pid.
    fn kill(&self, child: &str) -> Pid {
        let key = ProcessKey::new(self.id, child);
        let pid = self
            .supervisor
            .whereis(&key)
            .unwrap_or_else(|| panic!("{key} runs"));
        pid.kill();
        pid
    }

    async fn kill_and_expect_restart(&mut self, child: &str) -> Pid {
        let killed = self.kill(child);
        expect_restarted(&mut self.events, self.id, child).await;
        killed
    }
}

fn state_spec(restart: Restart) -> SessionSup {
    SessionSup::new().child(State::spec().restart(restart))
}

#[tokio::test]
async fn a_permanent_state_is_restarted_after_a_kill() {
    let mut f = start(state_spec(Restart::Permanent)).await;
    let state = f.supervisor.state(f.id).unwrap();
    state
        .append_message(Message::new(Role::User, "before the crash"))
        .await
        .unwrap();

    let old = f.kill_and_expect_restart("state").await;

    let new = f.state().expect("a new State is registered");
    assert_ne!(new, old);
    assert!(new.is_alive());
    assert_eq!(state.pid(), Some(new));
    // The same StateRef reaches the new State, which continues the
    // committed conversation.
    state
        .append_message(Message::new(Role::User, "after"))
        .await
        .unwrap();
    let contents: Vec<String> = state
        .messages(0, None)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|m| m.content)
        .collect();
    assert_eq!(contents, ["before the crash", "after"]);
    assert!(f.supervisor.session_running(f.id));
    assert!(f.handle.is_alive());
}

#[tokio::test]
async fn a_transient_state_is_restarted_after_a_kill() {
    let mut f = start(state_spec(Restart::Transient)).await;

    let old = f.kill_and_expect_restart("state").await;

    let new = f.state().expect("a new State is registered");
    assert_ne!(new, old);
    assert_eq!(
        f.supervisor.state(f.id).unwrap().message_count().await,
        Ok(0)
    );
}

#[tokio::test]
async fn a_temporary_state_is_not_restarted() {
    let mut f = start(state_spec(Restart::Temporary)).await;
    let state = f.supervisor.state(f.id).unwrap();
    let manager_before = f.manager().unwrap();

    let killed = f.kill("state");
    assert_eq!(killed.wait().await, ExitReason::Killed);
    // The supervisor handles exits in order: once the Manager's restart is
    // reported, the State's end has been handled too.
    f.kill_and_expect_restart("manager").await;

    assert_eq!(f.state(), None);
    assert!(f.supervisor.state(f.id).is_none());
    // A temporary child's spec goes with it.
    assert_eq!(
        state.message_count().await,
        Err(CallError::NoSuchChild {
            name: "state".into()
        })
    );
    assert_ne!(f.manager().unwrap(), manager_before);
    // The tree goes on without it.
    assert!(f.supervisor.session_running(f.id));
    assert_no_event(&mut f.events);
}

#[tokio::test]
async fn a_temporary_manager_is_not_restarted() {
    let mut f = start(SessionSup::new().child(Manager::spec().restart(Restart::Temporary))).await;
    let state_before = f.state().unwrap();

    let killed = f.kill("manager");
    killed.wait().await;
    f.kill_and_expect_restart("state").await;

    assert_eq!(f.manager(), None);
    assert_ne!(f.state().unwrap(), state_before);
    assert!(f.supervisor.session_running(f.id));
}

#[tokio::test]
async fn one_for_one_restarts_only_the_child_that_ended() {
    let mut f = start(SessionSup::new().strategy(Strategy::OneForOne)).await;
    let manager = f.manager().unwrap();
    let state = f.state().unwrap();

    f.kill_and_expect_restart("state").await;
    assert_eq!(f.manager(), Some(manager.clone()), "manager untouched");
    let new_state = f.state().unwrap();
    assert_ne!(new_state, state);

    f.kill_and_expect_restart("manager").await;
    assert_ne!(f.manager().unwrap(), manager);
    assert_eq!(f.state(), Some(new_state), "state untouched");
    assert_no_event(&mut f.events);
}

#[tokio::test]
async fn one_for_all_restarts_every_child() {
    let mut f = start(SessionSup::new().strategy(Strategy::OneForAll)).await;
    let manager = f.manager().unwrap();
    let state = f.state().unwrap();

    f.kill_and_expect_restart("state").await;

    let (manager2, state2) = (f.manager().unwrap(), f.state().unwrap());
    assert_ne!(manager2, manager);
    assert_ne!(state2, state);
    assert_eq!(
        manager.wait().await,
        ExitReason::Shutdown,
        "terminated gracefully"
    );

    f.kill_and_expect_restart("manager").await;

    assert_ne!(f.manager().unwrap(), manager2);
    assert_ne!(f.state().unwrap(), state2);
    assert_eq!(state2.wait().await, ExitReason::Shutdown);
    // One event per restart, not per child.
    assert_no_event(&mut f.events);
    assert_eq!(
        f.supervisor
            .manager(f.id)
            .unwrap()
            .session()
            .await
            .unwrap()
            .id(),
        f.id
    );
}

#[tokio::test]
async fn one_for_all_does_not_restart_a_temporary_sibling() {
    let mut f = start(
        SessionSup::new()
            .strategy(Strategy::OneForAll)
            .child(Manager::spec().restart(Restart::Temporary)),
    )
    .await;
    let manager = f.manager().unwrap();

    f.kill_and_expect_restart("state").await;

    assert_eq!(manager.wait().await, ExitReason::Shutdown);
    assert_eq!(f.manager(), None, "a temporary sibling is not restarted");
    assert!(f.state().is_some());
}

#[tokio::test]
async fn rest_for_one_after_the_manager_restarts_both() {
    let mut f = start(SessionSup::new().strategy(Strategy::RestForOne)).await;
    let manager = f.manager().unwrap();
    let state = f.state().unwrap();

    f.kill_and_expect_restart("manager").await;

    assert_ne!(f.manager().unwrap(), manager);
    assert_ne!(f.state().unwrap(), state);
    assert_eq!(state.wait().await, ExitReason::Shutdown);
    assert_no_event(&mut f.events);
}

#[tokio::test]
async fn rest_for_one_after_the_state_restarts_only_the_state() {
    let mut f = start(SessionSup::new().strategy(Strategy::RestForOne)).await;
    let manager = f.manager().unwrap();
    let state = f.state().unwrap();

    f.kill_and_expect_restart("state").await;

    assert_eq!(f.manager(), Some(manager));
    assert_ne!(f.state().unwrap(), state);
    assert_no_event(&mut f.events);
}

/// Checks that the tree `f` ended for exceeding its restart intensity, and
/// that it left nothing behind.
async fn assert_gave_up(mut f: Fixture) {
    let reason = f.handle.wait().await;
    // As OTP: the tree exits with `shutdown`; the term says why, and the
    // session reports it as a crash.
    assert!(
        matches!(
            SupervisorExit::of(&reason),
            Some(SupervisorExit::ReachedMaxRestartIntensity { .. })
        ),
        "unexpected reason: {reason}"
    );
    assert_gone(&f.supervisor, f.id);
    assert_empty(&f.supervisor);
    assert_eq!(
        next_kind(&mut f.events, f.id).await,
        EventKind::Crashed { reason }
    );
    assert_no_event(&mut f.events);
    // The project can be opened again.
    let again = session(&f.dir);
    f.supervisor.start_session(again).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_fourth_restart_within_the_period_ends_the_tree() {
    let mut f = start(SessionSup::new()).await;
    for _ in 0..3 {
        f.kill_and_expect_restart("state").await;
        tokio::time::advance(Duration::from_secs(1)).await;
    }
    let manager = f.manager().unwrap();

    f.kill("state");

    assert_gave_up(f).await;
    assert_eq!(
        manager.wait().await,
        ExitReason::Shutdown,
        "siblings are terminated"
    );
}

#[tokio::test(start_paused = true)]
async fn restarts_of_different_children_count_together() {
    let mut f = start(SessionSup::new()).await;
    f.kill_and_expect_restart("manager").await;
    f.kill_and_expect_restart("state").await;
    f.kill_and_expect_restart("manager").await;

    f.kill("state");

    assert_gave_up(f).await;
}

#[tokio::test(start_paused = true)]
async fn a_restart_just_inside_the_period_still_counts() {
    let mut f = start(SessionSup::new()).await;
    for _ in 0..3 {
        f.kill_and_expect_restart("state").await;
    }
    tokio::time::advance(Duration::from_millis(4_999)).await;

    f.kill("state");

    assert_gave_up(f).await;
}

// Issue 8, item 11, on the real tree: a restart exactly one period old
// still counts (OTP keeps R >= Now - Period).
#[tokio::test(start_paused = true)]
async fn a_restart_exactly_one_period_old_still_counts() {
    let mut f = start(SessionSup::new()).await;
    for _ in 0..3 {
        f.kill_and_expect_restart("state").await;
    }
    tokio::time::advance(Duration::from_secs(5)).await;

    f.kill("state");

    assert_gave_up(f).await;
}

#[tokio::test(start_paused = true)]
async fn restarts_spread_beyond_the_period_do_not_end_the_tree() {
    let mut f = start(SessionSup::new()).await;
    for _ in 0..8 {
        f.kill_and_expect_restart("state").await;
        tokio::time::advance(Duration::from_secs(2)).await;
    }

    assert!(f.handle.is_alive());
    assert!(f.supervisor.session_running(f.id));
    assert_eq!(
        f.supervisor.state(f.id).unwrap().message_count().await,
        Ok(0)
    );
    assert_no_event(&mut f.events);
}

#[tokio::test(start_paused = true)]
async fn a_burst_after_the_period_has_passed_is_allowed() {
    let mut f = start(SessionSup::new()).await;
    for _ in 0..3 {
        f.kill_and_expect_restart("state").await;
    }
    // Just past one period: the first burst is out of the window.
    tokio::time::advance(Duration::from_secs(5) + Duration::from_millis(1)).await;
    for _ in 0..3 {
        f.kill_and_expect_restart("state").await;
    }

    assert!(f.supervisor.session_running(f.id));
    f.kill("state");
    assert_gave_up(f).await;
}

#[tokio::test(start_paused = true)]
async fn a_custom_intensity_is_honoured() {
    let mut f = start(
        SessionSup::new().intensity(RestartIntensity::new(1, Duration::from_secs(60)).unwrap()),
    )
    .await;
    f.kill_and_expect_restart("state").await;
    tokio::time::advance(Duration::from_secs(30)).await;

    f.kill("state");

    assert_gave_up(f).await;
}

#[tokio::test(start_paused = true)]
async fn zero_intensity_ends_the_tree_at_the_first_end_of_a_child() {
    let f = start(
        SessionSup::new().intensity(RestartIntensity::new(0, Duration::from_secs(5)).unwrap()),
    )
    .await;

    f.kill("manager");

    assert_gave_up(f).await;
}

#[tokio::test(start_paused = true)]
async fn an_ended_temporary_child_does_not_count_as_a_restart() {
    let mut f = start(
        SessionSup::new()
            .intensity(RestartIntensity::new(1, Duration::from_secs(5)).unwrap())
            .child(State::spec().restart(Restart::Temporary)),
    )
    .await;

    f.kill("state").wait().await;
    f.kill_and_expect_restart("manager").await;

    assert!(f.handle.is_alive());
    assert!(f.supervisor.session_running(f.id));
}
