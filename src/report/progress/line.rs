//! The plain progress line of an unattended run: one row of counts every [`INTERVAL`] under one
//! header, each cell right-aligned in a fixed width so that the row fits 80 columns whatever the
//! numbers (a count too wide for its cell is shortened to `12.3M`). The same row is the message of
//! the terminal's bar.

use std::fmt::Write as _;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::deliver::DeliveryStats;

/// How often the progress line is written when standard error is not a terminal.
pub(crate) const INTERVAL: Duration = Duration::from_secs(30);

/// The widest a progress row or header may be.
#[cfg(test)]
pub(crate) const WIDTH: usize = 80;

/// The columns: header and cell width.
const COLUMNS: [(&str, usize); 9] = [
    ("elapsed", 8),
    ("read", 9),
    ("accepted", 9),
    ("rejected", 8),
    ("failed", 7),
    ("req/s", 6),
    ("retries", 7),
    ("throttled", 9),
    ("ETA", 8),
];

/// The counts a row shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RowCounts {
    pub(crate) read: u64,
    pub(crate) accepted: u64,
    /// Rejected and invalid records.
    pub(crate) rejected: u64,
    pub(crate) failed: u64,
    pub(crate) requests: u64,
    pub(crate) retries: u64,
    /// 429 replies.
    pub(crate) throttled: u64,
}

impl RowCounts {
    /// The counts of a delivery as a row shows them (invalid records with the rejected).
    pub(crate) fn of(stats: &DeliveryStats) -> RowCounts {
        RowCounts {
            read: stats.records,
            accepted: stats.accepted,
            rejected: stats.rejected + stats.invalid,
            failed: stats.failed,
            requests: stats.requests,
            retries: stats.retries,
            throttled: stats.throttled,
        }
    }
}

/// What a row is computed from: the counts, and how far the work is (input bytes, or people),
/// measured from where real work started so that what a resume skipped is not taken as speed.
#[derive(Debug, Clone)]
pub(crate) struct Meter {
    started: Instant,
    total: Option<u64>,
    /// The position and time at which real work started (the first tick with a record).
    base: Option<(u64, Instant)>,
    position: u64,
    pub(crate) counts: RowCounts,
}

impl Meter {
    /// A meter of work of `total` units (`None`: unknown, as for standard input).
    pub(crate) fn new(total: Option<u64>) -> Meter {
        Meter {
            started: Instant::now(),
            total,
            base: None,
            position: 0,
            counts: RowCounts::default(),
        }
    }

    /// Record the counts and the position now; the first call with a record read is where
    /// the rate is measured from (a resume's skipped records come before it).
    pub(crate) fn set(&mut self, counts: RowCounts, position: u64, now: Instant) {
        if self.base.is_none() && counts.read > 0 {
            self.base = Some((position, now));
        }
        self.counts = counts;
        self.position = position;
    }

    /// The time left at the rate since real work started, when it can be told.
    pub(crate) fn eta(&self, position: u64, now: Instant) -> Option<Duration> {
        let total = self.total?;
        let (base, since) = self.base?;
        let secs = now.saturating_duration_since(since).as_secs_f64();
        let done = position.saturating_sub(base);
        if done == 0 || secs < 0.5 {
            return None;
        }
        let left = total.saturating_sub(position) as f64;
        Some(Duration::try_from_secs_f64(left * secs / done as f64).unwrap_or(Duration::MAX))
    }

    /// The row as of `now`, with the work at `position` (which may be ahead of the last
    /// [`Meter::set`]: bytes are read between ticks).
    pub(crate) fn row(&self, position: u64, now: Instant) -> String {
        let position = position.max(self.position);
        let c = &self.counts;
        let per_sec = match self.base {
            Some((_, since)) => {
                let secs = now.saturating_duration_since(since).as_secs_f64();
                if secs > 0.0 {
                    c.requests as f64 / secs
                } else {
                    0.0
                }
            }
            None => 0.0,
        };
        let rate = if per_sec < 100.0 {
            format!("{per_sec:.1}")
        } else {
            count(per_sec as u64, 6)
        };
        let eta = self
            .eta(position, now)
            .map_or_else(|| "-".to_string(), duration);
        let cells = [
            duration(now.saturating_duration_since(self.started)),
            count(c.read, 9),
            count(c.accepted, 9),
            count(c.rejected, 8),
            count(c.failed, 7),
            rate,
            count(c.retries, 7),
            count(c.throttled, 9),
            eta,
        ];
        join(cells.iter().map(String::as_str))
    }
}

/// The header over the rows.
pub(crate) fn header() -> String {
    join(COLUMNS.iter().map(|(name, _)| *name))
}

fn join<'a>(cells: impl Iterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for ((_, width), cell) in COLUMNS.iter().zip(cells) {
        if !out.is_empty() {
            out.push(' ');
        }
        let _ = write!(out, "{cell:>width$}");
    }
    out
}

