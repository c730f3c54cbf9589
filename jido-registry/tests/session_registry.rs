//! `SessionRegistry`: register, the lookups, listing, update, clear and
//! unregister (by id and by ticket).

mod common;

use std::sync::Arc;

use common::{Projects, named, session, sorted_ids, stored, with_id};
use jido_registry::{RegistryError, SessionRegistry};
use jido_session::{ProjectPath, Session, SessionId};

#[test]
fn register_then_lookup_returns_the_stored_session() {
    let projects = Projects::new();
    let registry = SessionRegistry::new();
    let original = session(projects.dir("a"));
    let id = original.id();

    let registration = registry.register(original.clone()).unwrap();

    assert_eq!(registration.id(), id);
    assert_eq!(registration.ticket().id(), id);
    assert_eq!(**registration.session(), original);
    let found = registry.lookup(id).unwrap();
    assert!(Arc::ptr_eq(&found, registration.session()));
    assert!(registry.contains(id));
    assert_eq!(registry.count(), 1);

    let stranger = SessionId::new();
    assert!(registry.lookup(stranger).is_none());
    assert!(!registry.contains(stranger));
}

#[test]
fn an_empty_registry_lists_nothing() {
    let registry = SessionRegistry::new();
    assert_eq!(registry.count(), 0);
    assert!(registry.list_all().is_empty());
    assert!(registry.list_ids().is_empty());
    assert!(registry.lookup_by_name("anything").is_none());
}

#[cfg(unix)]
#[test]
fn lookup_by_path_finds_the_project_however_it_is_spelled() {
    let projects = Projects::new();
    let real = projects.dir("real");
    let link = projects.root().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let registry = SessionRegistry::new();
    let id = registry.register(session(&real)).unwrap().id();

    let spellings = [
        real.clone(),
        link.clone(),
        real.join("..").join("real"),
        real.join("."),
        link.join("..").join("real"),
        projects.root().join("real/"),
    ];
    for spelling in spellings {
        let found = registry.lookup_by_path(&spelling);
        assert_eq!(found.map(|s| s.id()), Some(id), "{}", spelling.display());
    }
}

#[cfg(unix)]
#[test]
fn a_symlink_to_an_open_project_is_the_same_project() {
    let projects = Projects::new();
    let real = projects.dir("real");
    let link = projects.root().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let registry = SessionRegistry::new();
    let owner = registry.register(session(&real)).unwrap().id();

    let error = registry.register(session(&link)).unwrap_err();

    assert_eq!(
        error,
        RegistryError::DuplicateProject {
            path: ProjectPath::new(&real).unwrap(),
            owner,
        }
    );
}

/// Issue 24: one directory is one project, whatever its path: after the
/// directory of an open project is renamed, a session on its new path is
/// refused, and a lookup by the new path finds the open one.
#[cfg(unix)]
#[test]
fn a_renamed_project_directory_is_still_the_open_project() {
    let projects = Projects::new();
    let before = projects.dir("before");
    let registry = SessionRegistry::new();
    let owner = registry.register(session(&before)).unwrap().id();
    let after = projects.root().join("after");
    std::fs::rename(&before, &after).unwrap();

    let error = registry.register(session(&after)).unwrap_err();
    assert_eq!(
        error,
        RegistryError::DuplicateProject {
            path: ProjectPath::new(&after).unwrap(),
            owner,
        }
    );
    assert_eq!(registry.lookup_by_path(&after).map(|s| s.id()), Some(owner));
    // Another directory at the old path is another project.
    std::fs::create_dir(&before).unwrap();
    let newcomer = registry.register(session(&before)).unwrap().id();
    assert_eq!(
        registry.lookup_by_path(&before).map(|s| s.id()),
        Some(newcomer)
    );
    // The first one can still be renamed (its own project, not the
    // newcomer's, though the newcomer now holds its old path).
    let mut renamed = (*registry.lookup(owner).unwrap()).clone();
    renamed.rename("moved").unwrap();
    registry.update(renamed).unwrap();
    // The newcomer goes first: the first is still found by its directory.
    registry.unregister(newcomer).unwrap();
    assert_eq!(registry.lookup_by_path(&after).map(|s| s.id()), Some(owner));
    assert!(matches!(
        registry.register(session(&after)),
        Err(RegistryError::DuplicateProject { .. })
    ));
    // Once the session is gone, the directory is free under any path.
    registry.unregister(owner).unwrap();
    assert!(registry.register(session(&after)).is_ok());
}

