//! The run summary of validate and dry-run: counts of records by outcome and action, the requests a
//! send would make (packed like the sender packs), bytes and time; printed for people on standard
//! error and written as JSON with `--summary-json`.
//!
//! JSON fields (stable; scripts rely on them):
//!
//! | field | meaning |
//! | --- | --- |
//! | `records` | records read (blank lines are not records) |
//! | `mapped`, `skipped`, `invalid` | records per outcome; they add up to `records` |
//! | `invalid_unrouted` | invalid records that never reached an action (unreadable, no `type`...) |
//! | `read_errors` | inputs cut short by a read error (truncated or corrupt compressed data, I/O, a JSON array that cannot be split); each is also one of the `invalid` records |
//! | `actions` | every one of the 15 actions by CLI name: `{"mapped","skipped","invalid"}` |
//! | `mode` | `batch` or `sequential` |
//! | `requests` | `{"total","batch","entity","metrics"}`: requests the send would make, per endpoint |
//! | `operation_bytes` | compact JSON bytes of all mapped operations |
//! | `request_bytes` | request body bytes the send would post (batch envelopes and commas included) |
//! | `batch_size`, `batch_bytes` | the packing limits assumed |
//! | `rate` | requests per second assumed |
//! | `estimated_seconds` | `requests.total / rate` |
//! | `input_bytes` | input bytes read (as stored, so compressed for `.gz`) |
//! | `elapsed_seconds` | how long this run took |

mod tally;
pub use tally::Tally;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;

use serde_json::{Value, json};

use crate::input::Location;
use crate::mapping::Outcome;
use crate::mapping::limits::json_bytes;
use crate::track::{Action, Endpoint, Mode};

/// How many read-error places the text summary names.
const MAX_READ_ERROR_PLACES: usize = 5;

/// `{"batch":[` and `]}` around a batch's operations.
pub const BATCH_ENVELOPE_BYTES: usize = r#"{"batch":[]}"#.len();

/// Records by outcome for one action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub mapped: u64,
    pub skipped: u64,
    pub invalid: u64,
}

/// Packs operations into requests the way the sender does: batch operations in input order into
/// `/api/v2/batch` requests of at most `batch_size` operations and `batch_bytes` body bytes (envelope
/// and commas included); metrics and sequential operations one per request.
#[derive(Debug, Clone)]
pub struct RequestPlan {
    pub mode: Mode,
    pub batch_size: usize,
    pub batch_bytes: usize,
    pub batch_requests: u64,
    pub entity_requests: u64,
    pub metrics_requests: u64,
    pub request_bytes: u64,
    open_count: usize,
    open_bytes: usize,
}

impl RequestPlan {
    pub fn new(mode: Mode, batch_size: usize, batch_bytes: usize) -> RequestPlan {
        RequestPlan {
            mode,
            batch_size: batch_size.max(1),
            batch_bytes,
            batch_requests: 0,
            entity_requests: 0,
            metrics_requests: 0,
            request_bytes: 0,
            open_count: 0,
            open_bytes: 0,
        }
    }

    /// Add one operation of `bytes` compact JSON bytes going to `endpoint`.
    pub fn add(&mut self, endpoint: Endpoint, bytes: usize) {
        match endpoint {
            Endpoint::Metrics => {
                self.metrics_requests += 1;
                self.request_bytes += bytes as u64;
            }
            Endpoint::Entity => {
                self.entity_requests += 1;
                self.request_bytes += bytes as u64;
            }
            Endpoint::Batch => {
                let full = self.open_count > 0
                    && (self.open_count >= self.batch_size
                        || self.open_bytes + 1 + bytes > self.batch_bytes);
                if full {
                    self.close();
                }
                if self.open_count == 0 {
                    self.open_bytes = BATCH_ENVELOPE_BYTES + bytes;
                } else {
                    self.open_bytes += 1 + bytes;
                }
                self.open_count += 1;
            }
        }
    }

