//! `SessionRegistry::register`'s refusals: the limit first (with count and
//! limit), then a duplicate id, then a duplicate project (naming its owner);
//! a refused registration changes nothing.

mod common;

use common::{Projects, named, session, with_id};
use jido_registry::{DEFAULT_LIMIT, RegistryError, SessionRegistry};
use jido_session::{ProjectPath, Session};

#[test]
fn the_default_limit_is_ten() {
    let projects = Projects::new();
    let registry = SessionRegistry::new();
    assert_eq!(DEFAULT_LIMIT, 10);
    assert_eq!(registry.limit(), 10);
    assert_eq!(SessionRegistry::default().limit(), 10);

    for dir in projects.dirs(10) {
        registry.register(session(dir)).unwrap();
    }
    let eleventh = named(projects.dir("eleventh"), "eleventh");
    let id = eleventh.id();

    assert_eq!(
        registry.register(eleventh).unwrap_err(),
        RegistryError::LimitReached {
            count: 10,
            limit: 10
        }
    );
    assert_eq!(registry.count(), 10);
    assert!(!registry.contains(id));
    assert!(registry.lookup_by_path(projects.dir("eleventh")).is_none());
    assert!(registry.lookup_by_name("eleventh").is_none());
}

#[test]
fn the_limit_is_checked_before_a_duplicate_id() {
    let projects = Projects::new();
    let registry = SessionRegistry::with_limit(1);
    let id = registry.register(session(projects.dir("a"))).unwrap().id();

    let error = registry
        .register(with_id(projects.dir("b"), id))
        .unwrap_err();

    assert_eq!(error, RegistryError::LimitReached { count: 1, limit: 1 });
}

#[test]
fn the_limit_is_checked_before_a_duplicate_project() {
    let projects = Projects::new();
    let registry = SessionRegistry::with_limit(1);
    registry.register(session(projects.dir("a"))).unwrap();

    let error = registry.register(session(projects.dir("a"))).unwrap_err();

    assert_eq!(error, RegistryError::LimitReached { count: 1, limit: 1 });
}

#[test]
fn a_duplicate_id_is_reported_before_a_duplicate_project() {
    let projects = Projects::new();
    let registry = SessionRegistry::new();
    let id = registry.register(session(projects.dir("a"))).unwrap().id();

    // Both the id and the project are taken.
    let error = registry
        .register(with_id(projects.dir("a"), id))
        .unwrap_err();

    assert_eq!(error, RegistryError::DuplicateId { id });
}

#[test]
fn a_duplicate_id_changes_nothing() {
    let projects = Projects::new();
    let registry = SessionRegistry::new();
    let first = registry
        .register(named(projects.dir("a"), "first"))
        .unwrap();
    let id = first.id();

    let impostor = Session::builder(projects.dir("b"))
        .id(id)
        .name("impostor")
        .build()
        .unwrap();
    assert_eq!(
        registry.register(impostor).unwrap_err(),
        RegistryError::DuplicateId { id }
    );

    assert_eq!(registry.count(), 1);
    assert_eq!(*registry.lookup(id).unwrap(), **first.session());
    assert!(registry.lookup_by_path(projects.dir("b")).is_none());
    assert!(registry.lookup_by_name("impostor").is_none());
    assert_eq!(registry.lookup_by_name("first").unwrap().id(), id);
    // The project it asked for is still free.
    registry.register(session(projects.dir("b"))).unwrap();
}

#[test]
fn a_duplicate_project_names_its_owner_and_changes_nothing() {
    let projects = Projects::new();
    let registry = SessionRegistry::new();
    let owner = registry.register(session(projects.dir("a"))).unwrap().id();
    let intruder = named(projects.dir("a"), "intruder");
    let intruder_id = intruder.id();

    let error = registry.register(intruder).unwrap_err();

    assert_eq!(
        error,
        RegistryError::DuplicateProject {
            path: ProjectPath::new(projects.dir("a")).unwrap(),
            owner,
        }
    );
    assert!(error.to_string().contains(&owner.to_string()), "{error}");
    assert_eq!(registry.count(), 1);
    assert!(!registry.contains(intruder_id));
    assert!(registry.lookup_by_name("intruder").is_none());
    assert_eq!(
        registry.lookup_by_path(projects.dir("a")).unwrap().id(),
        owner
    );
}

#[test]
fn a_registry_with_limit_zero_refuses_everything() {
    let projects = Projects::new();
    let registry = SessionRegistry::with_limit(0);

    assert_eq!(registry.limit(), 0);
    assert_eq!(
        registry.register(session(projects.dir("a"))).unwrap_err(),
        RegistryError::LimitReached { count: 0, limit: 0 }
    );
    assert_eq!(registry.count(), 0);
    assert!(registry.lookup_by_path(projects.dir("a")).is_none());
}

#[test]
fn unregistering_makes_room_under_the_limit() {
    let projects = Projects::new();
    let registry = SessionRegistry::with_limit(1);
    let id = registry.register(session(projects.dir("a"))).unwrap().id();
    assert!(registry.register(session(projects.dir("b"))).is_err());

    registry.unregister(id).unwrap();

    registry.register(session(projects.dir("b"))).unwrap();
    assert_eq!(
        registry.register(session(projects.dir("c"))).unwrap_err(),
        RegistryError::LimitReached { count: 1, limit: 1 }
    );
}
