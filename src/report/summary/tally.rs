//! What the commands count of a record, made on the worker that mapped it: validate and dry-run
//! keep only that ([`Tally`]: the event and the operation body are freed there); `send` keeps the
//! item to deliver it and its [`Measure`] beside it.

use std::sync::atomic::Ordering;
use std::time::Instant;

use super::Summary;
use crate::map::Outcome;
use crate::report::safety::{Analyzer, Observation};
use crate::source::{Location, Progress};
use crate::stream::Item;

/// One record as the summary and the safety checks count it.
#[derive(Debug)]
pub(crate) struct Tally {
    pub location: Location,
    pub input: usize,
    /// The outcome; a mapped operation's body is left out (the measure has its size).
    pub outcome: Outcome,
    measure: Measure,
}

/// What is counted of a record besides its outcome and place.
#[derive(Debug)]
pub(crate) struct Measure {
    op_bytes: Option<usize>,
    /// The mapped operation's entity-key hashes (`deliver::lanes::key_hashes`), for the estimate.
    keys: Vec<u64>,
    observation: Option<Observation>,
    /// The record is a read error that cut its input short.
    read_error: bool,
    /// Its `timestamp` has no zone (measured by `send` only).
    naive: bool,
}

impl Measure {
    /// What `send` counts of `item`, taken on the worker that mapped it; the parsed event is
    /// freed there too (the sender needs the record's text, place and whether it parsed).
    pub(crate) fn take(item: &mut Item) -> Measure {
        let mut measure = Measure::of(item, None);
        measure.naive = item
            .record
            .event
            .as_ref()
            .is_ok_and(|e| crate::map::timestamp::is_zoneless(&e["timestamp"]));
        if let Ok(event) = &mut item.record.event {
            *event = serde_json::Value::Null;
        }
        measure
    }

    /// What is counted of `item`; `op_bytes` is the mapped operation's size when the caller has
    /// it already (else it is measured). Timestamps are not looked at.
    fn of(item: &Item, op_bytes: Option<usize>) -> Measure {
        let (op_bytes, keys) = match &item.outcome {
            Outcome::Mapped(op) => (
                Some(op_bytes.unwrap_or_else(|| op.json_len())),
                crate::deliver::lanes::key_hashes(&op.body),
            ),
            _ => (None, Vec::new()),
        };
        Measure {
            op_bytes,
            keys,
            observation: Observation::of(item),
            read_error: item.record.is_read_error(),
            naive: false,
        }
    }

    /// Count `item` (measured by [`Measure::take`]) in the summary and the safety checks; a
    /// read error is also said on standard error at once, not only dead-lettered.
    pub(crate) fn count_sent(self, item: &Item, summary: &mut Summary, safety: &mut Analyzer) {
        let location = &item.record.location;
        if let (true, Err(error)) = (self.read_error, &item.record.event) {
            crate::report::messages::record!("{location}: {error}");
        }
        self.count(&item.outcome, location, item.record.input, summary, safety);
    }

    fn count(
        &self,
        outcome: &Outcome,
        location: &Location,
        input: usize,
        summary: &mut Summary,
        safety: &mut Analyzer,
    ) {
        summary.add_with_keys(outcome, self.op_bytes, &self.keys);
        summary.note_reason(outcome, location);
        summary.naive_timestamps += u64::from(self.naive);
        if self.read_error {
            summary.add_read_error(location);
        }
        if let Some(observation) = self.observation {
            safety.add(location, input, observation);
        }
    }
}

/// What `send` counts of the records it hands to the sender: the summary (the dry-run numbers),
/// the safety checks, and the records of each input (the report's `inputs`).
pub(crate) struct SendCount {
    pub summary: Summary,
    safety: Analyzer,
    pub by_input: Vec<u64>,
    input: Progress,
    started: Instant,
}

impl SendCount {
    /// Counting from now into `summary` and `safety`, over `inputs` inputs read as `input` says.
    pub(crate) fn new(summary: Summary, safety: Analyzer, inputs: usize, input: Progress) -> Self {
        SendCount {
            summary,
            safety,
            by_input: vec![0; inputs.max(1)],
            input,
            started: Instant::now(),
        }
    }

    /// Count `item`, measured by [`Measure::take`].
    pub(crate) fn count(&mut self, measure: Measure, item: &Item) {
        if let Some(n) = self.by_input.get_mut(item.record.input) {
            *n += 1;
        }
        measure.count_sent(item, &mut self.summary, &mut self.safety);
    }

    /// The delivery ended: the summary takes the bytes read, the time and the safety checks.
    pub(crate) fn finish(mut self) -> (Summary, Vec<u64>) {
        let read = self.input.bytes_read.load(Ordering::Relaxed);
        self.summary
            .finish(read, self.started.elapsed().as_secs_f64());
        self.summary.safety = Some(self.safety);
        (self.summary, self.by_input)
    }
}

impl Tally {
    /// The tally of `item`; `op_bytes` is the mapped operation's size when the caller has it
    /// already (else it is measured).
    pub(crate) fn new(item: Item, op_bytes: Option<usize>) -> Tally {
        let measure = Measure::of(&item, op_bytes);
        let outcome = match item.outcome {
            Outcome::Mapped(op) => Outcome::Mapped(op.without_body()),
            other => other,
        };
        Tally {
            location: item.record.location,
            input: item.record.input,
            outcome,
            measure,
        }
    }

    /// Count it in the summary and the safety checks.
    pub(crate) fn count(&self, summary: &mut Summary, safety: &mut Analyzer) {
        self.measure
            .count(&self.outcome, &self.location, self.input, summary, safety);
    }
}
