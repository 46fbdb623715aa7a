//! The warnings of the safety analyzer: counters with their first locations, and their wording.

use std::sync::Arc;

use serde::Serialize;

use super::{KEEP_LOCATIONS, RECENT_SECONDS, format_time};
use crate::source::Location;

/// A count and the first [`KEEP_LOCATIONS`] locations that made it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Occurrences {
    pub count: u64,
    pub first: Vec<String>,
}

impl Occurrences {
    pub(crate) fn add(&mut self, location: &Location) {
        self.count += 1;
        if self.first.len() < KEEP_LOCATIONS {
            self.first.push(location.to_string());
        }
    }

    /// ` (first: a:1, a:2, ...)`, or nothing when empty.
    fn shown(&self) -> String {
        if self.first.is_empty() {
            return String::new();
        }
        let more = if self.count > self.first.len() as u64 {
            ", ..."
        } else {
            ""
        };
        format!(" (first: {}{more})", self.first.join(", "))
    }
}

/// One warning: a stable `kind`, how many records, a sentence for people, the first locations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Warning {
    /// `recent`, `no-timestamp`, `future-timestamp`, `milliseconds`, `future-created-at` or
    /// `same-second`.
    pub kind: &'static str,
    pub count: u64,
    pub message: String,
    pub locations: Vec<String>,
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn message(kind: &str, t: &Occurrences) -> String {
    let hours = RECENT_SECONDS / 3600;
    let n = t.count;
    let what = match kind {
        "recent" => format!(
            "{} within the last {hours} hours (or later): Customer.io can trigger campaigns from them",
            plural(n, "event is", "events are")
        ),
        "no-timestamp" => format!(
            "{} no timestamp: Customer.io stamps {} with the time it receives {}, so {} can trigger campaigns",
            plural(n, "event has", "events have"),
            if n == 1 { "it" } else { "them" },
            if n == 1 { "it" } else { "them" },
            if n == 1 { "it" } else { "they" },
        ),
        "future-timestamp" => format!(
            "{} a timestamp in the future: check the clock or the time zone of the export",
            plural(n, "record has", "records have")
        ),
        "milliseconds" => format!(
            "{} in milliseconds and converted to seconds: check that this is what the export meant",
            plural(n, "timestamp was", "timestamps were")
        ),
        _ => format!(
            "{} created_at in the future: Customer.io keeps such people out of segments until then",
            plural(n, "identify record has", "identify records have")
        ),
    };
    format!("{what}{}", t.shown())
}

/// Append one warning per non-empty tally.
pub(super) fn push_all<'a>(
    out: &mut Vec<Warning>,
    tallies: impl IntoIterator<Item = (&'static str, &'a Occurrences)>,
) {
    for (kind, t) in tallies {
        if t.count > 0 {
            out.push(Warning {
                kind,
                count: t.count,
                message: message(kind, t),
                locations: t.first.clone(),
            });
        }
    }
}

/// The refusal of `send` when events can trigger campaigns (several lines).
pub(super) fn refusal(recent: &Occurrences, untimed: &Occurrences) -> Option<String> {
    if recent.count == 0 && untimed.count == 0 {
        return None;
    }
    let hours = RECENT_SECONDS / 3600;
    let mut text =
        String::from("refusing to send: these events can trigger campaigns (nothing was sent):");
    if recent.count > 0 {
        text.push_str(&format!(
            "\n  {} within the last {hours} hours (or later){}",
            plural(recent.count, "event is", "events are"),
            recent.shown()
        ));
    }
    if untimed.count > 0 {
        text.push_str(&format!(
            "\n  {} no timestamp, so Customer.io stamps {} \"now\"{}",
            plural(untimed.count, "event has", "events have"),
            if untimed.count == 1 { "it" } else { "them" },
            untimed.shown()
        ));
    }
    text.push_str(&format!(
        "\nPause or check the event-triggered campaigns of the workspace, or leave these events \
         out\n(--until a time {hours} hours ago; give every event its timestamp), then run again \
         with\n--allow-recent to send anyway. See \"Before you replay\" in the README."
    ));
    Some(text)
}

/// Per input: whether every timestamped record shares one second.
#[derive(Debug, Clone, Default)]
pub(super) struct SameSecond {
    inputs: Vec<Option<FileSecond>>,
}

#[derive(Debug, Clone)]
struct FileSecond {
    file: Arc<str>,
    second: i64,
    count: u64,
    all_same: bool,
    first: Vec<String>,
}

impl SameSecond {
    pub(super) fn add(&mut self, location: &Location, input: usize, unix: i64) {
        if self.inputs.len() <= input {
            self.inputs.resize(input + 1, None);
        }
        match &mut self.inputs[input] {
            slot @ None => {
                *slot = Some(FileSecond {
                    file: location.file.clone(),
                    second: unix,
                    count: 1,
                    all_same: true,
                    first: vec![location.to_string()],
                });
            }
            Some(f) => {
                f.count += 1;
                f.all_same &= f.second == unix;
                if f.first.len() < KEEP_LOCATIONS {
                    f.first.push(location.to_string());
                }
            }
        }
    }

    pub(super) fn warnings(&self) -> Vec<Warning> {
        self.inputs
            .iter()
            .flatten()
            .filter(|f| f.all_same && f.count > 1)
            .map(|f| Warning {
                kind: "same-second",
                count: f.count,
                message: format!(
                    "all {} timestamped records of {} are at the same second, {}: probably the time \
                     of the export, not of the events",
                    f.count,
                    f.file,
                    format_time(f.second)
                ),
                locations: f.first.clone(),
            })
            .collect()
    }
}