#[test]
fn lookup_by_path_is_none_for_a_missing_or_unregistered_path() {
    let projects = Projects::new();
    let registry = SessionRegistry::new();
    let open = projects.dir("open");
    registry.register(session(&open)).unwrap();
    let file = projects.root().join("file.txt");
    std::fs::write(&file, "not a project").unwrap();

    assert!(
        registry
            .lookup_by_path(projects.root().join("missing"))
            .is_none()
    );
    assert!(registry.lookup_by_path(open.join("missing")).is_none());
    assert!(registry.lookup_by_path(projects.dir("closed")).is_none());
    assert!(registry.lookup_by_path(&file).is_none());
    assert!(registry.lookup_by_path("").is_none());
}

#[test]
fn lookup_by_project_finds_the_owner_only() {
    let projects = Projects::new();
    let registry = SessionRegistry::new();
    let a = registry.register(session(projects.dir("a"))).unwrap().id();
    let b = registry.register(session(projects.dir("b"))).unwrap().id();

    let project_a = ProjectPath::new(projects.dir("a")).unwrap();
    let project_b = ProjectPath::new(projects.dir("b")).unwrap();
    let project_c = ProjectPath::new(projects.dir("c")).unwrap();
    assert_eq!(registry.lookup_by_project(&project_a).unwrap().id(), a);
    assert_eq!(registry.lookup_by_project(&project_b).unwrap().id(), b);
    assert!(registry.lookup_by_project(&project_c).is_none());
}

#[test]
fn two_sessions_may_share_a_name() {
    let projects = Projects::new();
    let registry = SessionRegistry::new();
    let first = registry.register(named(projects.dir("a"), "twin")).unwrap();
    let second = registry.register(named(projects.dir("b"), "twin")).unwrap();

    assert_ne!(first.id(), second.id());
    assert_eq!(registry.count(), 2);
    assert!(registry.lookup_by_name("twin").is_some());
    assert!(registry.lookup_by_name("twi").is_none());
}

#[test]
fn lookup_by_name_returns_the_oldest_whatever_the_registration_order() {
    let [old, mid, new]: [SessionId; 3] = sorted_ids(3).try_into().unwrap();
    let registry = SessionRegistry::new();
    // Registered newest first, oldest in the middle.
    registry
        .register(stored(new, "dup", "/p/new", "2024-01-03T00:00:00Z"))
        .unwrap();
    registry
        .register(stored(old, "dup", "/p/old", "2024-01-01T00:00:00Z"))
        .unwrap();
    registry
        .register(stored(mid, "dup", "/p/mid", "2024-01-02T00:00:00Z"))
        .unwrap();

    assert_eq!(registry.lookup_by_name("dup").unwrap().id(), old);
    registry.unregister(old);
    assert_eq!(registry.lookup_by_name("dup").unwrap().id(), mid);
    registry.unregister(mid);
    assert_eq!(registry.lookup_by_name("dup").unwrap().id(), new);
    registry.unregister(new);
    assert!(registry.lookup_by_name("dup").is_none());
}

#[test]
fn lookup_by_name_breaks_a_timestamp_tie_by_id() {
    let [low, high]: [SessionId; 2] = sorted_ids(2).try_into().unwrap();
    let registry = SessionRegistry::new();
    let at = "2024-05-05T12:00:00Z";
    registry
        .register(stored(high, "tie", "/p/high", at))
        .unwrap();
    registry.register(stored(low, "tie", "/p/low", at)).unwrap();

    assert_eq!(registry.lookup_by_name("tie").unwrap().id(), low);
}

#[test]
fn list_all_is_sorted_by_created_at_then_id() {
    let ids = sorted_ids(5);
    let registry = SessionRegistry::with_limit(5);
    // (id index, created_at), registered in this scrambled order.
    let rows = [
        (4, "2024-01-01T00:00:00Z"),
        (1, "2024-03-01T00:00:00Z"),
        (3, "2023-12-31T23:59:59Z"),
        (2, "2024-01-01T00:00:00Z"),
        (0, "2024-03-01T00:00:00Z"),
    ];
    for (i, at) in rows {
        let session = stored(ids[i], &format!("s{i}"), &format!("/p/{i}"), at);
        registry.register(session).unwrap();
    }

    let expected = vec![ids[3], ids[2], ids[4], ids[0], ids[1]];
    assert_eq!(registry.list_ids(), expected);
    let listed: Vec<SessionId> = registry.list_all().iter().map(|s| s.id()).collect();
    assert_eq!(listed, expected);
    assert_eq!(registry.count(), 5);
}

