//! What `send` shows: the progress bar while it runs, and the final summary (the dry-run numbers
//! plus what the delivery did) on standard error and as JSON with `--report`.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use serde_json::{Value, json};

use crate::deliver::{Delivered, DeliverySettings, DeliveryStats, Hooks, Settled, Settlement};
use crate::ledger::Closed;
use crate::ledger::dead_letter::DeadLetters;
use crate::ledger::sink::Sink;
use crate::report::messages::say;
use crate::report::progress::line::{Meter, Periodic, RowCounts};
use crate::report::progress::{BarKind, Display, table_bar};
use crate::report::summary::{Summary, TextOptions};
use crate::source::Progress;

/// The send progress: on a terminal a bar of input bytes read over the progress line's header
/// and row; when nobody watches, the plain progress line every interval; or nothing.
pub(crate) struct SendProgress {
    bar: ProgressBar,
    input: Progress,
    meter: Arc<Mutex<Meter>>,
    lines: Option<Periodic>,
    last: Option<Instant>,
}

impl SendProgress {
    pub(crate) fn new(display: Display, input: Progress) -> SendProgress {
        let bar = table_bar(display == Display::Bar, input.total_bytes, BarKind::Bytes);
        let meter = Meter::new(input.total_bytes);
        bar.set_message(meter.row(0, Instant::now()));
        let meter = Arc::new(Mutex::new(meter));
        let lines = Periodic::when(display, &meter, Arc::clone(&input.bytes_read));
        SendProgress {
            bar,
            input,
            meter,
            lines,
            last: None,
        }
    }

    /// Take the counts; redraw the bar (at most ten times a second).
    pub(crate) fn update(&mut self, stats: &DeliveryStats) {
        let now = Instant::now();
        let position = self.input.bytes_read.load(Ordering::Relaxed);
        let counts = RowCounts::of(stats);
        let row = match self.meter.lock() {
            Ok(mut meter) => {
                meter.set(counts, position, now);
                meter.row(position, now)
            }
            Err(_) => return,
        };
        if self
            .last
            .is_some_and(|t| now - t < Duration::from_millis(100))
        {
            return;
        }
        self.last = Some(now);
        self.bar.set_position(position);
        self.bar.set_message(row);
    }

    /// Run `f` (which writes lines on standard error) with the bar out of the way.
    pub(crate) fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.bar.suspend(f)
    }

    pub(crate) fn finish(&mut self) {
        self.bar.finish_and_clear();
        if let Some(mut lines) = self.lines.take() {
            lines.finish();
        }
    }
}

/// What `send` shows while it delivers: the progress, and the first invalid or rejected records
/// as they settle (with the bar out of the way).
pub(crate) struct SendWatch {
    progress: SendProgress,
    problems: Problems,
}

impl SendWatch {
    pub(crate) fn new(display: Display, input: Progress) -> SendWatch {
        SendWatch {
            progress: SendProgress::new(display, input),
            problems: Problems::default(),
        }
    }

    /// The delivery ended: clear the bar, and say how many more problems `dead_letters` holds.
    pub(crate) fn finish(&mut self, dead_letters: &std::path::Path) {
        self.progress.finish();
        if let Some(line) = self.problems.more_line(&dead_letters.display().to_string()) {
            say!("{line}");
        }
    }
}

impl Hooks for SendWatch {
    fn on_record(&mut self, settlement: &Settlement) {
        if let Some(line) = self.problems.line(settlement) {
            self.progress.suspend(|| say!("{line}"));
        }
    }

    fn on_tick(&mut self, stats: &DeliveryStats) {
        self.progress.update(stats);
    }
}

/// How many invalid or rejected records `send` names as they settle.
pub(crate) const SHOWN_PROBLEMS: u64 = 10;

/// The first [`SHOWN_PROBLEMS`] invalid or rejected records, as `FILE:LINE: reason` lines on
/// standard error (hidden by `--quiet`), and the count of the others.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    shown: u64,
    more: u64,
}

