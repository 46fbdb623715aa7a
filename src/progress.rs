//! The only place that builds progress bars: hidden when standard error is not a terminal, under
//! `--quiet` or `--progress never`; drawn on standard error otherwise.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// When bars draw (`--progress`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// Only when standard error is a terminal.
    Auto,
    Always,
    Never,
}

/// Whether bars should draw: never under `quiet`, else as `when` says of standard error.
pub fn enabled(when: When, quiet: bool) -> bool {
    if quiet {
        return false;
    }
    match when {
        When::Always => true,
        When::Never => false,
        When::Auto => std::io::stderr().is_terminal(),
    }
}

/// What a bar counts.
#[derive(Debug, Clone, Copy)]
pub enum BarKind {
    /// Bytes of input read, of a known total (with ETA).
    Bytes,
    /// A count of items (operations, people), of a known total.
    Items,
    /// A spinner with a message (unknown total, e.g. stdin).
    Spinner,
}

/// Build a bar of `kind` with `total` (ignored for spinners); hidden when `show` is false.
pub fn bar(show: bool, kind: BarKind, total: u64) -> ProgressBar {
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
