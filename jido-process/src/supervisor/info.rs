//! What a supervisor tells about its children: [`ChildInfo`] and
//! [`ChildCounts`].

use crate::{ChildKind, ChildName, Pid, Restart};

/// Where a child stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChildStatus {
    /// It runs.
    Running,
    /// It ended and is being restarted (a failed restart is retried).
    Restarting,
    /// It does not run: terminated, ignored its start, or ended for good.
    Stopped,
}

/// One child, as [`which_children`](crate::Supervisor::which_children)
/// reports it (OTP's `{Id, Child, Type, Modules}`, with the restart type
/// and significance).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChildInfo {
    /// Its name.
    pub name: ChildName,
    /// Its process, while it runs.
    pub pid: Option<Pid>,
    /// Where it stands.
    pub status: ChildStatus,
    /// Worker or supervisor.
    pub kind: ChildKind,
    /// When it is restarted.
    pub restart: Restart,
    /// Whether it is significant.
    pub significant: bool,
}

/// OTP's `count_children`: how many children are known (`specs`), how many
/// run (`active`), and how many are supervisors and workers, running or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct ChildCounts {
    /// Children known, running or not.
    pub specs: usize,
    /// Children whose process is alive.
    pub active: usize,
    /// Children that are supervisors.
    pub supervisors: usize,
    /// Children that are workers.
    pub workers: usize,
}
