//! proptest strategies for sessions, configs, projects and supervisor
//! operations.
//!
//! Everything generated here is plain data (strings, numbers, enums), built
//! from `Just`, ranges, `Vec` and `prop_oneof!`, so proptest shrinks a failing
//! case to a small one. Things that touch the file system or a runtime (a
//! [`Session`](jido_supervisor::Session), a stub [`Script`](crate::Script)) are
//! made *from* that data by the test:
//! [`ProjectPool::session`], [`Script`](crate::Script).
//!
//! ```
//! use jido_supervisor::Session;
//! use jido_testkit::strategies::{invalid_name, valid_config, valid_name, ProjectPool};
//! use proptest::prelude::*;
//! use proptest::test_runner::TestRunner;
//!
//! let pool = ProjectPool::new(1, 0).unwrap();
//! let mut runner = TestRunner::default();
//! runner
//!     .run(&(valid_name(), valid_config()), |(name, config)| {
//!         let session = Session::builder(pool.path(0)).name(name).config(config).build();
//!         prop_assert!(session.is_ok());
//!         Ok(())
//!     })
//!     .unwrap();
//! runner
//!     .run(&invalid_name(), |name| {
//!         prop_assert!(Session::builder(pool.path(0)).name(name).build().is_err());
//!         Ok(())
//!     })
//!     .unwrap();
//! ```
//!
//! The strategies live in four files: names and configs here, the project
//! pool in `pool.rs`, supervisor operations in `ops.rs`, and [`sequence()`] in
//! `sequence.rs`; all are re-exported here.

mod ops;
mod pool;
mod sequence;

use std::ops::RangeInclusive;

use jido_session::{MAX_NAME_CHARS, MAX_TEMPERATURE, MIN_TEMPERATURE, SessionConfig};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

pub use ops::{
    CANCELLED_START, CrashKind, MAX_CANCEL_POLLS, Op, SCRIPTED_PANIC_PREFIX, crash_kind,
    failure_message, op, ops, panic_message, pick, quiet_scripted_panics, returned_exit_reason,
    stub_outcome,
};
pub use pool::{ProjectPool, SessionSpec, session_spec};
pub use sequence::{Sequence, SequenceTree, sequence};

// ---------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------

/// A proptest configuration running `$PROPTEST_CASES` cases, or
/// `default_cases` when it is not set (CI sets it).
///
/// ```
/// let config = jido_testkit::strategies::cases_from_env(64);
/// assert!(config.cases > 0);
/// ```
pub fn cases_from_env(default_cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(default_cases),
        ..ProptestConfig::default()
    }
}

/// A character that is not whitespace: ASCII, accented Latin, CJK, an emoji
/// and a combining mark (one `char`, zero width).
pub fn visible_char() -> impl Strategy<Value = char> {
    prop_oneof![
        6 => proptest::char::range('a', 'z'),
        2 => proptest::char::range('A', 'Z'),
        2 => proptest::char::range('0', '9'),
        1 => prop::sample::select(vec!['-', '_', '.', '/', '(', ')', '#']),
        2 => prop::sample::select(vec!['é', 'ß', 'ø', 'Ж', '日', '本', 'ü', '\u{301}', '🦀']),
    ]
}

/// A Unicode whitespace character (what `str::trim` removes): space, tab,
/// newline, no-break space, ideographic space.
pub fn whitespace_char() -> impl Strategy<Value = char> {
    prop::sample::select(vec![' ', '\t', '\n', '\u{a0}', '\u{3000}'])
}

/// Any character a name may hold: mostly visible, some whitespace.
pub fn name_char() -> impl Strategy<Value = char> {
    prop_oneof![5 => visible_char(), 1 => whitespace_char()]
}

/// A string of `chars` characters (counted as `char`s, not bytes) drawn
/// from [`name_char`], with at least one visible character, so never blank.
///
/// # Panics
///
/// If `chars` is empty or starts at 0.
pub fn non_blank_text(chars: RangeInclusive<usize>) -> impl Strategy<Value = String> {
    let (min, max) = (*chars.start(), *chars.end());
    assert!(
        min >= 1 && min <= max,
        "non_blank_text needs 1 <= min <= max"
    );
    (
        vec(name_char(), (min - 1)..=(max - 1)),
        visible_char(),
        any::<Index>(),
    )
        .prop_map(|(mut rest, visible, at)| {
            let at = at.index(rest.len() + 1);
            rest.insert(at, visible);
            rest.into_iter().collect()
        })
}

/// A valid session name: 1 to [`MAX_NAME_CHARS`] (50) characters, not
/// blank; may hold multibyte characters and inner or outer whitespace. About
/// one in four is exactly 50 characters long (often more than 50 bytes).
pub fn valid_name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => non_blank_text(1..=MAX_NAME_CHARS),
        1 => non_blank_text(MAX_NAME_CHARS..=MAX_NAME_CHARS),
    ]
}

