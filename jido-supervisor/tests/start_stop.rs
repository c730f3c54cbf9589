//! Starting and stopping sessions with the stub as child: the cases of
//! jido_code's `SessionSupervisor` tests (start returns a pid, registers in
//! both registries, limit, duplicate id, duplicate project, child counts,
//! stop, stop of an unknown id, stop many, lookups).

mod common;

use common::{
    assert_empty, assert_gone, assert_no_event, next_kind, project, projects, session,
    stub_supervisor, stub_supervisor_with_limit,
};
use jido_supervisor::session::ProjectPath;
use jido_supervisor::{EventKind, StartError, StopError};
use jido_supervisor::{ExitReason, RegistryError};
use jido_supervisor::{Session, SessionId};

#[tokio::test]
async fn start_returns_the_handle_of_a_live_tree() {
    let (supervisor, stub) = stub_supervisor();
    let dir = project();
    let session = session(&dir);
    let id = session.id();

    let handle = supervisor.start_session(session).await.unwrap();

    assert!(handle.is_alive());
    assert!(handle.pid().is_alive());
    assert_eq!(stub.pid(id).as_ref(), Some(handle.pid()));
    let calls = stub.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].session_id, id);
}

#[tokio::test]
async fn start_registers_the_session() {
    let (supervisor, _stub) = stub_supervisor();
    let dir = project();
    let session = session(&dir);
    let id = session.id();

    supervisor.start_session(session.clone()).await.unwrap();

    let registered = supervisor.registry().lookup(id).expect("registered");
    assert_eq!(*registered, session);
    assert_eq!(
        supervisor
            .registry()
            .lookup_by_path(dir.path())
            .unwrap()
            .id(),
        id
    );
    assert_eq!(supervisor.registry().count(), 1);
}

#[tokio::test]
async fn start_records_the_tree_under_the_session() {
    let (supervisor, _stub) = stub_supervisor();
    let dir = project();
    let session = session(&dir);
    let id = session.id();

    let handle = supervisor.start_session(session).await.unwrap();

    let found = supervisor
        .find_session(id)
        .expect("the tree is found by id");
    assert_eq!(found, handle);
    assert_eq!(found.pid(), handle.pid());
    assert_eq!(found.id(), id);
    let listed = supervisor.list_sessions();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0], (id, handle));
    // The stub's tree is a bare process: no supervisor to manage children in.
    assert!(supervisor.tree(id).is_none());
}

#[tokio::test]
async fn start_beyond_the_limit_fails_with_the_count_and_the_limit() {
    let (supervisor, stub) = stub_supervisor_with_limit(2);
    assert_eq!(supervisor.max_children(), 2);
    let dirs = projects(3);
    supervisor.start_session(session(&dirs[0])).await.unwrap();
    supervisor.start_session(session(&dirs[1])).await.unwrap();
    let third = session(&dirs[2]);
    let third_id = third.id();

    let error = supervisor.start_session(third).await.unwrap_err();

    assert_eq!(
        error,
        StartError::Registry(RegistryError::LimitReached { count: 2, limit: 2 })
    );
    assert_eq!(stub.calls().len(), 2, "the child was not started");
    assert_eq!(supervisor.count_children(), 2);
    assert_eq!(supervisor.registry().count(), 2);
    assert_gone(&supervisor, third_id);
}

#[tokio::test]
async fn start_with_a_registered_id_fails() {
    let (supervisor, stub) = stub_supervisor();
    let (first_dir, second_dir) = (project(), project());
    let first = session(&first_dir);
    let id = first.id();
    let handle = supervisor.start_session(first).await.unwrap();
    let same_id = Session::builder(second_dir.path()).id(id).build().unwrap();

    let error = supervisor.start_session(same_id).await.unwrap_err();

    assert_eq!(
        error,
        StartError::Registry(RegistryError::DuplicateId { id })
    );
    assert_eq!(stub.calls().len(), 1);
    // The first session is untouched.
    assert_eq!(supervisor.find_session(id), Some(handle));
    assert_eq!(
        supervisor.registry().lookup(id).unwrap().project_path(),
        &ProjectPath::new(first_dir.path()).unwrap()
    );
    assert_eq!(supervisor.count_children(), 1);
}

#[tokio::test]
async fn start_of_an_open_project_fails_naming_its_session() {
    let (supervisor, stub) = stub_supervisor();
    let dir = project();
    let first = session(&dir);
    let owner = first.id();
    supervisor.start_session(first).await.unwrap();
    let second = session(&dir);
    let second_id = second.id();

    let error = supervisor.start_session(second).await.unwrap_err();

    assert_eq!(
        error,
        StartError::Registry(RegistryError::DuplicateProject {
            path: ProjectPath::new(dir.path()).unwrap(),
            owner,
        })
    );
    assert_eq!(stub.calls().len(), 1);
    assert_eq!(supervisor.count_children(), 1);
    assert_gone(&supervisor, second_id);
}

#[tokio::test]
async fn start_of_an_open_project_spelled_otherwise_fails() {
    let (supervisor, _stub) = stub_supervisor();
    let dir = project();
    let first = session(&dir);
    let owner = first.id();
    supervisor.start_session(first).await.unwrap();
    let links = project();
    let link = links.path().join("link-to-project");
    std::os::unix::fs::symlink(dir.path(), &link).unwrap();

    for spelling in [dir.path().join("."), link.clone(), link.join(".")] {
        let other = Session::new(&spelling).unwrap();
        let error = supervisor.start_session(other).await.unwrap_err();
        assert!(
            matches!(
                error,
                StartError::Registry(RegistryError::DuplicateProject { owner: o, .. }) if o == owner
            ),
            "{spelling:?} was not seen as the open project: {error:?}"
        );
    }
    assert_eq!(supervisor.registry().count(), 1);
    assert_eq!(supervisor.count_children(), 1);
}