impl Problems {
    /// The line to print for `settlement`, if it is among the first problems (counted otherwise).
    pub(crate) fn line(&mut self, settlement: &Settlement) -> Option<String> {
        let what = match &settlement.result {
            Settled::Invalid { reason } => reason.clone(),
            Settled::Rejected { status, reason } => match status {
                Some(s) => format!("rejected ({s}): {reason}"),
                None => format!("rejected: {reason}"),
            },
            _ => return None,
        };
        if self.shown >= SHOWN_PROBLEMS {
            self.more += 1;
            return None;
        }
        self.shown += 1;
        Some(terminal_safe(&format!(
            "{}: {what}",
            settlement.record.location
        )))
    }

    /// "and N more in FILE" when more problems settled than were shown.
    pub(crate) fn more_line(&self, dead_letter: &str) -> Option<String> {
        (self.more > 0).then(|| {
            format!(
                "and {} more invalid or rejected record{} in {dead_letter}",
                self.more,
                if self.more == 1 { "" } else { "s" }
            )
        })
    }
}

/// Control characters (escapes, carriage returns) of untrusted text shown as `\u{..}`.
fn terminal_safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                format!("\\u{{{:x}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The line a sending command begins with: where it sends, and how.
pub(crate) fn banner(command: &str, target: &str, delivery: &DeliverySettings) -> String {
    let rate = match delivery.rate {
        r if r > 0.0 => format!("{r} requests/s"),
        _ => "no rate limit".to_string(),
    };
    let lanes = delivery.lanes();
    format!(
        "cio-replay {command}: to {target} ({} mode, {rate}, {lanes} lane{})",
        delivery.mode.name(),
        if lanes == 1 { "" } else { "s" }
    )
}

/// The delivery lines of the human summary.
/// `resumable`: the run keeps a checkpoint (only then is `--resume` suggested, and the counts are
/// labelled as this run's, beside the checkpoint's whole-job line).
pub(crate) fn delivery_text(
    report: &Delivered,
    dead_letter: Option<(&str, u64)>,
    resumable: bool,
) -> String {
    let s = &report.stats;
    let secs = report.elapsed.as_secs_f64().max(0.001);
    let mut out = String::new();
    // With a checkpoint the job may span runs: these counts are this run's, the session's
    // "whole job so far" line all runs'.
    let _ = writeln!(
        out,
        "  {}: {} accepted, {} rejected, {} failed",
        if resumable { "this run sent" } else { "sent" },
        s.accepted,
        s.rejected,
        s.failed
    );
    let _ = writeln!(
        out,
        "    ({} operations, {} skipped, {} invalid)",
        s.operations, s.skipped, s.invalid
    );
    let _ = writeln!(
        out,
        "  {} requests ({} retries, {} throttled by 429) in {:.1} s",
        s.requests, s.retries, s.throttled, secs,
    );
    let _ = writeln!(
        out,
        "  {:.0} operations/s, {:.1} requests/s",
        s.accepted as f64 / secs,
        s.requests as f64 / secs
    );
    if s.ignored_errors > 0 {
        let _ = writeln!(
            out,
            "  warning: {} error entries of 207 replies had no usable batch_index and were ignored \
             (their operations count as accepted)",
            s.ignored_errors
        );
    }
    if s.unsent > 0 {
        let then = if resumable {
            "run the same command with --resume to send them"
        } else {
            "without --checkpoint they are sent only by running the whole input again"
        };
        let _ = writeln!(
            out,
            "  {} record{} read but not sent (the run stopped before they settled):\n    {then}",
            s.unsent,
            if s.unsent == 1 { "" } else { "s" }
        );
    }
    if let Some(limit) = report.limit_reached {
        let then = if resumable {
            "run the same command with --resume and without --limit to send the rest"
        } else {
            "without --checkpoint the rest is sent only by running the whole input again"
        };
        let _ = writeln!(
            out,
            "  stopped after the first {limit} record{} (--limit): {then}",
            if limit == 1 { "" } else { "s" }
        );
    }
    if let Some((path, n)) = dead_letter.filter(|(_, n)| *n > 0) {
        let _ = writeln!(out, "  {n} dead letters written to {path}");
    }
    out
}

/// The delivery fields of the JSON report (merged into the dry-run summary's fields).
pub(crate) fn delivery_json(report: &Delivered, dead_letter: Option<(&str, u64)>) -> Value {
    let s = &report.stats;
    let secs = report.elapsed.as_secs_f64();
    let per_sec = |n: u64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
    json!({
        "accepted": s.accepted,
        "rejected": s.rejected,
        "failed": s.failed,
        "operations": s.operations,
        "requests_sent": s.requests,
        "retries": s.retries,
        "throttled": s.throttled,
        "bytes_sent": s.bytes_sent,
        "ignored_error_entries": s.ignored_errors,
        "unsent": s.unsent,
        "send_seconds": secs,
        "operations_per_second": per_sec(s.accepted),
        "requests_per_second": per_sec(s.requests),
        "dead_letter": dead_letter.filter(|(_, n)| *n > 0).map(|(p, _)| p),
        "dead_letters": dead_letter.map_or(0, |(_, n)| n),
        "halted": report.halted.as_ref().map(|h| h.message.clone()),
        "interrupted": report.stopped_early,
        "limit_reached": report.limit_reached,
        "watermarks": report.watermarks.iter().map(|(i, w)| json!({"input": i, "settled_below": w})).collect::<Vec<_>>(),
    })
}

/// Merge `extra`'s fields into the object `base`.
pub(crate) fn merge(base: &mut Value, extra: Value) {
    if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
        for (k, v) in e {
            b.insert(k, v);
        }
    }
}

