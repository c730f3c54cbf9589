//! [`SessionConfig`]: the LLM settings of a session, and their checks.

use serde::{Deserialize, Serialize};

use crate::error::{SessionError, ValidationErrors};

/// The lowest accepted [`SessionConfig::temperature`].
pub const MIN_TEMPERATURE: f64 = 0.0;

/// The highest accepted [`SessionConfig::temperature`].
pub const MAX_TEMPERATURE: f64 = 2.0;

/// LLM settings of a session.
///
/// The fields are public so a config can be built with struct update
/// syntax; nothing is checked until [`validate`](Self::validate) runs (which
/// [`SessionBuilder::build`](crate::SessionBuilder::build) and
/// [`Session::update_config`](crate::Session::update_config) do).
///
/// # Examples
///
/// ```
/// use jido_session::SessionConfig;
///
/// let config = SessionConfig { temperature: 0.2, ..SessionConfig::default() };
/// assert!(config.validate().is_ok());
/// assert_eq!(config.provider, "anthropic");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionConfig {
    /// LLM provider, e.g. `"anthropic"`. Must not be empty or whitespace.
    pub provider: String,
    /// Model name, e.g. `"claude-3-5-sonnet-20241022"`. Must not be empty or
    /// whitespace.
    pub model: String,
    /// Sampling temperature: finite, at least [`MIN_TEMPERATURE`] and at
    /// most [`MAX_TEMPERATURE`].
    pub temperature: f64,
    /// Maximum number of tokens in a response; at least 1.
    pub max_tokens: u32,
}

impl Default for SessionConfig {
    /// Provider `"anthropic"`, model `"claude-3-5-sonnet-20241022"`,
    /// temperature `0.7`, `max_tokens` `4096`.
    fn default() -> Self {
        Self {
            provider: "anthropic".to_owned(),
            model: "claude-3-5-sonnet-20241022".to_owned(),
            temperature: 0.7,
            max_tokens: 4096,
        }
    }
}

impl SessionConfig {
    /// Checks every field.
    ///
    /// # Errors
    ///
    /// Returns every failure, in this order: [`SessionError::ProviderEmpty`],
    /// [`SessionError::ModelEmpty`], [`SessionError::TemperatureNotFinite`]
    /// or [`SessionError::TemperatureOutOfRange`],
    /// [`SessionError::MaxTokensZero`].
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = Vec::new();
        self.collect_errors(&mut errors);
        ValidationErrors::check(errors)
    }

    /// Appends every failure to `out`, in the order documented on
    /// [`validate`](Self::validate).
    pub(crate) fn collect_errors(&self, out: &mut Vec<SessionError>) {
        if is_blank(&self.provider) {
            out.push(SessionError::ProviderEmpty);
        }
        if is_blank(&self.model) {
            out.push(SessionError::ModelEmpty);
        }
        if let Err(error) = check_temperature(self.temperature) {
            out.push(error);
        }
        if self.max_tokens == 0 {
            out.push(SessionError::MaxTokensZero);
        }
    }
}

/// Empty or whitespace-only.
pub(crate) fn is_blank(s: &str) -> bool {
    s.trim().is_empty()
}

fn check_temperature(value: f64) -> Result<(), SessionError> {
    if !value.is_finite() {
        Err(SessionError::TemperatureNotFinite { value })
    } else if (MIN_TEMPERATURE..=MAX_TEMPERATURE).contains(&value) {
        Ok(())
    } else {
        Err(SessionError::TemperatureOutOfRange {
            value,
            min: MIN_TEMPERATURE,
            max: MAX_TEMPERATURE,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collect_errors_appends_in_order_without_clearing() {
        let config = SessionConfig {
            provider: " \t".to_owned(),
            model: String::new(),
            temperature: f64::INFINITY,
            max_tokens: 0,
        };
        let mut out = vec![SessionError::NameEmpty];
        config.collect_errors(&mut out);
        assert_eq!(
            out,
            vec![
                SessionError::NameEmpty,
                SessionError::ProviderEmpty,
                SessionError::ModelEmpty,
                SessionError::TemperatureNotFinite {
                    value: f64::INFINITY
                },
                SessionError::MaxTokensZero,
            ]
        );
    }

    #[test]
    fn default_config_collects_nothing() {
        let mut out = Vec::new();
        SessionConfig::default().collect_errors(&mut out);
        assert!(out.is_empty());
    }
}