#[tokio::test]
async fn count_children_follows_starts_and_stops() {
    let (supervisor, _stub) = stub_supervisor();
    let dirs = projects(2);
    let first = session(&dirs[0]);
    let first_id = first.id();
    let second = session(&dirs[1]);
    let second_id = second.id();
    assert_eq!(supervisor.count_children(), 0);

    supervisor.start_session(first).await.unwrap();
    assert_eq!(supervisor.count_children(), 1);
    supervisor.start_session(second).await.unwrap();
    assert_eq!(supervisor.count_children(), 2);

    supervisor.stop_session(first_id).await.unwrap();
    assert_eq!(supervisor.count_children(), 1);
    supervisor.stop_session(second_id).await.unwrap();
    assert_eq!(supervisor.count_children(), 0);
}

#[tokio::test]
async fn stop_ends_the_tree_and_unregisters_it_everywhere() {
    let (supervisor, stub) = stub_supervisor();
    let mut events = supervisor.subscribe();
    let dir = project();
    let session = session(&dir);
    let id = session.id();
    let handle = supervisor.start_session(session).await.unwrap();

    let reason = supervisor.stop_session(id).await.unwrap();

    assert_eq!(reason, ExitReason::Shutdown);
    assert!(!handle.is_alive());
    assert_eq!(handle.pid().exit_reason(), Some(ExitReason::Shutdown));
    assert_eq!(stub.pid(id), None);
    assert_gone(&supervisor, id);
    assert_empty(&supervisor);
    assert_eq!(next_kind(&mut events, id).await, EventKind::Started);
    assert_eq!(
        next_kind(&mut events, id).await,
        EventKind::Stopped {
            reason: ExitReason::Shutdown
        }
    );
    assert_no_event(&mut events);

    // The project can be opened again.
    supervisor
        .start_session(common::session(&dir))
        .await
        .unwrap();
}

#[tokio::test]
async fn stop_of_an_unknown_id_is_not_found() {
    let (supervisor, _stub) = stub_supervisor();
    let mut events = supervisor.subscribe();
    let id = SessionId::new();

    assert_eq!(
        supervisor.stop_session(id).await,
        Err(StopError::NotFound { id })
    );
    assert_no_event(&mut events);
}

#[tokio::test]
async fn stop_many_leaves_nothing() {
    let (supervisor, stub) = stub_supervisor();
    let mut events = supervisor.subscribe();
    let dirs = projects(5);
    let mut started = Vec::new();
    for dir in &dirs {
        let session = session(dir);
        let id = session.id();
        started.push((id, supervisor.start_session(session).await.unwrap()));
    }
    assert_eq!(supervisor.count_children(), 5);
    assert_eq!(supervisor.registry().count(), 5);
    assert_eq!(stub.running_count(), 5);

    for (id, _) in &started {
        assert_eq!(supervisor.stop_session(*id).await, Ok(ExitReason::Shutdown));
    }

    assert_empty(&supervisor);
    for (id, handle) in &started {
        assert!(!handle.is_alive());
        assert_eq!(stub.pid(*id), None);
        assert_gone(&supervisor, *id);
    }
    for (id, _) in &started {
        assert_eq!(next_kind(&mut events, *id).await, EventKind::Started);
    }
    for (id, _) in &started {
        assert_eq!(
            next_kind(&mut events, *id).await,
            EventKind::Stopped {
                reason: ExitReason::Shutdown
            }
        );
    }
    assert_no_event(&mut events);
}

#[tokio::test]
async fn lookups_follow_the_session_before_during_and_after() {
    let (supervisor, _stub) = stub_supervisor();
    let dirs = projects(2);
    let session = session(&dirs[0]);
    let id = session.id();
    let other = common::session(&dirs[1]);
    let other_id = other.id();

    assert_eq!(supervisor.find_session(id), None);
    assert!(supervisor.list_sessions().is_empty());
    assert!(!supervisor.session_running(id));

    let handle = supervisor.start_session(session).await.unwrap();
    let other_handle = supervisor.start_session(other).await.unwrap();

    assert_eq!(supervisor.find_session(id), Some(handle.clone()));
    assert!(supervisor.session_running(id));
    let mut listed = supervisor.list_sessions();
    listed.sort_by_key(|(_, handle)| handle.id());
    let mut expected = vec![(id, handle), (other_id, other_handle.clone())];
    expected.sort_by_key(|(_, handle)| handle.id());
    assert_eq!(listed, expected);

    supervisor.stop_session(id).await.unwrap();

    assert_eq!(supervisor.find_session(id), None);
    assert!(!supervisor.session_running(id));
    assert_eq!(supervisor.list_sessions(), vec![(other_id, other_handle)]);
    assert!(supervisor.session_running(other_id));
}

#[tokio::test]
async fn a_stopped_project_can_be_started_again_with_a_new_tree() {
    let (supervisor, stub) = stub_supervisor();
    let dir = project();
    let first = session(&dir);
    let first_id = first.id();
    let first_handle = supervisor.start_session(first).await.unwrap();
    supervisor.stop_session(first_id).await.unwrap();

    let second = session(&dir);
    let second_id = second.id();
    let second_handle = supervisor.start_session(second).await.unwrap();

    assert_ne!(first_handle, second_handle);
    assert!(supervisor.session_running(second_id));
    assert!(!supervisor.session_running(first_id));
    assert_eq!(stub.calls().len(), 2);
    assert_eq!(supervisor.registry().count(), 1);
}