    /// Close the open batch, if any (call once at the end).
    pub fn close(&mut self) {
        if self.open_count > 0 {
            self.batch_requests += 1;
            self.request_bytes += self.open_bytes as u64;
            self.open_count = 0;
            self.open_bytes = 0;
        }
    }

    pub fn total_requests(&self) -> u64 {
        self.batch_requests + self.entity_requests + self.metrics_requests
    }
}

/// The numbers of one validate or dry-run.
#[derive(Debug, Clone)]
pub struct Summary {
    pub records: u64,
    pub mapped: u64,
    pub skipped: u64,
    pub invalid: u64,
    pub invalid_unrouted: u64,
    /// Inputs cut short by a read error (each also counted as an invalid record).
    pub read_errors: u64,
    /// Where the first few read errors happened (`FILE:LINE`), for the text summary.
    pub read_error_places: Vec<String>,
    pub actions: BTreeMap<Action, Counts>,
    pub operation_bytes: u64,
    pub plan: RequestPlan,
    pub rate: f64,
    pub input_bytes: u64,
    pub elapsed_seconds: f64,
    /// Campaign-trigger warnings, time range and histogram (`safety` in JSON), when analyzed.
    pub safety: Option<crate::safety::Analyzer>,
}

impl Summary {
    pub fn new(plan: RequestPlan, rate: f64) -> Summary {
        Summary {
            records: 0,
            mapped: 0,
            skipped: 0,
            invalid: 0,
            invalid_unrouted: 0,
            read_errors: 0,
            read_error_places: Vec::new(),
            actions: BTreeMap::new(),
            operation_bytes: 0,
            plan,
            rate,
            input_bytes: 0,
            elapsed_seconds: 0.0,
            safety: None,
        }
    }

    /// Count one record's outcome; `op_bytes` is the operation's compact JSON size when known
    /// (measured here otherwise).
    pub fn add(&mut self, outcome: &Outcome, op_bytes: Option<usize>) {
        self.records += 1;
        match outcome {
            Outcome::Mapped(op) => {
                self.mapped += 1;
                self.actions.entry(op.action).or_default().mapped += 1;
                let bytes = op_bytes.unwrap_or_else(|| json_bytes(&op.body));
                self.operation_bytes += bytes as u64;
                self.plan.add(op.endpoint(self.plan.mode), bytes);
            }
            Outcome::Skipped { action, .. } => {
                self.skipped += 1;
                self.actions.entry(*action).or_default().skipped += 1;
            }
            Outcome::Invalid(invalid) => {
                self.invalid += 1;
                match invalid.action {
                    Some(action) => self.actions.entry(action).or_default().invalid += 1,
                    None => self.invalid_unrouted += 1,
                }
            }
        }
    }

    /// Note a read error at `location` (its record is counted by [`Summary::add`] as well).
    pub fn add_read_error(&mut self, location: &Location) {
        self.read_errors += 1;
        if self.read_error_places.len() < MAX_READ_ERROR_PLACES {
            self.read_error_places.push(location.to_string());
        }
    }

    /// Close the request plan; call once when every record is counted.
    pub fn finish(&mut self, input_bytes: u64, elapsed_seconds: f64) {
        self.plan.close();
        self.input_bytes = input_bytes;
        self.elapsed_seconds = elapsed_seconds;
    }

    pub fn estimated_seconds(&self) -> f64 {
        if self.rate > 0.0 {
            self.plan.total_requests() as f64 / self.rate
        } else {
            0.0
        }
    }

