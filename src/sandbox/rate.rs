//! A sliding window of admitted requests: at most a given number per second, and how long to wait
//! when over it (the Track throttle and the App API's 10 requests a second both use one).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Admits at most `capacity` requests in any `window`.
pub(crate) struct RateWindow {
    window: Duration,
    capacity: usize,
    admitted: VecDeque<Instant>,
}

impl RateWindow {
    /// A window admitting `rps` requests a second (a positive, finite number). Below one request a
    /// second the window grows so that it still admits one.
    pub(crate) fn per_second(rps: f64) -> RateWindow {
        let window = if rps >= 1.0 { 1.0 } else { 1.0 / rps };
        RateWindow {
            window: Duration::from_secs_f64(window),
            capacity: ((rps * window).floor() as usize).max(1),
            admitted: VecDeque::new(),
        }
    }

    /// Admit a request arriving `now`, or say after how many whole seconds (at least 1) to retry.
    pub(crate) fn admit(&mut self, now: Instant) -> Result<(), u64> {
        while self
            .admitted
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            self.admitted.pop_front();
        }
        if self.admitted.len() >= self.capacity {
            let oldest = self.admitted.front().copied().unwrap_or(now);
            let wait = self.window.saturating_sub(now.duration_since(oldest));
            return Err(wait.as_secs_f64().ceil().max(1.0) as u64);
        }
        self.admitted.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_capacity_per_window_then_asks_to_wait() {
        let mut w = RateWindow::per_second(10.0);
        let t = Instant::now();
        for _ in 0..10 {
            assert_eq!(w.admit(t), Ok(()));
        }
        assert_eq!(w.admit(t), Err(1));
        assert_eq!(w.admit(t + Duration::from_millis(999)), Err(1));
        assert_eq!(w.admit(t + Duration::from_millis(1000)), Ok(()));
    }

    #[test]
    fn a_slow_rate_widens_the_window() {
        let mut w = RateWindow::per_second(0.25);
        let t = Instant::now();
        assert_eq!(w.admit(t), Ok(()));
        assert_eq!(w.admit(t + Duration::from_secs(1)), Err(3));
        assert_eq!(w.admit(t + Duration::from_secs(4)), Ok(()));
    }
}
