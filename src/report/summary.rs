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
//! | `lanes` | the lanes assumed (`--concurrency`; 1 in sequential mode) |
//! | `oversize` | mapped operations too big to send with these limits (a send rejects them unsent) |
//! | `rate` | requests per second assumed |
//! | `estimated_seconds` | `requests.total / rate` |
//! | `input_bytes` | input bytes read (as stored, so compressed for `.gz`) |
//! | `elapsed_seconds` | how long this run took |
//! | `naive_timestamps` | records whose `timestamp` has no zone (read as UTC); counted by `send` |

pub(crate) mod listing;
pub(crate) mod reasons;
mod tally;
pub(crate) use reasons::Reasons;
pub(crate) use tally::Tally;
pub(crate) use tally::{Measure, SendCount};

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;

use serde_json::{Value, json};

use crate::deliver::DeliverySettings;
use crate::deliver::batch::{BatchLimits, Packer, Place};
use crate::deliver::lanes;
use crate::map::Outcome;
use crate::map::limits::json_bytes;
use crate::source::Location;
use crate::track::{Action, Endpoint, Mode};

/// How many read-error places the text summary names.
const MAX_READ_ERROR_PLACES: usize = 5;

/// Records by outcome for one action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ActionCounts {
    pub mapped: u64,
    pub skipped: u64,
    pub invalid: u64,
}

/// The requests a send would make, counted by the sender's own packing rule
/// ([`crate::deliver::batch::Packer`]) on a model of its lanes: each operation goes to the lane its
/// first entity hashes to ([`lanes::key_hashes`], [`lanes::lane_of`]: where the sender routes it
/// when none of its entities is busy), and each lane packs its operations in input order; batch
/// operations into `/api/v2/batch` requests, metrics and sequential operations one per request,
/// operations too big to send into none. The count is the sum over the lanes.
///
/// Exact for one lane. With more, exact when every operation touches one entity (person, object
/// or delivery); a merge or a relationship change goes to a lane where one of its entities is
/// busy, and may span lanes, which the model does not know. Either way it assumes that no batch is
/// sent early by `--linger` and that nothing is retried or split (see the README, "The request
/// estimate").
#[derive(Debug, Clone)]
pub(crate) struct RequestPlan {
    pub mode: Mode,
    pub limits: BatchLimits,
    pub batch_requests: u64,
    pub entity_requests: u64,
    pub metrics_requests: u64,
    pub request_bytes: u64,
    /// Operations too big to send at all: `send` rejects them without a request.
    pub oversize: u64,
    /// One packer per lane.
    lanes: Vec<Packer>,
}

impl RequestPlan {
    /// The plan of a send with these settings (lanes, mode and batch limits; the rate does not
    /// change the requests).
    pub(crate) fn new(settings: &DeliverySettings) -> RequestPlan {
        RequestPlan {
            mode: settings.mode,
            limits: settings.limits,
            batch_requests: 0,
            entity_requests: 0,
            metrics_requests: 0,
            request_bytes: 0,
            oversize: 0,
            lanes: (0..settings.lanes()).map(|_| Packer::default()).collect(),
        }
    }

    /// Lanes the plan packs for (`--concurrency`; one in sequential mode).
    pub(crate) fn lanes(&self) -> usize {
        self.lanes.len()
    }

    /// Add one operation of `bytes` compact JSON bytes going to `endpoint`, touching the entities
    /// `keys` ([`lanes::key_hashes`]).
    pub(crate) fn add(&mut self, endpoint: Endpoint, bytes: usize, keys: &[u64]) {
        let n = self.lanes.len();
        let lane = match (n, keys.first()) {
            (1, _) | (_, None) => 0,
            (_, Some(first)) => lanes::lane_of(*first, n),
        };
        let Some(packer) = self.lanes.get_mut(lane) else {
            return;
        };
        let placed = packer.place(&self.limits, endpoint, bytes, keys);
        for body in [placed.send_before, placed.send_after]
            .into_iter()
            .flatten()
        {
            self.batch_requests += 1;
            self.request_bytes += body as u64;
        }
        match (placed.place, endpoint) {
            (Place::Refused, _) => self.oversize += 1,
            (Place::Batch, _) => {}
            (Place::Alone, Endpoint::Metrics) => {
                self.metrics_requests += 1;
                self.request_bytes += bytes as u64;
            }
            (Place::Alone, _) => {
                self.entity_requests += 1;
                self.request_bytes += bytes as u64;
            }
        }
    }