    /// The summary as JSON (the fields documented at the top of this module).
    pub fn to_json(&self) -> Value {
        let actions: serde_json::Map<String, Value> = Action::ALL
            .iter()
            .map(|action| {
                let c = self.actions.get(action).copied().unwrap_or_default();
                let counts =
                    json!({"mapped": c.mapped, "skipped": c.skipped, "invalid": c.invalid});
                (action.name().to_owned(), counts)
            })
            .collect();
        let mut summary = json!({
            "records": self.records,
            "mapped": self.mapped,
            "skipped": self.skipped,
            "invalid": self.invalid,
            "invalid_unrouted": self.invalid_unrouted,
            "read_errors": self.read_errors,
            "actions": actions,
            "mode": match self.plan.mode { Mode::Batch => "batch", Mode::Sequential => "sequential" },
            "requests": {
                "total": self.plan.total_requests(),
                "batch": self.plan.batch_requests,
                "entity": self.plan.entity_requests,
                "metrics": self.plan.metrics_requests,
            },
            "operation_bytes": self.operation_bytes,
            "request_bytes": self.plan.request_bytes,
            "batch_size": self.plan.batch_size,
            "batch_bytes": self.plan.batch_bytes,
            "rate": self.rate,
            "estimated_seconds": self.estimated_seconds(),
            "input_bytes": self.input_bytes,
            "elapsed_seconds": self.elapsed_seconds,
        });
        if let Some(analyzer) = &self.safety {
            summary["safety"] = serde_json::to_value(analyzer.report()).unwrap_or(Value::Null);
        }
        summary
    }

    /// The human summary, several lines, for standard error (with the request estimate).
    pub fn to_text(&self, command: &str) -> String {
        self.render_text(command, TextOptions::default())
    }

    /// The human summary, several lines, rendered as `options` say.
    pub fn render_text(&self, command: &str, options: TextOptions) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "cio-replay {command}: {} records read: {} mapped, {} skipped, {} invalid",
            self.records, self.mapped, self.skipped, self.invalid
        );
        if !self.actions.is_empty() {
            let _ = writeln!(
                out,
                "  {:<24}{:>7}{:>9}{:>9}",
                "by action", "mapped", "skipped", "invalid"
            );
            for (action, c) in &self.actions {
                let _ = writeln!(
                    out,
                    "    {:<22}{:>7}{:>9}{:>9}",
                    action.name(),
                    c.mapped,
                    c.skipped,
                    c.invalid
                );
            }
        }
        if self.invalid_unrouted > 0 {
            let _ = writeln!(
                out,
                "  {} invalid before routing (unreadable or no usable type/event)",
                self.invalid_unrouted
            );
        }
        if self.read_errors > 0 {
            let more = if self.read_errors > self.read_error_places.len() as u64 {
                ", ..."
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "  {} read error{} (at {}{more}): the rest of that input was not read",
                self.read_errors,
                if self.read_errors == 1 { "" } else { "s" },
                self.read_error_places.join(", ")
            );
        }
        if options.request_estimate {
            let p = &self.plan;
            let mut parts = Vec::new();
            for (n, endpoint) in [
                (p.batch_requests, Endpoint::Batch),
                (p.entity_requests, Endpoint::Entity),
                (p.metrics_requests, Endpoint::Metrics),
            ] {
                if n > 0 {
                    parts.push(format!("{n} {endpoint}"));
                }
            }
            let detail = if parts.is_empty() {
                String::new()
            } else {
                format!(" ({})", parts.join(", "))
            };
            let _ = writeln!(
                out,
                "  a send would make {} request{}{detail}, {} of request bodies",
                p.total_requests(),
                if p.total_requests() == 1 { "" } else { "s" },
                human_bytes(p.request_bytes)
            );
            let _ = writeln!(
                out,
                "  at {} requests/s that takes about {}",
                self.rate,
                human_seconds(self.estimated_seconds())
            );
        }
        let _ = writeln!(
            out,
            "  read {} of input in {}",
            human_bytes(self.input_bytes),
            human_seconds(self.elapsed_seconds)
        );
        if let Some(analyzer) = &self.safety {
            for line in analyzer
                .warning_lines()
                .iter()
                .chain(&analyzer.picture_lines())
            {
                let _ = writeln!(out, "{}", sanitize(line));
            }
        }
        out
    }

    /// Write the JSON summary to `path`.
    pub fn write_json(&self, path: &std::path::Path) -> io::Result<()> {
        let mut text = serde_json::to_string_pretty(&self.to_json())?;
        text.push('\n');
        std::fs::write(path, text)
    }
}