#[test]
fn update_keeps_the_id_and_the_ticket_and_reindexes_the_name() {
    let projects = Projects::new();
    let registry = SessionRegistry::new();
    let registration = registry
        .register(named(projects.dir("a"), "before"))
        .unwrap();
    let id = registration.id();

    let mut renamed = (**registration.session()).clone();
    renamed.rename("after").unwrap();
    let updated = registry.update(renamed.clone()).unwrap();

    assert_eq!(*updated, renamed);
    assert_eq!(registry.count(), 1);
    assert_eq!(registry.lookup(id).unwrap().name(), "after");
    assert_eq!(registry.lookup_by_name("after").unwrap().id(), id);
    assert!(registry.lookup_by_name("before").is_none());
    assert_eq!(
        registry.lookup_by_path(projects.dir("a")).unwrap().name(),
        "after"
    );
    // The original registration is still the current one.
    assert_eq!(
        registry
            .unregister_ticket(registration.ticket())
            .unwrap()
            .id(),
        id
    );
    assert_eq!(registry.count(), 0);
}

#[test]
fn update_moves_a_session_to_another_sharer_of_its_name_correctly() {
    let [old, new]: [SessionId; 2] = sorted_ids(2).try_into().unwrap();
    let registry = SessionRegistry::new();
    let older = stored(old, "shared", "/p/old", "2024-01-01T00:00:00Z");
    registry.register(older.clone()).unwrap();
    registry
        .register(stored(new, "shared", "/p/new", "2024-02-01T00:00:00Z"))
        .unwrap();

    let mut away = older.clone();
    away.rename("elsewhere").unwrap();
    registry.update(away).unwrap();
    assert_eq!(registry.lookup_by_name("shared").unwrap().id(), new);
    assert_eq!(registry.lookup_by_name("elsewhere").unwrap().id(), old);

    let mut back = older;
    back.rename("shared").unwrap();
    registry.update(back).unwrap();
    assert_eq!(registry.lookup_by_name("shared").unwrap().id(), old);
    assert!(registry.lookup_by_name("elsewhere").is_none());
}

#[test]
fn update_can_move_a_session_to_a_free_project() {
    let projects = Projects::new();
    let registry = SessionRegistry::new();
    let id = registry.register(session(projects.dir("a"))).unwrap().id();

    registry.update(with_id(projects.dir("b"), id)).unwrap();

    assert!(registry.lookup_by_path(projects.dir("a")).is_none());
    assert_eq!(registry.lookup_by_path(projects.dir("b")).unwrap().id(), id);
    // The old project is free again; the new one is taken.
    registry.register(session(projects.dir("a"))).unwrap();
    assert!(matches!(
        registry.register(session(projects.dir("b"))),
        Err(RegistryError::DuplicateProject { owner, .. }) if owner == id
    ));
}

#[test]
fn update_to_another_sessions_project_fails_and_changes_nothing() {
    let projects = Projects::new();
    let registry = SessionRegistry::new();
    let a = registry
        .register(named(projects.dir("a"), "alpha"))
        .unwrap();
    let b = registry.register(session(projects.dir("b"))).unwrap().id();

    let grab = Session::builder(projects.dir("b"))
        .id(a.id())
        .name("renamed too")
        .build()
        .unwrap();
    let error = registry.update(grab).unwrap_err();

    assert_eq!(
        error,
        RegistryError::DuplicateProject {
            path: ProjectPath::new(projects.dir("b")).unwrap(),
            owner: b,
        }
    );
    assert_eq!(*registry.lookup(a.id()).unwrap(), **a.session());
    assert_eq!(
        registry.lookup_by_path(projects.dir("a")).unwrap().id(),
        a.id()
    );
    assert_eq!(registry.lookup_by_path(projects.dir("b")).unwrap().id(), b);
    assert_eq!(registry.lookup_by_name("alpha").unwrap().id(), a.id());
    assert!(registry.lookup_by_name("renamed too").is_none());
}

