//! Backfill safety: what a replay would do to campaigns, and a picture of the records' times.
//!
//! [`Analyzer`] is fed once per record after mapping (streaming, bounded memory: counters, the first
//! few locations per warning, a folded histogram). It counts the events that can trigger campaigns
//! (timestamp within the last 72 hours, or none at all), flags the patterns that usually mean a
//! mistake, keeps the time range and a histogram by action family. [`Window`] implements
//! `--since` / `--until`. See docs/before-you-replay.md.

mod family;
pub(crate) mod gate;
pub(crate) mod histogram;
mod warnings;

use serde::Serialize;
use serde_json::Value;

use crate::map::Outcome;
use crate::map::timestamp::parse_root;
use crate::source::Location;
use crate::stream::Item;
use crate::track::{Action, Operation};

pub(crate) use crate::map::window::{RecordTime, Window, format_time, record_time};
pub(crate) use family::{Family, can_trigger_campaign};
pub(crate) use histogram::{Histogram, Table};
pub(crate) use warnings::{Occurrences, Warning};

use warnings::SameSecond;

/// Events whose timestamp is less than this many seconds before now can trigger campaigns.
pub(crate) const RECENT_SECONDS: i64 = 72 * 3600;
/// Locations kept per warning.
pub(crate) const KEEP_LOCATIONS: usize = 5;

/// What the checks take from one mapped record: its action, its root time and, for a person, the
/// `created_at` it sets. Small and `Copy`, so it can be made where the item is (a pipeline worker)
/// and the item dropped there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Observation {
    pub action: Action,
    pub time: RecordTime,
    /// Unix seconds of the `created_at` attribute a create-or-update-person operation sets.
    pub created_at: Option<i64>,
}

impl Observation {
    /// The observation of a mapped item; `None` for a skipped or invalid one.
    pub(crate) fn of(item: &Item) -> Option<Observation> {
        match &item.outcome {
            Outcome::Mapped(op) => Some(Observation::new(op, item_time(item))),
            _ => None,
        }
    }

    /// The observation of `op` whose record has root time `time`.
    pub(crate) fn new(op: &Operation, time: RecordTime) -> Observation {
        let created_at = match op.action {
            Action::CreateUpdatePerson => op
                .body
                .pointer("/attributes/created_at")
                .and_then(seconds_of),
            _ => None,
        };
        Observation {
            action: op.action,
            time,
            created_at,
        }
    }
}

/// The root time of an item's record (`Missing` when the record could not be read).
pub(crate) fn item_time(item: &Item) -> RecordTime {
    match &item.record.event {
        Ok(event) => record_time(event),
        Err(_) => RecordTime::Missing,
    }
}

/// The system clock in Unix seconds (the analyzer takes "now" as a value, so tests can choose it).
pub(crate) fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}

/// First and last record time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct TimeRange {
    pub first: String,
    pub last: String,
    pub first_unix: i64,
    pub last_unix: i64,
}

/// Counts that decide whether `send` may start without `--allow-recent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct CampaignRisk {
    /// Events (track, page, screen, content) whose timestamp is within the last 72 hours or later.
    pub recent_events: u64,
    /// Events with no timestamp (Customer.io stamps them with the time it receives them).
    pub untimed_events: u64,
}

/// Everything the analyzer found, for `--summary-json` / `--report` (key `safety`).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SafetyReport {
    /// The clock the 72-hour rule was measured against.
    pub now: String,
    pub recent_hours: i64,
    /// `--since` / `--until` as given (null when absent).
    pub since: Option<String>,
    pub until: Option<String>,
    /// Mapped records looked at, those with a timestamp and those without.
    pub records: u64,
    pub with_timestamp: u64,
    pub without_timestamp: u64,
    pub time_range: Option<TimeRange>,
    pub campaign_risk: CampaignRisk,
    pub warnings: Vec<Warning>,
    pub histogram: Table,
}

/// The streaming analyzer: feed it every mapped record once.
#[derive(Debug, Clone)]
pub(crate) struct Analyzer {
    now: i64,
    window: Window,
    records: u64,
    with_timestamp: u64,
    first: Option<i64>,
    last: Option<i64>,
    recent: Occurrences,
    untimed: Occurrences,
    future: Occurrences,
    millis: Occurrences,
    future_created_at: Occurrences,
    same_second: SameSecond,
    histogram: Histogram,
}

impl Analyzer {
    /// An analyzer measuring "recent" and "future" against `now` (Unix seconds).
    pub(crate) fn new(now: i64) -> Analyzer {
        Analyzer {
            now,
            window: Window::default(),
            records: 0,
            with_timestamp: 0,
            first: None,
            last: None,
            recent: Occurrences::default(),
            untimed: Occurrences::default(),
            future: Occurrences::default(),
            millis: Occurrences::default(),
            future_created_at: Occurrences::default(),
            same_second: SameSecond::default(),
            histogram: Histogram::default(),
        }
    }

