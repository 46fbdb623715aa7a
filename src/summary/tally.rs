//! What the counting commands (validate, dry-run) keep of a record: small, made on the worker that
//! mapped it, so the event and the operation body are freed there and the consumer only counts.

use super::Summary;
use crate::input::Location;
use crate::mapping::Outcome;
use crate::pipeline::Item;
use crate::safety::{Analyzer, Observation};

/// One record as the summary and the safety checks count it.
#[derive(Debug)]
pub struct Tally {
    pub location: Location,
    pub input: usize,
    /// The outcome; a mapped operation's body is left out (`op_bytes` is its size).
    pub outcome: Outcome,
    pub op_bytes: Option<usize>,
    /// The mapped operation's entity-key hashes (`send::lanes::key_hashes`), for the estimate.
    keys: Vec<u64>,
    observation: Option<Observation>,
    /// The record is a read error that cut its input short.
    read_error: bool,
}

impl Tally {
    /// The tally of `item`; `op_bytes` is the mapped operation's size when the caller has it
    /// already (else it is measured).
    pub fn new(item: Item, op_bytes: Option<usize>) -> Tally {
        let observation = Observation::of(&item);
        let read_error = item.record.is_read_error();
        let (outcome, op_bytes, keys) = match item.outcome {
            Outcome::Mapped(op) => {
                let bytes = op_bytes.unwrap_or_else(|| op.json_len());
                let keys = crate::send::lanes::key_hashes(&op.body);
                (Outcome::Mapped(op.without_body()), Some(bytes), keys)
            }
            other => (other, None, Vec::new()),
        };
        Tally {
            location: item.record.location,
            input: item.record.input,
            outcome,
            op_bytes,
            keys,
            observation,
            read_error,
        }
    }

    /// Count it in the summary and the safety checks.
    pub fn count(&self, summary: &mut Summary, safety: &mut Analyzer) {
        summary.add_with_keys(&self.outcome, self.op_bytes, &self.keys);
        summary.note_reason(&self.outcome, &self.location);
        if self.read_error {
            summary.add_read_error(&self.location);
        }
        if let Some(observation) = self.observation {
            safety.add(&self.location, self.input, observation);
        }
    }
}
