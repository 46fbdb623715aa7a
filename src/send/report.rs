//! What `send` shows: the progress bar while it runs, and the final summary (the dry-run numbers
//! plus what the delivery did) on standard error and as JSON with `--report`.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use serde_json::{Value, json};

use super::{DeliveryReport, DeliveryStats};
use crate::input::Progress;
use crate::progress::{BarKind, bar};

/// The send progress bar: input bytes read (with ETA) and a message with the delivery counts.
pub struct SendProgress {
    bar: ProgressBar,
    input: Progress,
    started: Instant,
    last: Option<Instant>,
}

impl SendProgress {
    pub fn new(show: bool, input: Progress) -> SendProgress {
        let bar = match input.total_bytes {
            Some(total) => bar(show, BarKind::Bytes, total),
            None => bar(show, BarKind::Spinner, 0),
        };
        SendProgress {
            bar,
            input,
            started: Instant::now(),
            last: None,
        }
    }

    /// Redraw (at most ten times a second).
    pub fn update(&mut self, stats: &DeliveryStats) {
        let now = Instant::now();
        if self
            .last
            .is_some_and(|t| now - t < Duration::from_millis(100))
        {
            return;
        }
        self.last = Some(now);
        self.bar
            .set_position(self.input.bytes_read.load(Ordering::Relaxed));
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        self.bar.set_message(format!(
            "{} records · {} accepted · {} rejected · {} failed · {:.0} req/s · {} retries",
            stats.records,
            stats.accepted,
            stats.rejected + stats.invalid,
            stats.failed,
            stats.requests as f64 / secs,
            stats.retries
        ));
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// The delivery lines of the human summary.
/// `resumable`: the run keeps a checkpoint (only then is `--resume` suggested).
pub fn delivery_text(
    report: &DeliveryReport,
    dead_letter: Option<(&str, u64)>,
    resumable: bool,
) -> String {
    let s = &report.stats;
    let secs = report.elapsed.as_secs_f64().max(0.001);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  sent: {} accepted, {} rejected, {} failed ({} operations, {} skipped, {} invalid)",
        s.accepted, s.rejected, s.failed, s.operations, s.skipped, s.invalid
    );
    let _ = writeln!(
        out,
        "  {} requests ({} retries, {} throttled by 429) in {:.1} s: {:.0} operations/s, {:.1} requests/s",
        s.requests,
        s.retries,
        s.throttled,
        secs,
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
            "  {} record{} read but not sent (the run stopped before they settled): {then}",
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
pub fn delivery_json(report: &DeliveryReport, dead_letter: Option<(&str, u64)>) -> Value {
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
pub fn merge(base: &mut Value, extra: Value) {
    if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
        for (k, v) in e {
            b.insert(k, v);
        }
    }
}
