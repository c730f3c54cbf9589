//! Issue 25, item 4: a session's log lines say which session, and routine
//! events stay below INFO. A subscriber for this thread captures what a
//! session's start, a crash of its State and its stop write (the runtime is
//! current-thread: every task runs here).

use std::io;
use std::sync::{Arc, Mutex};

use jido_supervisor::{EventKind, SessionSupervisor};
use tracing_subscriber::fmt::MakeWriter;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_restart_inside_a_session_names_the_session_and_routine_lines_stay_below_info() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);

    let project = tempfile::tempdir().unwrap();
    let supervisor = SessionSupervisor::new();
    let mut events = supervisor.subscribe();
    let id = supervisor
        .create_session(project.path())
        .await
        .unwrap()
        .id();
    supervisor.state(id).unwrap().pid().unwrap().kill();
    loop {
        let event = events.recv().await.unwrap();
        if matches!(event.kind, EventKind::Restarted { .. }) {
            break;
        }
    }
    supervisor.stop_session(id).await.unwrap();

    let text = captured.text();
    let restart = text
        .lines()
        .find(|line| line.contains("child terminated; restarting"))
        .unwrap_or_else(|| panic!("no restart line in {text}"));
    assert!(
        restart.contains(&format!("session{{id={id}}}")),
        "the restart line names the session: {restart}"
    );
    assert!(restart.contains("child=state"), "{restart}");
    for routine in ["session started", "session stopped"] {
        assert!(
            !text.contains(routine),
            "{routine:?} logged at INFO: {text}"
        );
    }
}
