//! [`RestartIntensity`]: how often a supervisor may restart before it gives
//! up, and the sliding window that counts restarts.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use crate::SpecError;

/// At most `max_restarts` restarts within any `period` (OTP's `intensity`
/// and `period`); one more and the supervisor terminates its children and
/// exits with `{shutdown, reached max restart intensity}`. The default is
/// Elixir's: 3 restarts in 5 seconds.
///
/// ```
/// use std::time::Duration;
/// use jido_process::{RestartIntensity, SpecError};
///
/// let intensity = RestartIntensity::new(10, Duration::from_secs(60)).unwrap();
/// assert_eq!(intensity.max_restarts(), 10);
///
/// // A period of zero bounds nothing: refused, as OTP refuses {invalid_period, 0}.
/// assert_eq!(RestartIntensity::new(3, Duration::ZERO), Err(SpecError::ZeroPeriod));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RestartIntensity {
    max_restarts: u32,
    period: Duration,
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
    /// `max_restarts` restarts within any `period`. Zero restarts is valid
    /// (the first restart is one too many).
    ///
    /// # Errors
    ///
    /// [`SpecError::ZeroPeriod`] when `period` is zero.
    pub fn new(max_restarts: u32, period: Duration) -> Result<Self, SpecError> {
        if period.is_zero() {
            return Err(SpecError::ZeroPeriod);
        }
        Ok(RestartIntensity {
            max_restarts,
            period,
        })
    }

    /// Restarts allowed within [`period`](Self::period).
    pub fn max_restarts(&self) -> u32 {
        self.max_restarts
    }

    /// The sliding window.
    pub fn period(&self) -> Duration {
        self.period
    }
}

/// The restarts of the last `period`: a sliding window, as in OTP.
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

    /// Records a restart at `now`; `false` if that is one too many. As in
    /// OTP's `add_restart`, a restart exactly `period` old still counts
    /// (restarts `R` with `R >= now - period` are kept).
    pub(crate) fn allow(&mut self, now: Instant) -> bool {
        while let Some(oldest) = self.restarts.front() {
            if now.saturating_duration_since(*oldest) > self.intensity.period {
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
    fn a_restart_exactly_one_period_old_still_counts() {
        let start = Instant::now();
        let mut window = RestartWindow::new(RestartIntensity::default());
        for second in 0..3 {
            assert!(window.allow(start + Duration::from_secs(second)));
        }
        // The first restart (t=0) is exactly 5 s old at t=5: still in the
        // window (OTP keeps R >= Now - Period), so this is the fourth.
        assert!(!window.allow(start + Duration::from_secs(5)));
    }

    #[test]
    fn restarts_older_than_the_period_are_forgotten() {
        let start = Instant::now();
        let mut window = RestartWindow::new(RestartIntensity::default());
        for second in 0..3 {
            assert!(window.allow(start + Duration::from_secs(second)));
        }
        let later = start + Duration::from_secs(5) + Duration::from_millis(1);
        assert!(window.allow(later));
    }

    #[test]
    fn zero_intensity_refuses_the_first_restart() {
        let mut window =
            RestartWindow::new(RestartIntensity::new(0, Duration::from_secs(5)).unwrap());
        assert!(!window.allow(Instant::now()));
    }

    #[test]
    fn zero_period_is_refused() {
        assert_eq!(
            RestartIntensity::new(3, Duration::ZERO),
            Err(SpecError::ZeroPeriod)
        );
        assert!(RestartIntensity::new(0, Duration::from_nanos(1)).is_ok());
    }
}
