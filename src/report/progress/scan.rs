//! The progress of a read through the whole input before anything is sent (`send`'s pre-scan):
//! the bar of input bytes on a terminal, a plain row every interval when nobody watches
//! (`pre-scan: N records, X of Y MB`), or nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::ProgressBar;

use super::line::Periodic;
use super::{BarKind, Display, bar};
use crate::source::Progress;

/// How often (in records) the bar is redrawn.
const REDRAW_EVERY: u64 = 256;

/// The progress of one read of the input, named `what` (`pre-scan`).
pub(crate) struct ScanProgress {
    what: &'static str,
    bar: ProgressBar,
    input: Progress,
    records: Arc<AtomicU64>,
    lines: Option<Periodic>,
}

impl ScanProgress {
    pub(crate) fn new(what: &'static str, display: Display, input: Progress) -> ScanProgress {
        let bar = match input.total_bytes {
            Some(total) => bar(display == Display::Bar, BarKind::Bytes, total),
            None => bar(display == Display::Bar, BarKind::Spinner, 0),
        };
        let records = Arc::new(AtomicU64::new(0));
        let lines = match display {
            Display::Lines(interval) => {
                let (records, input) = (Arc::clone(&records), input.clone());
                Some(Periodic::every(interval, move || {
                    Some(row(what, records.load(Ordering::Relaxed), &input))
                }))
            }
            _ => None,
        };
        let progress = ScanProgress {
            what,
            bar,
            input,
            records,
            lines,
        };
        progress.redraw(0);
        progress
    }

    /// Count one record read; redraw the bar now and then.
    pub(crate) fn tick(&self) {
        let n = self.records.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_multiple_of(REDRAW_EVERY) {
            self.redraw(n);
        }
    }

    /// Records read so far.
    pub(crate) fn records(&self) -> u64 {
        self.records.load(Ordering::Relaxed)
    }

    /// What has been read: `1200 records, 0.3 of 1.2 MB`.
    pub(crate) fn so_far(&self) -> String {
        so_far(self.records(), &self.input)
    }

    fn redraw(&self, records: u64) {
        self.bar
            .set_position(self.input.bytes_read.load(Ordering::Relaxed));
        self.bar
            .set_message(format!("{}: {records} records", self.what));
    }

    /// Remove the bar and stop the rows (before anything else is said).
    pub(crate) fn finish(&mut self) {
        self.bar.finish_and_clear();
        if let Some(mut lines) = self.lines.take() {
            lines.finish();
        }
    }
}

impl Drop for ScanProgress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// `pre-scan: 1200 records, 0.3 of 1.2 MB` (`of ...` only when the total is known).
fn row(what: &str, records: u64, input: &Progress) -> String {
    format!("{what}: {}", so_far(records, input))
}

fn so_far(records: u64, input: &Progress) -> String {
    let mb = |bytes: u64| bytes as f64 / 1_000_000.0;
    let read = mb(input.bytes_read.load(Ordering::Relaxed));
    match input.total_bytes {
        Some(total) => format!("{records} records, {read:.1} of {:.1} MB", mb(total)),
        None => format!("{records} records, {read:.1} MB"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_row_says_records_and_megabytes_of_the_total() {
        let input = Progress {
            total_bytes: Some(12_500_000),
            bytes_read: Arc::new(AtomicU64::new(2_340_000)),
        };
        assert_eq!(
            row("pre-scan", 1200, &input),
            "pre-scan: 1200 records, 2.3 of 12.5 MB"
        );
        let stdin = Progress {
            total_bytes: None,
            ..input
        };
        assert_eq!(row("pre-scan", 7, &stdin), "pre-scan: 7 records, 2.3 MB");
    }
}