#[test]
fn update_of_an_unknown_id_is_not_found_and_inserts_nothing() {
    let projects = Projects::new();
    let registry = SessionRegistry::new();
    let stranger = session(projects.dir("a"));
    let id = stranger.id();

    assert_eq!(
        registry.update(stranger),
        Err(RegistryError::NotFound { id })
    );
    assert_eq!(registry.count(), 0);
    assert!(registry.lookup(id).is_none());
    assert!(registry.lookup_by_path(projects.dir("a")).is_none());
}

#[test]
fn update_works_on_a_full_registry() {
    let projects = Projects::new();
    let registry = SessionRegistry::with_limit(1);
    let registration = registry.register(session(projects.dir("a"))).unwrap();
    let mut renamed = (**registration.session()).clone();
    renamed.rename("still fits").unwrap();

    registry.update(renamed).unwrap();

    assert_eq!(
        registry.lookup_by_name("still fits").unwrap().id(),
        registration.id()
    );
}

#[test]
fn clear_removes_everything_and_frees_ids_and_projects() {
    let projects = Projects::new();
    let registry = SessionRegistry::new();
    let kept = session(projects.dir("a"));
    let first = registry.register(kept.clone()).unwrap();
    registry.register(named(projects.dir("b"), "bee")).unwrap();

    registry.clear();

    assert_eq!(registry.count(), 0);
    assert!(registry.list_all().is_empty());
    assert!(registry.lookup(kept.id()).is_none());
    assert!(registry.lookup_by_path(projects.dir("a")).is_none());
    assert!(registry.lookup_by_name("bee").is_none());
    // The same id and project can be registered again, under a new ticket
    // that the old one cannot remove.
    let again = registry.register(kept).unwrap();
    assert_ne!(again.ticket(), first.ticket());
    assert!(registry.unregister_ticket(first.ticket()).is_none());
    assert!(registry.contains(again.id()));
    registry.register(named(projects.dir("b"), "bee")).unwrap();
    assert_eq!(registry.count(), 2);
}

#[test]
fn unregister_returns_the_removed_session_and_frees_its_project() {
    let projects = Projects::new();
    let registry = SessionRegistry::new();
    let registration = registry.register(named(projects.dir("a"), "gone")).unwrap();
    let id = registration.id();
    let other = registry.register(session(projects.dir("b"))).unwrap().id();

    let removed = registry.unregister(id).unwrap();

    assert!(Arc::ptr_eq(&removed, registration.session()));
    assert!(!registry.contains(id));
    assert!(registry.lookup_by_path(projects.dir("a")).is_none());
    assert!(registry.lookup_by_name("gone").is_none());
    assert_eq!(registry.list_ids(), vec![other]);
    assert!(registry.unregister(id).is_none());
    assert!(registry.unregister(SessionId::new()).is_none());
    assert_eq!(registry.count(), 1);
    registry.register(session(projects.dir("a"))).unwrap();
}

#[test]
fn a_stale_ticket_leaves_a_newer_registration_of_the_same_id_alone() {
    let projects = Projects::new();
    let registry = SessionRegistry::new();
    let original = session(projects.dir("a"));
    let id = original.id();
    let stale = registry.register(original.clone()).unwrap().ticket();
    registry.unregister(id).unwrap();
    let fresh = registry.register(original).unwrap().ticket();

    assert_ne!(stale, fresh);
    assert_eq!(stale.id(), fresh.id());
    assert!(registry.unregister_ticket(stale).is_none());
    assert!(registry.contains(id));
    assert_eq!(registry.lookup_by_path(projects.dir("a")).unwrap().id(), id);

    assert_eq!(registry.unregister_ticket(fresh).unwrap().id(), id);
    assert!(!registry.contains(id));
    assert!(registry.unregister_ticket(fresh).is_none());
}

#[test]
fn clones_share_one_registry() {
    let projects = Projects::new();
    let registry = SessionRegistry::with_limit(3);
    let clone = registry.clone();
    let id = clone.register(session(projects.dir("a"))).unwrap().id();

    assert!(registry.contains(id));
    assert_eq!(clone.limit(), 3);
    registry.unregister(id);
    assert_eq!(clone.count(), 0);
}
