//! The request rate limit shared by every lane: a token bucket of burst 1, i.e. permits spaced at
//! least `1/rate` apart, so no one-second window ever holds more than `rate + 1` requests.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The pure part: hands out start times for requests. Times are offsets from any fixed origin.
#[derive(Debug, Clone)]
pub(crate) struct Bucket {
    /// Spacing between permits; `None` means unlimited.
    interval: Option<Duration>,
    /// The earliest time the next permit may start.
    next: Duration,
}

impl Bucket {
    /// `rate` requests per second; 0 (or infinity) means unlimited.
    pub(crate) fn new(rate: f64) -> Bucket {
        let interval =
            (rate.is_finite() && rate > 0.0).then(|| Duration::from_secs_f64(1.0 / rate));
        Bucket {
            interval,
            next: Duration::ZERO,
        }
    }

    /// Reserve a permit for a request that wants to start at `now`; returns when it may start.
    pub(crate) fn reserve(&mut self, now: Duration) -> Duration {
        let Some(interval) = self.interval else {
            return now;
        };
        let start = self.next.max(now);
        self.next = start + interval;
        start
    }
}

/// The limiter the lanes share (real clock, sleeping).
#[derive(Debug)]
pub(crate) struct RateLimiter {
    origin: Instant,
    bucket: Mutex<Bucket>,
}

impl RateLimiter {
    pub(crate) fn new(rate: f64) -> RateLimiter {
        RateLimiter {
            origin: Instant::now(),
            bucket: Mutex::new(Bucket::new(rate)),
        }
    }

    /// Wait for a permit. Returns false without one if `abort` was raised while waiting.
    pub(crate) fn acquire(&self, abort: &AtomicBool) -> bool {
        let now = self.origin.elapsed();
        let start = match self.bucket.lock() {
            Ok(mut b) => b.reserve(now),
            Err(poisoned) => poisoned.into_inner().reserve(now),
        };
        sleep_until(self.origin + start, abort)
    }
}

/// Sleep until `deadline` in short steps; false if `abort` was raised first.
pub(crate) fn sleep_until(deadline: Instant, abort: &AtomicBool) -> bool {
    sleep_until_any(deadline, &[abort])
}

/// Sleep until `deadline` in short steps; false as soon as any of `flags` is raised.
pub(crate) fn sleep_until_any(deadline: Instant, flags: &[&AtomicBool]) -> bool {
    loop {
        if flags.iter().any(|f| f.load(Ordering::Relaxed)) {
            return false;
        }
        let now = Instant::now();
        if now >= deadline {
            return true;
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(50)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn max_in_window(starts: &[Duration]) -> usize {
        let mut best = 0;
        let mut lo = 0;
        for hi in 0..starts.len() {
            while starts[hi] - starts[lo] > Duration::from_secs(1) {
                lo += 1;
            }
            best = best.max(hi - lo + 1);
        }
        best
    }

    proptest! {
        #[test]
        fn no_window_holds_more_than_rate_plus_one(
            rate in 1u32..200,
            gaps in proptest::collection::vec(0u64..30_000, 1..800),
        ) {
            let mut bucket = Bucket::new(f64::from(rate));
            let mut now = Duration::ZERO;
            let mut starts = Vec::new();
            for gap in gaps {
                now += Duration::from_micros(gap);
                let start = bucket.reserve(now);
                prop_assert!(start >= now);
                starts.push(start);
            }
            starts.sort();
            prop_assert!(max_in_window(&starts) <= rate as usize + 1);
        }
    }

    #[test]
    fn unlimited_never_waits() {
        let mut bucket = Bucket::new(0.0);
        for i in 0..100 {
            let now = Duration::from_micros(i);
            assert_eq!(bucket.reserve(now), now);
        }
    }

    #[test]
    fn idle_time_gives_no_burst() {
        let mut bucket = Bucket::new(10.0);
        assert_eq!(
            bucket.reserve(Duration::from_secs(5)),
            Duration::from_secs(5)
        );
        assert_eq!(
            bucket.reserve(Duration::from_secs(5)),
            Duration::from_millis(5100)
        );
    }
}