    /// Close every lane's open batch (call once at the end).
    pub(crate) fn close(&mut self) {
        for packer in &mut self.lanes {
            if let Some(body) = packer.close() {
                self.batch_requests += 1;
                self.request_bytes += body as u64;
            }
        }
    }

    pub(crate) fn total_requests(&self) -> u64 {
        self.batch_requests + self.entity_requests + self.metrics_requests
    }
}

/// The numbers of one validate or dry-run.
#[derive(Debug, Clone)]
pub(crate) struct Summary {
    pub records: u64,
    pub mapped: u64,
    pub skipped: u64,
    pub invalid: u64,
    pub invalid_unrouted: u64,
    /// Inputs cut short by a read error (each also counted as an invalid record).
    pub read_errors: u64,
    /// Where the first few read errors happened (`FILE:LINE`), for the text summary.
    pub read_error_places: Vec<String>,
    pub actions: BTreeMap<Action, ActionCounts>,
    pub operation_bytes: u64,
    pub plan: RequestPlan,
    pub rate: f64,
    pub input_bytes: u64,
    pub elapsed_seconds: f64,
    /// Records whose root `timestamp` names no zone (read as UTC).
    pub naive_timestamps: u64,
    /// Campaign-trigger warnings, time range and histogram (`safety` in JSON), when analyzed.
    pub safety: Option<crate::report::safety::Analyzer>,
    /// Why records were skipped, and invalid: counts and first places.
    pub skipped_reasons: Reasons,
    pub invalid_reasons: Reasons,
}

