//! [`Strategy`]: which children a supervisor restarts when one ends.

/// Which children are restarted when one of them ends and is to be restarted
/// (OTP's restart strategies). Children are started in order and terminated
/// in reverse order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Strategy {
    /// Only the child that ended.
    #[default]
    OneForOne,
    /// Every child: the others are terminated, then all are started again.
    OneForAll,
    /// The child that ended and the children started after it.
    RestForOne,
}
