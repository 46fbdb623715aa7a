//! The App API's 10 requests a second, kept on this side: a sliding window of the last request
//! starts, with a small margin so that a server counting arrivals never sees an eleventh.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Requests a second the App API documents for its reads.
pub(crate) const APP_API_RPS: usize = 10;

/// Added to the one-second window: clocks and networks are not exact.
const MARGIN: Duration = Duration::from_millis(30);

/// At most `capacity` request starts in any window of a second (plus the margin).
#[derive(Debug)]
pub(crate) struct Pacer {
    capacity: usize,
    started: VecDeque<Instant>,
}

impl Pacer {
    pub(crate) fn new(capacity: usize) -> Pacer {
        Pacer {
            capacity: capacity.max(1),
            started: VecDeque::new(),
        }
    }

    /// How long to wait at `now` before the next request may start.
    pub(crate) fn wait(&mut self, now: Instant) -> Duration {
        let window = Duration::from_secs(1) + MARGIN;
        while self
            .started
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            self.started.pop_front();
        }
        if self.started.len() < self.capacity {
            return Duration::ZERO;
        }
        self.started.front().map_or(Duration::ZERO, |oldest| {
            window.saturating_sub(now.duration_since(*oldest))
        })
    }

    /// Sleep until the next request may start, and count it as started.
    pub(crate) fn pace(&mut self) {
        loop {
            let wait = self.wait(Instant::now());
            if wait.is_zero() {
                break;
            }
            std::thread::sleep(wait);
        }
        self.started.push_back(Instant::now());
    }

    /// Count a request as started at `at` (tests).
    #[cfg(test)]
    fn started_at(&mut self, at: Instant) {
        self.started.push_back(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_in_a_second_then_wait() {
        let mut p = Pacer::new(10);
        let t = Instant::now();
        for _ in 0..10 {
            assert_eq!(p.wait(t), Duration::ZERO);
            p.started_at(t);
        }
        assert_eq!(p.wait(t), Duration::from_secs(1) + MARGIN);
        assert_eq!(
            p.wait(t + Duration::from_millis(500)),
            Duration::from_millis(530)
        );
        assert_eq!(p.wait(t + Duration::from_secs(1) + MARGIN), Duration::ZERO);
    }
}