/// `n` exactly when it fits `width`, else shortened (`123.4k`, `12.3M`, `1.2G`).
pub(crate) fn count(n: u64, width: usize) -> String {
    let exact = n.to_string();
    if exact.len() <= width {
        return exact;
    }
    let mut value = n as f64;
    for unit in ["k", "M", "G", "T", "P", "E"] {
        value /= 1000.0;
        let short = format!("{value:.1}{unit}");
        if short.len() <= width {
            return short;
        }
    }
    "many".to_string()
}

/// `h:mm:ss`, or `123h04m` past 99 hours.
pub(crate) fn duration(d: Duration) -> String {
    let s = d.as_secs();
    let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60);
    if h > 99 {
        if h > 99_999 {
            return ">99999h".to_string();
        }
        return format!("{h}h{m:02}m");
    }
    format!("{h}:{m:02}:{sec:02}")
}

/// A thread that writes the header and then a row every interval, until [`Periodic::finish`].
pub(crate) struct Periodic {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Periodic {
    /// Write `meter`'s row (with the work at `position()`) every `interval`.
    pub(crate) fn start(
        interval: Duration,
        meter: Arc<Mutex<Meter>>,
        position: impl Fn() -> u64 + Send + 'static,
    ) -> Periodic {
        let mut first = true;
        Periodic::every(interval, move || {
            let row = match meter.lock() {
                Ok(m) => m.row(position(), Instant::now()),
                Err(_) => return None,
            };
            if first {
                first = false;
                return Some(format!("{}\n{row}", header()));
            }
            Some(row)
        })
    }

    /// [`Periodic::start`] when `display` shows lines (nobody watches a terminal): `meter`'s row
    /// with the work `position` holds.
    pub(crate) fn when(
        display: super::Display,
        meter: &Arc<Mutex<Meter>>,
        position: Arc<std::sync::atomic::AtomicU64>,
    ) -> Option<Periodic> {
        let super::Display::Lines(interval) = display else {
            return None;
        };
        Some(Periodic::start(interval, Arc::clone(meter), move || {
            position.load(std::sync::atomic::Ordering::Relaxed)
        }))
    }

    /// Write what `row()` says every `interval` (until it says `None`, or [`Periodic::finish`]).
    pub(crate) fn every(
        interval: Duration,
        mut row: impl FnMut() -> Option<String> + Send + 'static,
    ) -> Periodic {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("progress-line".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
                    match row() {
                        Some(text) => crate::report::messages::record!("{text}"),
                        None => return,
                    }
                }
            })
            .ok();
        Periodic {
            stop: Some(stop),
            thread,
        }
    }

    /// Stop writing (returns once the thread is done, so no row follows the summary).
    pub(crate) fn finish(&mut self) {
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Periodic {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_widest_row_fits_80_columns() {
        let mut m = Meter::new(Some(u64::MAX));
        let t0 = m.started;
        let all = u64::MAX / 2;
        let counts = RowCounts {
            read: all,
            accepted: all,
            rejected: all,
            failed: all,
            requests: all,
            retries: all,
            throttled: all,
        };
        m.set(counts, 1, t0);
        let later = t0 + Duration::from_secs(400 * 3600);
        let row = m.row(2, later);
        assert!(row.chars().count() <= WIDTH, "{row} ({})", row.len());
        assert!(header().len() <= WIDTH);
        assert_eq!(row.len(), header().len(), "{row}\n{}", header());
    }

    #[test]
    fn counts_are_exact_when_they_fit() {
        assert_eq!(count(12_345_678, 9), "12345678");
        assert_eq!(count(1_234_567_890, 9), "1234.6M");
        assert_eq!(count(12_345_678, 7), "12.3M");
        assert_eq!(duration(Duration::from_secs(3723)), "1:02:03");
        assert_eq!(duration(Duration::from_secs(123 * 3600 + 240)), "123h04m");
    }

    #[test]
    fn skipped_bytes_before_real_work_are_not_speed() {
        // A resume skipped 900 of 1000 bytes at once; then 10 bytes took 10 seconds.
        let mut m = Meter::new(Some(1000));
        let t0 = m.started;
        m.set(RowCounts::default(), 900, t0);
        assert_eq!(m.eta(900, t0), None, "no rate before a record is read");
        let counts = RowCounts {
            read: 1,
            ..RowCounts::default()
        };
        m.set(counts, 900, t0 + Duration::from_secs(1));
        let eta = m.eta(910, t0 + Duration::from_secs(11)).expect("an ETA");
        // 90 bytes left at 1 byte/s, not at 910/11 bytes/s.
        assert_eq!(eta.as_secs(), 90);
        assert!(
            m.row(910, t0 + Duration::from_secs(11))
                .ends_with(" 0:01:30")
        );
    }

    #[test]
    fn no_eta_without_a_total() {
        let mut m = Meter::new(None);
        let t0 = m.started;
        let counts = RowCounts {
            read: 5,
            ..RowCounts::default()
        };
        m.set(counts, 10, t0);
        assert_eq!(m.eta(100, t0 + Duration::from_secs(5)), None);
        assert!(m.row(100, t0 + Duration::from_secs(5)).ends_with(" -"));
    }
}
