//! Everything cio-replay says on standard error besides its progress bars, in one place: one
//! `cio-replay:` prefix for warnings and errors, and `--quiet` decided here once (ripgrep's
//! `messages.rs` is the model).
//!
//! - [`say!`]: the normal account of a run (banners, summaries, "resuming ..."): hidden by
//!   `--quiet`.
//! - [`warning!`]: `cio-replay: warning: ...`, something the user should act on: always shown.
//! - [`error`]: `cio-replay: error: ...`, the error that ends the run: always shown.
//!
//! Lines about one record or entry (`FILE:LINE: ...`) are the command's output on stderr and use
//! [`say!`] or [`record!`] (always shown) as their command documents.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);

/// Set by the command from `--quiet`, before it says anything.
pub(crate) fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether `--quiet` is in force.
pub(crate) fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Write `text` (a line, or a block that ends with its own newline) unless quiet.
pub(crate) fn say_text(text: fmt::Arguments<'_>) {
    if !quiet() {
        write_line(text);
    }
}

/// Write `text` whatever `--quiet` says.
pub(crate) fn record_text(text: fmt::Arguments<'_>) {
    write_line(text);
}

/// `cio-replay: warning: ...`, always.
pub(crate) fn warn_text(text: fmt::Arguments<'_>) {
    eprintln!("cio-replay: warning: {text}");
}

/// `cio-replay: error: ...`, always: the one line a failed run ends with.
pub fn error(err: &anyhow::Error) {
    eprintln!("cio-replay: error: {err:#}");
}

fn write_line(text: fmt::Arguments<'_>) {
    let text = text.to_string();
    if text.ends_with('\n') {
        eprint!("{text}");
    } else {
        eprintln!("{text}");
    }
}

/// The normal account of a run, hidden by `--quiet` (see the module documentation).
macro_rules! say {
    ($($arg:tt)*) => { $crate::report::messages::say_text(format_args!($($arg)*)) };
}

/// A line about one record or entry, shown even under `--quiet`.
macro_rules! record {
    ($($arg:tt)*) => { $crate::report::messages::record_text(format_args!($($arg)*)) };
}

/// `cio-replay: warning: ...`, always shown.
macro_rules! warning {
    ($($arg:tt)*) => { $crate::report::messages::warn_text(format_args!($($arg)*)) };
}

pub(crate) use {record, say, warning};
