//! When a child is restarted ([`Restart`]) and how often a supervisor may
//! restart before it gives up ([`RestartIntensity`]).

use std::collections::VecDeque;
use std::time::Duration;

use jido_registry::ExitReason;
use tokio::time::Instant;

/// Whether a child is restarted when it ends (Erlang's restart types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Restart {
    /// Always restarted, whatever the reason.
    #[default]
    Permanent,
    /// Restarted only when it ends abnormally (not `Normal`, not `Shutdown`).
    Transient,
    /// Never restarted.
    Temporary,
}

impl Restart {
    /// Whether a child of this type that ended for `reason` is restarted.
    ///
    /// ```
    /// use jido_registry::ExitReason;
    /// use jido_supervisor::Restart;
    ///
    /// assert!(Restart::Permanent.restarts_after(&ExitReason::Normal));
    /// assert!(!Restart::Transient.restarts_after(&ExitReason::Normal));
    /// assert!(Restart::Transient.restarts_after(&ExitReason::Killed));
    /// assert!(!Restart::Temporary.restarts_after(&ExitReason::Killed));
    /// ```
    pub fn restarts_after(self, reason: &ExitReason) -> bool {
        match self {
            Restart::Permanent => true,
            Restart::Transient => reason.is_abnormal(),
            Restart::Temporary => false,
        }
    }
}

/// At most `max_restarts` restarts within any `period` (Erlang's
/// `intensity` and `period`); one more and the supervisor shuts its children
/// down and exits. The default is OTP's: 3 restarts in 5 seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RestartIntensity {
    /// Restarts allowed within `period`.
    pub max_restarts: u32,
    /// The sliding window.
    pub period: Duration,
}

impl Default for RestartIntensity {
    fn default() -> Self {
        RestartIntensity {
            max_restarts: 3,
            period: Duration::from_secs(5),
        }
    }
}

impl RestartIntensity {
    /// `max_restarts` restarts within `period`.
    pub fn new(max_restarts: u32, period: Duration) -> Self {
        RestartIntensity {
            max_restarts,
            period,
        }
    }
}

/// The restarts seen in the last `period`: a sliding window, as in OTP.
#[derive(Debug)]
pub(crate) struct RestartWindow {
    intensity: RestartIntensity,
    restarts: VecDeque<Instant>,
}

impl RestartWindow {
    pub(crate) fn new(intensity: RestartIntensity) -> Self {
        RestartWindow {
            intensity,
            restarts: VecDeque::new(),
        }
    }

    /// Records a restart at `now`; `false` if that is one too many.
    pub(crate) fn allow(&mut self, now: Instant) -> bool {
        while let Some(oldest) = self.restarts.front() {
            if now.duration_since(*oldest) >= self.intensity.period {
                self.restarts.pop_front();
            } else {
                break;
            }
        }
        self.restarts.push_back(now);
        self.restarts.len() <= self.intensity.max_restarts as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fourth_restart_within_the_period_is_refused() {
        let start = Instant::now();
        let mut window = RestartWindow::new(RestartIntensity::default());
        assert!(window.allow(start));
        assert!(window.allow(start + Duration::from_secs(1)));
        assert!(window.allow(start + Duration::from_secs(2)));
        assert!(!window.allow(start + Duration::from_secs(3)));
    }

    #[test]
    fn restarts_older_than_the_period_are_forgotten() {
        let start = Instant::now();
        let mut window = RestartWindow::new(RestartIntensity::default());
        for second in 0..3 {
            assert!(window.allow(start + Duration::from_secs(second)));
        }
        // The first restart (t=0) is 5 s old at t=5: out of the window.
        assert!(window.allow(start + Duration::from_secs(5)));
        assert!(!window.allow(start + Duration::from_secs(5)));
    }

    #[test]
    fn zero_intensity_refuses_the_first_restart() {
        let mut window = RestartWindow::new(RestartIntensity::new(0, Duration::from_secs(5)));
        assert!(!window.allow(Instant::now()));
    }
}
