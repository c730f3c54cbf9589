//! `SessionConfig`: defaults, checks and serde.

use jido_session::{MAX_TEMPERATURE, MIN_TEMPERATURE, SessionConfig, SessionError};

fn with_temperature(temperature: f64) -> SessionConfig {
    SessionConfig {
        temperature,
        ..SessionConfig::default()
    }
}

#[test]
fn defaults() {
    let config = SessionConfig::default();
    assert_eq!(config.provider, "anthropic");
    assert_eq!(config.model, "claude-3-5-sonnet-20241022");
    assert_eq!(config.temperature, 0.7);
    assert_eq!(config.max_tokens, 4096);
    assert_eq!(config.validate(), Ok(()));
}

#[test]
fn temperature_bounds_are_inclusive() {
    assert_eq!(MIN_TEMPERATURE, 0.0);
    assert_eq!(MAX_TEMPERATURE, 2.0);
    for ok in [0.0, 1.0, 2.0] {
        assert_eq!(with_temperature(ok).validate(), Ok(()), "{ok}");
    }
    for bad in [-0.1, 2.1, -1e300, f64::MAX] {
        let errors = with_temperature(bad).validate().unwrap_err();
        assert_eq!(
            errors.errors(),
            &[SessionError::TemperatureOutOfRange {
                value: bad,
                min: 0.0,
                max: 2.0
            }],
            "{bad}"
        );
    }
}

#[test]
fn non_finite_temperature_is_rejected() {
    let errors = with_temperature(f64::NAN).validate().unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(
        matches!(errors.first(), SessionError::TemperatureNotFinite { value } if value.is_nan())
    );
    for inf in [f64::INFINITY, f64::NEG_INFINITY] {
        assert_eq!(
            with_temperature(inf).validate().unwrap_err().errors(),
            &[SessionError::TemperatureNotFinite { value: inf }]
        );
    }
}

#[test]
fn blank_provider_and_model_are_rejected() {
    for blank in ["", " ", "\t\n"] {
        let config = SessionConfig {
            provider: blank.to_owned(),
            ..SessionConfig::default()
        };
        assert_eq!(
            config.validate().unwrap_err().errors(),
            &[SessionError::ProviderEmpty]
        );
        let config = SessionConfig {
            model: blank.to_owned(),
            ..SessionConfig::default()
        };
        assert_eq!(
            config.validate().unwrap_err().errors(),
            &[SessionError::ModelEmpty]
        );
    }
}

#[test]
fn zero_max_tokens_is_rejected() {
    let config = SessionConfig {
        max_tokens: 0,
        ..SessionConfig::default()
    };
    assert_eq!(
        config.validate().unwrap_err().errors(),
        &[SessionError::MaxTokensZero]
    );
    let config = SessionConfig {
        max_tokens: 1,
        ..SessionConfig::default()
    };
    assert_eq!(config.validate(), Ok(()));
}

#[test]
fn all_errors_are_reported_in_order() {
    let config = SessionConfig {
        provider: String::new(),
        model: " ".to_owned(),
        temperature: 2.5,
        max_tokens: 0,
    };
    let errors = config.validate().unwrap_err();
    assert_eq!(
        errors.into_vec(),
        vec![
            SessionError::ProviderEmpty,
            SessionError::ModelEmpty,
            SessionError::TemperatureOutOfRange {
                value: 2.5,
                min: 0.0,
                max: 2.0
            },
            SessionError::MaxTokensZero,
        ]
    );
}

#[test]
fn serde_roundtrips() {
    let config = SessionConfig {
        provider: "openai".to_owned(),
        model: "gpt-4o".to_owned(),
        temperature: 0.25,
        max_tokens: 1,
    };
    let json = serde_json::to_value(&config).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "provider": "openai",
            "model": "gpt-4o",
            "temperature": 0.25,
            "max_tokens": 1
        })
    );
    assert_eq!(
        serde_json::from_value::<SessionConfig>(json).unwrap(),
        config
    );
}