    /// Record the `--since` / `--until` window in the report (it does not filter here).
    pub(crate) fn with_window(mut self, window: &Window) -> Analyzer {
        self.window = window.clone();
        self
    }

    /// Look at one mapped operation, its record's location, input index and root time.
    #[cfg(test)]
    pub(crate) fn observe(
        &mut self,
        location: &Location,
        input: usize,
        op: &Operation,
        time: RecordTime,
    ) {
        self.add(location, input, Observation::new(op, time));
    }

    /// Count one mapped record, from what was taken of it (see [`Observation`]).
    pub(crate) fn add(&mut self, location: &Location, input: usize, observation: Observation) {
        let Observation {
            action,
            time,
            created_at,
        } = observation;
        self.records += 1;
        let triggers = can_trigger_campaign(action);
        match time {
            RecordTime::At { unix, millis } => {
                self.with_timestamp += 1;
                self.first = Some(self.first.map_or(unix, |f| f.min(unix)));
                self.last = Some(self.last.map_or(unix, |l| l.max(unix)));
                self.histogram.add(unix, Family::of(action));
                self.same_second.add(location, input, unix);
                if triggers && unix > self.now - RECENT_SECONDS {
                    self.recent.add(location);
                }
                if unix > self.now {
                    self.future.add(location);
                }
                if millis {
                    self.millis.add(location);
                }
            }
            RecordTime::Missing | RecordTime::Unreadable => {
                if triggers {
                    self.untimed.add(location);
                }
            }
        }
        if created_at.is_some_and(|created| created > self.now) {
            self.future_created_at.add(location);
        }
    }

    /// The counts that gate `send`.
    pub(crate) fn campaign_risk(&self) -> CampaignRisk {
        CampaignRisk {
            recent_events: self.recent.count,
            untimed_events: self.untimed.count,
        }
    }

    /// The refusal `send` prints (exit 2) when events can trigger campaigns and `--allow-recent`
    /// was not given; `None` when it may start.
    pub(crate) fn refusal(&self) -> Option<String> {
        warnings::refusal(&self.recent, &self.untimed)
    }

    /// Every warning, in a fixed order, each with its count and first locations.
    pub(crate) fn warnings(&self) -> Vec<Warning> {
        let mut out = Vec::new();
        warnings::push_all(
            &mut out,
            [
                ("recent", &self.recent),
                ("no-timestamp", &self.untimed),
                ("future-timestamp", &self.future),
                ("milliseconds", &self.millis),
                ("future-created-at", &self.future_created_at),
            ],
        );
        out.extend(self.same_second.warnings());
        out
    }

    /// The time range of the records with a timestamp.
    pub(crate) fn time_range(&self) -> Option<TimeRange> {
        Some(TimeRange {
            first: format_time(self.first?),
            last: format_time(self.last?),
            first_unix: self.first?,
            last_unix: self.last?,
        })
    }

    /// The numbers as JSON (a `safety` key in the summary / report).
    pub(crate) fn report(&self) -> SafetyReport {
        SafetyReport {
            now: format_time(self.now),
            recent_hours: RECENT_SECONDS / 3600,
            since: self.window.since.as_ref().map(|b| b.text.clone()),
            until: self.window.until.as_ref().map(|b| b.text.clone()),
            records: self.records,
            with_timestamp: self.with_timestamp,
            without_timestamp: self.records - self.with_timestamp,
            time_range: self.time_range(),
            campaign_risk: self.campaign_risk(),
            warnings: self.warnings(),
            histogram: self.histogram.table(),
        }
    }

    /// `warning: ...` lines for standard error (shown unless `--quiet`).
    pub(crate) fn warning_lines(&self) -> Vec<String> {
        self.warnings()
            .iter()
            .map(|w| format!("warning: {}", w.message))
            .collect()
    }

    /// The time range and the histogram, each line at most 80 columns (shown unless `--quiet`).
    pub(crate) fn picture_lines(&self) -> Vec<String> {
        let untimed = self.records - self.with_timestamp;
        let mut lines = Vec::new();
        match self.time_range() {
            Some(r) => lines.push(format!("Time range: {} to {}", r.first, r.last)),
            None if self.records > 0 => lines.push("Time range: no record has a timestamp".into()),
            None => {}
        }
        if untimed > 0 && self.with_timestamp > 0 {
            lines.push(format!(
                "  ({untimed} record{} without a timestamp not shown below)",
                if untimed == 1 { "" } else { "s" }
            ));
        }
        lines.extend(self.histogram.render());
        lines
    }
}

/// Unix seconds of a mapped `created_at`: a number (already seconds), or a string the root rule
/// reads (attribute conversion off).
fn seconds_of(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f.floor().clamp(-1e18, 1e18) as i64)),
        Value::String(_) => parse_root(v).ok().flatten().map(|t| t.seconds),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