/// A blank name (empty or only whitespace, up to 60 characters): rejected
/// with `SessionError::NameEmpty`.
pub fn blank_name() -> impl Strategy<Value = String> {
    vec(whitespace_char(), 0..=60).prop_map(|chars| chars.into_iter().collect())
}

/// A name that is not blank but too long: more than [`MAX_NAME_CHARS`]
/// characters (about one in three exactly 51): rejected with
/// `SessionError::NameTooLong`.
pub fn too_long_name() -> impl Strategy<Value = String> {
    prop_oneof![
        non_blank_text(MAX_NAME_CHARS + 1..=MAX_NAME_CHARS + 1),
        non_blank_text(MAX_NAME_CHARS + 1..=3 * MAX_NAME_CHARS),
    ]
}

/// An invalid name: [`blank_name`] or [`too_long_name`].
pub fn invalid_name() -> impl Strategy<Value = String> {
    prop_oneof![blank_name(), too_long_name()]
}

// ---------------------------------------------------------------------------
// Configs
// ---------------------------------------------------------------------------

/// A valid provider or model name: non-blank, up to 30 characters.
pub fn valid_llm_text() -> impl Strategy<Value = String> {
    non_blank_text(1..=30)
}

/// A blank provider or model name: empty or only whitespace.
pub fn blank_text() -> impl Strategy<Value = String> {
    vec(whitespace_char(), 0..=4).prop_map(|chars| chars.into_iter().collect())
}

/// A valid temperature: in `0.0..=2.0`, with the edges `0.0`, `-0.0` (equal
/// to `0.0`) and `2.0` drawn often.
pub fn valid_temperature() -> impl Strategy<Value = f64> {
    prop_oneof![
        1 => Just(MIN_TEMPERATURE),
        1 => Just(-0.0),
        1 => Just(MAX_TEMPERATURE),
        5 => MIN_TEMPERATURE..=MAX_TEMPERATURE,
    ]
}

/// An invalid temperature: NaN, ±infinity, negative (down to the smallest
/// subnormal), or above 2 (from the next `f64` after 2 up to `f64::MAX`).
pub fn invalid_temperature() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(f64::from_bits(MAX_TEMPERATURE.to_bits() + 1)),
        Just(-f64::from_bits(1)),
        Just(-f64::MIN_POSITIVE),
        Just(f64::MAX),
        Just(f64::MIN),
        -1.0e9..-1.0e-9,
        2.000_001..1.0e9,
    ]
}

/// A valid `max_tokens`: 1 to `u32::MAX`, with both edges drawn often.
pub fn valid_max_tokens() -> impl Strategy<Value = u32> {
    prop_oneof![Just(1), Just(u32::MAX), 1..=u32::MAX]
}

/// A config that passes [`SessionConfig::validate`].
pub fn valid_config() -> impl Strategy<Value = SessionConfig> {
    (
        valid_llm_text(),
        valid_llm_text(),
        valid_temperature(),
        valid_max_tokens(),
    )
        .prop_map(|(provider, model, temperature, max_tokens)| SessionConfig {
            provider,
            model,
            temperature,
            max_tokens,
        })
}

/// One way to break a valid config.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigFault {
    /// A blank provider (`SessionError::ProviderEmpty`).
    BlankProvider(String),
    /// A blank model (`SessionError::ModelEmpty`).
    BlankModel(String),
    /// An invalid temperature (`TemperatureNotFinite` or
    /// `TemperatureOutOfRange`).
    Temperature(f64),
    /// `max_tokens` 0 (`SessionError::MaxTokensZero`).
    ZeroMaxTokens,
}

impl ConfigFault {
    /// Breaks `config` this way.
    pub fn apply(&self, config: &mut SessionConfig) {
        match self {
            ConfigFault::BlankProvider(text) => config.provider.clone_from(text),
            ConfigFault::BlankModel(text) => config.model.clone_from(text),
            ConfigFault::Temperature(value) => config.temperature = *value,
            ConfigFault::ZeroMaxTokens => config.max_tokens = 0,
        }
    }
}

/// A [`ConfigFault`].
pub fn config_fault() -> impl Strategy<Value = ConfigFault> {
    prop_oneof![
        blank_text().prop_map(ConfigFault::BlankProvider),
        blank_text().prop_map(ConfigFault::BlankModel),
        invalid_temperature().prop_map(ConfigFault::Temperature),
        Just(ConfigFault::ZeroMaxTokens),
    ]
}

/// A valid config broken by one to four [`ConfigFault`]s (applied in
/// order), with the faults: [`SessionConfig::validate`] fails with one error
/// per distinct field broken.
pub fn invalid_config_with_faults() -> impl Strategy<Value = (SessionConfig, Vec<ConfigFault>)> {
    (valid_config(), vec(config_fault(), 1..=4)).prop_map(|(mut config, faults)| {
        for fault in &faults {
            fault.apply(&mut config);
        }
        (config, faults)
    })
}

/// A config that fails [`SessionConfig::validate`].
pub fn invalid_config() -> impl Strategy<Value = SessionConfig> {
    invalid_config_with_faults().prop_map(|(config, _)| config)
}
