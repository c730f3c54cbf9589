//! [`AutoShutdown`]: whether a supervisor ends when its significant children
//! end (OTP 24's `auto_shutdown`).

/// Whether the supervisor shuts itself down when *significant* children end
/// by themselves (OTP's `auto_shutdown` flag; see
/// [`ChildSpec::significant`](crate::ChildSpec::significant)). A significant
/// child terminated by the supervisor (through `terminate_child` or a
/// restart strategy) does not count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum AutoShutdown {
    /// Never: significant children are not allowed.
    #[default]
    Never,
    /// When any significant child ends.
    AnySignificant,
    /// When every significant child has ended.
    AllSignificant,
}
