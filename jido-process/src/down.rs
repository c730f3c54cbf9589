//! [`Down`]: the message a monitor sends when the monitored process ends.

use crate::{ExitReason, MonitorRef, Pid};

/// Sent by [`Pid::monitor`] to a mailbox when the monitored process ends:
/// Erlang's `{'DOWN', Ref, process, Pid, Reason}`, plus the `tag` the
/// monitor was installed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Down<T = ()> {
    /// The monitor that fired.
    pub monitor: MonitorRef,
    /// The process that ended.
    pub pid: Pid,
    /// Why it ended.
    pub reason: ExitReason,
    /// What the monitor was installed with.
    pub tag: T,
}
