//! Generic OTP supervision: child specs as data, one interpreter of them.

mod auto_shutdown;
mod child_name;
mod child_ref;
mod child_spec;
mod error;
mod handle;
mod info;
mod intensity;
mod observer;
mod restart;
mod runtime;
mod shutdown;
mod spec;
mod strategy;

pub use auto_shutdown::AutoShutdown;
pub use child_name::ChildName;
pub use child_ref::{ChildRef, Directory, Locate};
pub use child_spec::{ChildKind, ChildSpec, StartOutcome};
pub use error::{SpecError, StartPanicked, SupervisorError, SupervisorExit};
pub use handle::Supervisor;
pub use info::{ChildCounts, ChildInfo, ChildStatus};
pub use intensity::RestartIntensity;
pub use observer::{Observer, SupervisorEvent};
pub use restart::Restart;
pub use shutdown::Shutdown;
pub use spec::SupervisorSpec;
pub use strategy::Strategy;
