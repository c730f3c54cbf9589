//! The strategies generate what they promise: valid values pass the
//! session checks, invalid ones fail them for the documented reason, pool
//! aliases name the same project, and sequences shrink to a shortest
//! counterexample.

use std::mem::discriminant;

use jido_registry::{RegistryError, SessionRegistry};
use jido_session::{MAX_ECHO_CHARS, MAX_NAME_CHARS, Session, SessionConfig, SessionError};
use jido_testkit::strategies::{
    ConfigFault, ProjectPool, blank_name, invalid_config_with_faults, invalid_temperature,
    sequence, session_spec, too_long_name, valid_config, valid_name, valid_temperature,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestError, TestRunner};

/// One shared pool: these properties only read it.
fn pool() -> &'static ProjectPool {
    static POOL: std::sync::OnceLock<ProjectPool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| ProjectPool::new(4, 2).expect("project pool"))
}

proptest! {
    #[test]
    fn valid_names_and_configs_build(name in valid_name(), config in valid_config()) {
        let chars = name.chars().count();
        prop_assert!((1..=MAX_NAME_CHARS).contains(&chars));
        let session = Session::builder(pool().path(0))
            .name(name.clone())
            .config(config.clone())
            .build();
        let session = session.map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(session.name(), name.as_str());
        prop_assert_eq!(session.config(), &config);
    }

    #[test]
    fn blank_names_are_rejected_as_empty(name in blank_name()) {
        let errors = Session::builder(pool().path(0)).name(name).build().unwrap_err();
        prop_assert_eq!(errors.into_vec(), vec![SessionError::NameEmpty]);
    }

    #[test]
    fn too_long_names_are_rejected_with_their_length(name in too_long_name()) {
        let len = name.chars().count();
        prop_assert!(len > MAX_NAME_CHARS);
        let errors = Session::builder(pool().path(0)).name(name.clone()).build().unwrap_err();
        // The error echoes at most MAX_ECHO_CHARS characters of the name.
        let echoed = if len > MAX_ECHO_CHARS {
            format!("{}…", name.chars().take(MAX_ECHO_CHARS).collect::<String>())
        } else {
            name
        };
        prop_assert_eq!(
            errors.into_vec(),
            vec![SessionError::NameTooLong { name: echoed, len, max: MAX_NAME_CHARS }]
        );
    }

    #[test]
    fn temperatures_are_classified_as_documented(
        good in valid_temperature(),
        bad in invalid_temperature(),
    ) {
        let config = |temperature| SessionConfig { temperature, ..SessionConfig::default() };
        prop_assert!(config(good).validate().is_ok());
        prop_assert!(config(bad).validate().is_err(), "{} accepted", bad);
    }

    #[test]
    fn invalid_configs_fail_once_per_broken_field(
        (config, faults) in invalid_config_with_faults(),
    ) {
        let errors = config.validate().unwrap_err().into_vec();
        let broke = |f: fn(&ConfigFault) -> bool| faults.iter().any(f);
        let mut expected = Vec::new();
        if broke(|f| matches!(f, ConfigFault::BlankProvider(_))) {
            expected.push(discriminant(&SessionError::ProviderEmpty));
        }
        if broke(|f| matches!(f, ConfigFault::BlankModel(_))) {
            expected.push(discriminant(&SessionError::ModelEmpty));
        }
        if broke(|f| matches!(f, ConfigFault::Temperature(_))) {
            // The last temperature fault applied is the one that counts.
            let error = if config.temperature.is_finite() {
                SessionError::TemperatureOutOfRange { value: 0.0, min: 0.0, max: 0.0 }
            } else {
                SessionError::TemperatureNotFinite { value: 0.0 }
            };
            expected.push(discriminant(&error));
        }
        if broke(|f| matches!(f, ConfigFault::ZeroMaxTokens)) {
            expected.push(discriminant(&SessionError::MaxTokensZero));
        }
        let got: Vec<_> = errors.iter().map(discriminant).collect();
        prop_assert_eq!(got, expected, "{:?}", errors);
    }

    #[test]
    fn session_specs_build_on_their_project(spec in session_spec(4)) {
        let session = pool().session(&spec).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(session.project_path(), &pool().project_path(spec.project));
        if let Some(name) = &spec.name {
            prop_assert_eq!(session.name(), name.as_str());
        }
    }
}

#[test]
fn every_spelling_of_a_pool_project_is_one_project() {
    let pool = ProjectPool::new(4, 2).unwrap();
    assert_eq!(pool.len(), 4);
    let registry = SessionRegistry::with_limit(10);
    for project in 0..pool.len() {
        let direct = pool.spelling(project, false);
        let alias = pool.spelling(project, true);
        assert_ne!(direct, alias);
        assert_eq!(pool.alias(project).is_some(), project < 2);
        let first = registry.register(Session::new(&direct).unwrap()).unwrap();
        let again = registry.register(Session::new(&alias).unwrap());
        assert!(
            matches!(again, Err(RegistryError::DuplicateProject { owner, .. }) if owner == first.id()),
            "{alias:?} was not seen as {direct:?}"
        );
        assert_eq!(first.project_path(), &pool.project_path(project));
        assert_eq!(pool.project_of(first.project_path()), Some(project));
    }
    assert_eq!(registry.count(), pool.len(), "projects are distinct");
}

#[test]
fn a_pool_is_removed_when_dropped() {
    let pool = ProjectPool::new(2, 1).unwrap();
    let root = pool.root().to_path_buf();
    assert!(root.join("alias-0").is_symlink());
    drop(pool);
    assert!(!root.exists());
}

#[test]
fn sequences_shrink_to_their_shortest_failing_length() {
    for (min_len, shortest) in [(0, 2), (3, 3)] {
        let defaults = Config::default();
        let mut runner = TestRunner::new(Config {
            // Enough cases to meet the failure whatever PROPTEST_CASES says.
            cases: defaults.cases.max(256),
            failure_persistence: None,
            ..defaults
        });
        // Fails whenever two equal neighbours appear.
        let result = runner.run(&sequence(0_u8..3, min_len..=30), |values| {
            prop_assert!(values.windows(2).all(|w| w[0] != w[1]));
            Ok(())
        });
        match result {
            Err(TestError::Fail(_, minimal)) => {
                assert_eq!(minimal.len(), shortest, "{minimal:?}");
                assert!(minimal.windows(2).any(|w| w[0] == w[1]), "{minimal:?}");
            }
            other => panic!("{other:?}"),
        }
    }
}