/// Say how a `send` went: the dry-run numbers of what it read (`summary`, without its estimate of
/// the requests: the real ones follow), what the delivery did, and with a checkpoint what the whole
/// job amounts to.
pub(crate) fn say_summary(summary: &Summary, report: &Delivered, ledger: &Closed<DeadLetters>) {
    let options = TextOptions {
        request_estimate: false,
    };
    let path = ledger.path().display().to_string();
    let checkpointed = ledger.checkpointed();
    say!("{}", summary.render_text("send", options));
    let dead = Some((path.as_str(), ledger.entries()));
    say!("{}", delivery_text(report, dead, checkpointed));
    if checkpointed {
        say!("{}", job_text(ledger));
    }
}

/// Lines for the human summary of a checkpointed job: what earlier runs did and the totals of the
/// whole job.
pub(crate) fn job_text<S: Sink>(ledger: &Closed<S>) -> String {
    let mut out = String::new();
    let path = ledger.path().display();
    if ledger.resumed() {
        let e = ledger.earlier();
        let _ = writeln!(
            out,
            "  resumed: {} records settled by earlier runs were skipped ({} accepted, {} skipped, {} invalid, {} rejected, {} failed)",
            e.read, e.accepted, e.skipped, e.invalid, e.rejected, e.failed
        );
    }
    let t = ledger.totals();
    let _ = writeln!(
        out,
        "  whole job so far (all runs of this checkpoint): {} records:\n    {} accepted, {} skipped, {} dead-lettered\n    to {path} ({} invalid, {} rejected, {} failed)",
        t.read,
        t.accepted,
        t.skipped,
        t.invalid + t.rejected + t.failed,
        t.invalid,
        t.rejected,
        t.failed
    );
    if !ledger.checkpoint().finished {
        let _ = writeln!(
            out,
            "  not finished: run the same command with --resume to continue"
        );
    }
    out
}

/// The `checkpoint` object of the JSON report.
pub(crate) fn job_json<S: Sink>(ledger: &Closed<S>) -> Value {
    let cp = ledger.checkpoint();
    json!({
        "checkpoint": {
            "resumed": ledger.resumed(),
            "finished": cp.finished,
            "earlier_runs": ledger.earlier(),
            "all_runs": cp.counters,
            "watermarks": cp.inputs.iter().map(|i| json!({"input": i.fingerprint.path, "watermark": i.watermark, "settled_above": i.settled, "finished": i.finished})).collect::<Vec<_>>(),
        }
    })
}