/// How [`Summary::render_text`] renders the human summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextOptions {
    /// Include the estimate of the requests a send would make and how long they would take
    /// (dry-run, validate). `send` turns it off: it reports the requests it actually made.
    pub request_estimate: bool,
}

impl Default for TextOptions {
    fn default() -> TextOptions {
        TextOptions {
            request_estimate: true,
        }
    }
}

/// Print the summary on standard error (unless `--quiet`) and write `--summary-json` (when given).
pub fn report(
    summary: &Summary,
    command: &str,
    json_path: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    crate::messages::say!("{}", summary.to_text(command));
    if let Some(path) = json_path {
        summary.write_json(path).map_err(|e| {
            anyhow::anyhow!("--summary-json {}: cannot write it: {e}", path.display())
        })?;
    }
    Ok(())
}

/// End a `validate` or `dry-run`: close the counts, attach the safety picture, print and write the
/// summary, and pick the exit code (1 when any record is invalid).
pub fn conclude(
    mut summary: Summary,
    safety: crate::safety::Analyzer,
    input_bytes: u64,
    elapsed_seconds: f64,
    command: &str,
    json_path: Option<&std::path::Path>,
) -> anyhow::Result<crate::exit::Exit> {
    summary.finish(input_bytes, elapsed_seconds);
    summary.safety = Some(safety);
    report(&summary, command, json_path)?;
    Ok(if summary.invalid > 0 {
        crate::exit::Exit::Partial
    } else {
        crate::exit::Exit::Success
    })
}

/// Untrusted text made safe for a terminal: control characters (escape sequences, carriage
/// returns, newlines...) are shown as `\u{..}` escapes.
pub fn sanitize(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = "B";
    for u in UNITS {
        if value < 1000.0 {
            break;
        }
        value /= 1000.0;
        unit = u;
    }
    format!("{value:.1} {unit}")
}

fn human_seconds(seconds: f64) -> String {
    if seconds < 60.0 {
        format!("{seconds:.2} s")
    } else if seconds < 3600.0 {
        format!("{:.1} min", seconds / 60.0)
    } else {
        format!("{:.1} h", seconds / 3600.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_pack_by_count_and_bytes() {
        let mut plan = RequestPlan::new(Mode::Batch, 3, 100);
        for _ in 0..7 {
            plan.add(Endpoint::Batch, 10);
        }
        plan.add(Endpoint::Metrics, 50);
        plan.close();
        assert_eq!(plan.batch_requests, 3);
        assert_eq!(plan.metrics_requests, 1);
        // Two full batches of 12 + 3*10 + 2 commas, one of 12 + 10, one metric of 50.
        assert_eq!(plan.request_bytes, 2 * 44 + 22 + 50);

        let mut plan = RequestPlan::new(Mode::Batch, 100, 12 + 10 + 1 + 10);
        for _ in 0..3 {
            plan.add(Endpoint::Batch, 10);
        }
        plan.close();
        assert_eq!(plan.batch_requests, 2);
    }

    #[test]
    fn sanitize_escapes_control_characters() {
        assert_eq!(sanitize("plain"), "plain");
        assert_eq!(sanitize("a\x1b[31mb\n"), "a\\u{1b}[31mb\\u{a}");
    }

    #[test]
    fn request_estimate_is_an_option() {
        let mut summary = Summary::new(RequestPlan::new(Mode::Batch, 100, 475_000), 100.0);
        summary.finish(0, 0.0);
        let full = summary.to_text("dry-run");
        assert!(full.contains("a send would make"));
        assert!(full.contains("requests/s that takes about"));
        let plain = summary.render_text(
            "send",
            TextOptions {
                request_estimate: false,
            },
        );
        assert!(!plain.contains("a send would make"));
        assert!(!plain.contains("takes about"));
        assert!(plain.contains("read "));
        assert_eq!(full.lines().count(), plain.lines().count() + 2);
    }
}