impl Summary {
    pub(crate) fn new(plan: RequestPlan, rate: f64) -> Summary {
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
            naive_timestamps: 0,
            safety: None,
            skipped_reasons: Reasons::default(),
            invalid_reasons: Reasons::default(),
        }
    }

    /// Note why the record at `location` was skipped or is invalid (nothing for a mapped one).
    pub(crate) fn note_reason(&mut self, outcome: &Outcome, location: &Location) {
        match outcome {
            Outcome::Mapped(_) => {}
            Outcome::Skipped { reason, .. } => self.skipped_reasons.add(reason, location),
            Outcome::Invalid(invalid) => self.invalid_reasons.add(&invalid.to_string(), location),
        }
    }

    /// Count one record's outcome; `op_bytes` is the operation's compact JSON size when known
    /// (measured here otherwise), `keys` its entity-key hashes ([`lanes::key_hashes`])
    /// taken where its body was still at hand.
    pub(crate) fn add_with_keys(
        &mut self,
        outcome: &Outcome,
        op_bytes: Option<usize>,
        keys: &[u64],
    ) {
        self.records += 1;
        match outcome {
            Outcome::Mapped(op) => {
                self.mapped += 1;
                self.actions.entry(op.action).or_default().mapped += 1;
                let bytes = op_bytes.unwrap_or_else(|| json_bytes(&op.body));
                self.operation_bytes += bytes as u64;
                self.plan.add(op.endpoint(self.plan.mode), bytes, keys);
            }
            Outcome::Skipped { action, .. } => {
                self.skipped += 1;
                if let Some(action) = action {
                    self.actions.entry(*action).or_default().skipped += 1;
                }
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

    /// Note a read error at `location` (its record is counted by [`Summary::add_with_keys`] as well).
    pub(crate) fn add_read_error(&mut self, location: &Location) {
        self.read_errors += 1;
        if self.read_error_places.len() < MAX_READ_ERROR_PLACES {
            self.read_error_places.push(location.to_string());
        }
    }

    /// Close the request plan; call once when every record is counted.
    pub(crate) fn finish(&mut self, input_bytes: u64, elapsed_seconds: f64) {
        self.plan.close();
        self.input_bytes = input_bytes;
        self.elapsed_seconds = elapsed_seconds;
    }

    pub(crate) fn estimated_seconds(&self) -> f64 {
        if self.rate > 0.0 {
            self.plan.total_requests() as f64 / self.rate
        } else {
            0.0
        }
    }

    /// The summary as JSON (the fields documented at the top of this module).
    pub(crate) fn to_json(&self) -> Value {
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
            "naive_timestamps": self.naive_timestamps,
            "skipped_reasons": self.skipped_reasons.to_json(),
            "invalid_reasons": self.invalid_reasons.to_json(),
            "actions": actions,
            "mode": self.plan.mode.name(),
            "requests": {
                "total": self.plan.total_requests(),
                "batch": self.plan.batch_requests,
                "entity": self.plan.entity_requests,
                "metrics": self.plan.metrics_requests,
            },
            "operation_bytes": self.operation_bytes,
            "request_bytes": self.plan.request_bytes,
            "batch_size": self.plan.limits.size,
            "batch_bytes": self.plan.limits.bytes,
            "lanes": self.plan.lanes(),
            "oversize": self.plan.oversize,
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
    pub(crate) fn to_text(&self, command: &str) -> String {
        self.render_text(command, TextOptions::default())
    }

    /// The human summary, several lines, rendered as `options` say.
    pub(crate) fn render_text(&self, command: &str, options: TextOptions) -> String {
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
            let lanes = p.lanes();
            let _ = writeln!(
                out,
                "  a send would make {} request{}{detail}, {} of request bodies",
                p.total_requests(),
                if p.total_requests() == 1 { "" } else { "s" },
                human_bytes(p.request_bytes),
            );
            let _ = writeln!(
                out,
                "  on {lanes} lane{}, at {} requests/s that takes about {}",
                if lanes == 1 { "" } else { "s" },
                self.rate,
                human_seconds(self.estimated_seconds())
            );
            if p.oversize > 0 {
                let _ = writeln!(
                    out,
                    "  {} operation{} too big for --batch-bytes {}: a send rejects {}",
                    p.oversize,
                    if p.oversize == 1 { "" } else { "s" },
                    p.limits.bytes,
                    if p.oversize == 1 { "it" } else { "them" },
                );
            }
        }
        let _ = writeln!(
            out,
            "  read {} of input in {}",
            human_bytes(self.input_bytes),
            human_seconds(self.elapsed_seconds)
        );
        if self.naive_timestamps > 0 {
            let n = self.naive_timestamps;
            let _ = writeln!(
                out,
                "  warning: {n} record{} with a timestamp without a zone, read as UTC",
                if n == 1 { "" } else { "s" }
            );
        }
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
    /// Write the JSON summary to `path`, or to standard output for `-`.
    pub(crate) fn write_json(&self, path: &std::path::Path) -> io::Result<()> {
        let mut text = serde_json::to_string_pretty(&self.to_json())?;
        text.push('\n');
        if path.as_os_str() == "-" {
            use std::io::Write as _;
            let mut out = io::stdout().lock();
            return out.write_all(text.as_bytes()).and_then(|()| out.flush());
        }
        std::fs::write(path, text)
    }
}

/// How [`Summary::render_text`] renders the human summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TextOptions {
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
pub(crate) fn report(
    summary: &Summary,
    command: &str,
    json_path: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    crate::report::messages::say!("{}", summary.to_text(command));
    if let Some(path) = json_path {
        summary.write_json(path).map_err(|e| {
            anyhow::anyhow!("--summary-json {}: cannot write it: {e}", path.display())
        })?;
    }
    Ok(())
}

/// End a `validate` or `dry-run`: close the counts, attach the safety picture, print and write the
/// summary, and pick the exit code (1 when any record is invalid).
pub(crate) fn conclude(
    mut summary: Summary,
    safety: crate::report::safety::Analyzer,
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
pub(crate) fn sanitize(text: &str) -> Cow<'_, str> {
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

    fn plan(mode: Mode, concurrency: usize, bytes: usize, size: usize) -> RequestPlan {
        let settings = DeliverySettings::new(mode, 100.0, concurrency, bytes, size, 0)
            .expect("valid settings");
        RequestPlan::new(&settings)
    }

    #[test]
    fn batches_pack_by_count_and_bytes() {
        let mut plan = plan(Mode::Batch, 1, 1000, 3);
        for _ in 0..7 {
            plan.add(Endpoint::Batch, 10, &[1]);
        }
        plan.add(Endpoint::Metrics, 50, &[2]);
        plan.close();
        assert_eq!(plan.batch_requests, 3);
        assert_eq!(plan.metrics_requests, 1);
        // Two full batches of 12 + 3*10 + 2 commas, one of 12 + 10, one metric of 50.
        assert_eq!(plan.request_bytes, 2 * 44 + 22 + 50);

        let mut plan = self::plan(Mode::Batch, 1, 1000, 100);
        for _ in 0..3 {
            plan.add(Endpoint::Batch, 490, &[1]);
        }
        plan.close();
        // 12 + 490 + 1 + 490 = 993: two fit, the third goes in a second batch.
        assert_eq!(plan.batch_requests, 2);
        assert_eq!(plan.request_bytes, 993 + 502);
    }

    #[test]
    fn each_lane_packs_its_own_operations() {
        // Two entities whose home lanes differ among 4.
        let a = lanes::hash_key("person|a");
        let b = (0..)
            .map(|i| lanes::hash_key(&format!("person|{i}")))
            .find(|h| lanes::lane_of(*h, 4) != lanes::lane_of(a, 4))
            .unwrap_or(0);
        let add = |plan: &mut RequestPlan| {
            for key in [a, b, a, b, a, b] {
                plan.add(Endpoint::Batch, 10, &[key]);
            }
            plan.close();
        };
        let mut one = plan(Mode::Batch, 1, 1000, 3);
        add(&mut one);
        assert_eq!((one.lanes(), one.batch_requests), (1, 2));
        // On four lanes, each entity's three operations fill a batch on its own lane...
        let mut four = plan(Mode::Batch, 4, 1000, 3);
        add(&mut four);
        assert_eq!((four.lanes(), four.batch_requests), (4, 2));
        let mut four = plan(Mode::Batch, 4, 1000, 2);
        add(&mut four);
        // ...but two per batch make 2 + 1 on each of two lanes, where one lane makes 2 + 2 + 2.
        assert_eq!(four.batch_requests, 4);
        let mut one = plan(Mode::Batch, 1, 1000, 2);
        add(&mut one);
        assert_eq!(one.batch_requests, 3);
        // Sequential mode has one lane whatever the concurrency, one request per operation.
        let mut sequential = plan(Mode::Sequential, 4, 1000, 2);
        for key in [a, b, a] {
            sequential.add(Endpoint::Entity, 10, &[key]);
        }
        sequential.close();
        assert_eq!((sequential.lanes(), sequential.entity_requests), (1, 3));
    }

    #[test]
    fn operations_too_big_to_send_make_no_request() {
        let mut plan = plan(Mode::Batch, 4, 5000, 100);
        plan.add(Endpoint::Batch, 4988, &[1]);
        plan.add(Endpoint::Batch, 4989, &[1]);
        plan.add(Endpoint::Metrics, 4989, &[2]);
        plan.close();
        assert_eq!(plan.oversize, 1);
        assert_eq!(plan.batch_requests, 1);
        assert_eq!(plan.metrics_requests, 1);
        assert_eq!(plan.request_bytes, 5000 + 4989);
        let mut summary = Summary::new(plan, 10.0);
        summary.finish(0, 0.0);
        let text = summary.to_text("dry-run");
        assert!(text.contains("\n  on 4 lanes, at 10 requests/s"), "{text}");
        assert!(text.contains("1 operation too big for --batch-bytes 5000: a send rejects it"));
        assert_eq!(summary.to_json()["oversize"], 1);
        assert_eq!(summary.to_json()["lanes"], 4);
    }

    #[test]
    fn a_metric_of_an_entity_in_the_open_batch_sends_it_first() {
        let mut plan = plan(Mode::Batch, 1, 1000, 100);
        plan.add(Endpoint::Batch, 10, &[1]);
        plan.add(Endpoint::Metrics, 10, &[2]);
        plan.add(Endpoint::Batch, 10, &[1]);
        plan.add(Endpoint::Metrics, 10, &[1]);
        plan.add(Endpoint::Batch, 10, &[1]);
        plan.close();
        assert_eq!((plan.batch_requests, plan.metrics_requests), (2, 2));
    }

    #[test]
    fn sanitize_escapes_control_characters() {
        assert_eq!(sanitize("plain"), "plain");
        assert_eq!(sanitize("a\x1b[31mb\n"), "a\\u{1b}[31mb\\u{a}");
    }

    #[test]
    fn request_estimate_is_an_option() {
        let mut summary = Summary::new(plan(Mode::Batch, 4, 475_000, 100), 100.0);
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
