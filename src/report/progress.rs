//! The only place that builds progress bars: hidden when standard error is not a terminal, under
//! `--quiet` or `--progress never`; drawn on standard error otherwise. A long run (`send`, `gdpr`)
//! whose standard error is not a terminal writes the plain progress line instead ([`line`]).

pub(crate) mod line;
pub(crate) mod scan;

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// When bars draw (`--progress`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum When {
    /// Only when standard error is a terminal.
    Auto,
    Always,
    Never,
}

/// Whether bars should draw: never under `quiet`, else as `when` says of standard error.
pub(crate) fn enabled(when: When, quiet: bool) -> bool {
    if quiet {
        return false;
    }
    match when {
        When::Always => true,
        When::Never => false,
        When::Auto => std::io::stderr().is_terminal(),
    }
}

/// How a long run shows its progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Display {
    /// The bar, on a terminal.
    Bar,
    /// A plain progress line every so often ([`line::INTERVAL`] unless told otherwise).
    Lines(Duration),
    /// Nothing (`--quiet`, `--progress never`).
    Hidden,
}

/// How a long run shows progress: nothing under `quiet` or `never`; the bar when standard error
/// is a terminal; else the progress line every `interval`.
pub(crate) fn display(when: When, quiet: bool, interval: Duration) -> Display {
    display_on(when, quiet, interval, std::io::stderr().is_terminal())
}

fn display_on(when: When, quiet: bool, interval: Duration, terminal: bool) -> Display {
    match (quiet, when, terminal) {
        (true, ..) | (_, When::Never, _) => Display::Hidden,
        (_, _, true) => Display::Bar,
        (_, _, false) => Display::Lines(interval),
    }
}

/// A bar whose second and third lines are the progress line's header and the row (its message):
/// input bytes of `total`, or a spinner when the total is unknown; hidden when `show` is false.
pub(crate) fn table_bar(show: bool, total: Option<u64>, unit: BarKind) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let (bar, first) = match (total, unit) {
        (Some(total), BarKind::Bytes) => (
            ProgressBar::new(total),
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes}",
        ),
        (Some(total), _) => (
            ProgressBar::new(total),
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len}",
        ),
        (None, _) => (ProgressBar::new_spinner(), "{spinner} [{elapsed_precise}]"),
    };
    let template = format!("{first}\n{}\n{{msg}}", line::header());
    let style = ProgressStyle::with_template(&template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_draw_target(ProgressDrawTarget::stderr_with_hz(10));
    bar
}

/// What a bar counts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum BarKind {
    /// Bytes of input read, of a known total (with ETA).
    Bytes,
    /// A count of items (operations, people), of a known total.
    Items,
    /// A spinner with a message (unknown total, e.g. stdin).
    Spinner,
}

/// Build a bar of `kind` with `total` (ignored for spinners); hidden when `show` is false.
pub(crate) fn bar(show: bool, kind: BarKind, total: u64) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let (bar, template) = match kind {
        BarKind::Bytes => (
            ProgressBar::new(total),
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({eta}) {msg}",
        ),
        BarKind::Items => (
            ProgressBar::new(total),
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec}, {eta}) {msg}",
        ),
        BarKind::Spinner => (
            ProgressBar::new_spinner(),
            "{spinner} [{elapsed_precise}] {msg}",
        ),
    };
    let style = ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_draw_target(ProgressDrawTarget::stderr_with_hz(10));
    bar
}

/// A progress bar over the pipeline's input bytes (a spinner counting records when the total is
/// unknown, as for stdin); hidden unless `show`.
pub(crate) struct Ticker {
    bar: indicatif::ProgressBar,
    progress: crate::source::Progress,
    records: u64,
}

impl Ticker {
    pub(crate) fn new(show: bool, progress: crate::source::Progress) -> Ticker {
        let bar = match progress.total_bytes {
            Some(total) => bar(show, BarKind::Bytes, total),
            None => bar(show, BarKind::Spinner, 0),
        };
        Ticker {
            bar,
            progress,
            records: 0,
        }
    }

    /// Count one record; redraws now and then.
    pub(crate) fn tick(&mut self) {
        self.records += 1;
        if self.records.is_multiple_of(256) {
            self.update();
        }
    }

    fn update(&self) {
        let read = self
            .progress
            .bytes_read
            .load(std::sync::atomic::Ordering::Relaxed);
        match self.progress.total_bytes {
            Some(_) => self.bar.set_position(read),
            None => self.bar.set_message(format!("{} records", self.records)),
        }
    }

    /// Remove the bar (before the summary is printed).
    pub(crate) fn finish(&self) {
        self.update();
        self.bar.finish_and_clear();
    }

    /// Input bytes read so far.
    pub(crate) fn bytes_read(&self) -> u64 {
        self.progress
            .bytes_read
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_when_nobody_watches_the_bar_on_a_terminal_nothing_when_told() {
        let i = Duration::from_millis(200);
        assert_eq!(display_on(When::Auto, false, i, false), Display::Lines(i));
        assert_eq!(display_on(When::Always, false, i, false), Display::Lines(i));
        assert_eq!(display_on(When::Auto, false, i, true), Display::Bar);
        assert_eq!(display_on(When::Always, false, i, true), Display::Bar);
        assert_eq!(display_on(When::Never, false, i, false), Display::Hidden);
        assert_eq!(display_on(When::Never, false, i, true), Display::Hidden);
        assert_eq!(display_on(When::Auto, true, i, false), Display::Hidden);
        assert_eq!(display_on(When::Always, true, i, true), Display::Hidden);
    }
}
