//! The check `send` runs before it sends anything: a pre-scan of the whole input that refuses to
//! start (exit 2) when events could trigger campaigns, unless `--allow-recent`.

use std::path::Path;

use anyhow::Result;

use super::{Analyzer, Window};
use crate::cli::MappingArgs;
use crate::exit::{Exit, Fatal};
use crate::pipeline::{Pipeline, PipelineSettings};

/// The `--since` / `--until` window of a command, or a usage error (exit 2) naming the flag.
pub fn window_from_args(args: &MappingArgs) -> Result<Window> {
    Window::from_flags(args.since.as_deref(), args.until.as_deref())
        .map_err(|e| Fatal::new(Exit::Usage, e.to_string()).into())
}

/// Whether the inputs include standard input (no files, or `-`).
pub fn reads_stdin(settings: &PipelineSettings) -> bool {
    settings.files.is_empty() || settings.files.iter().any(|f| f == Path::new("-"))
}

/// The message when `send` would read standard input without `--allow-recent`.
pub const STDIN_REFUSAL: &str = "refusing to send from standard input without --allow-recent: \
     send first checks the whole input for events within the last 72 hours or without a timestamp \
     (they can trigger campaigns), and standard input can be read only once. Save the input to a \
     file and pass the file, or check it with `cio-replay dry-run` and pass --allow-recent. \
     Nothing was sent.";

/// Before `send`: with `allow_recent`, nothing to check (`Ok(None)`). Otherwise read and map the
/// whole input once (streaming, nothing sent; the cost of one extra pass, like `dry-run` without
/// its listing), apply `window`, and refuse with a [`Fatal`] usage error (exit 2) that names the
/// counts and the first locations when any event is within the last 72 hours or has no timestamp.
/// Standard input cannot be read twice, so it is refused without `allow_recent`. On success the
/// analyzer of the pre-scan is returned (its numbers describe what the send will send).
pub fn check_before_send(
    settings: &PipelineSettings,
    window: &Window,
    allow_recent: bool,
    now: i64,
) -> Result<Option<Analyzer>> {
    if allow_recent {
        return Ok(None);
    }
    if reads_stdin(settings) {
        return Err(Fatal::new(Exit::Usage, STDIN_REFUSAL).into());
    }
    let mut analyzer = Analyzer::new(now).with_window(window);
    for item in Pipeline::open(settings.clone())?.with_window(window.clone()) {
        analyzer.observe_item(&item);
    }
    match analyzer.refusal() {
        Some(message) => Err(Fatal::new(Exit::Usage, message).into()),
        None => Ok(Some(analyzer)),
    }
}
