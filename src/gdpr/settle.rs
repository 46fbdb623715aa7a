//! From the sender's settlements to receipt rows: the people in flight, one row per person as each
//! is settled (straight into the receipt, or with `--checkpoint` through the checkpoint journal, in
//! list order and covered by the watermarks), and rows for people never sent when a run stops early.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::Utc;

use super::GdprAction;
use super::receipt::{self, Counts, Receipt, RowOutcome};
use super::{Person, operation};
use crate::deliver::{DeliveryStats, Hooks, RecordInfo, Settled, Settlement, Work};
use crate::ledger::{Checkpoint, Journal, Kind};
use crate::map::{Invalid, Outcome};
use crate::report::progress::line::{Counts as RowCounts, Meter, Periodic};
use crate::report::progress::{BarKind, Display, bar};
use crate::source::Location;

/// A record handed to the sender: a person, or an unusable entry (settled at once as invalid).
enum Pending {
    Person(Person, Location),
    Malformed(Location, String),
}

/// Where the rows go.
pub(crate) enum Sink {
    /// Written as people settle.
    Direct(Receipt),
    /// Held by the journal until the watermark passes them (`--checkpoint`). `unreleased` keeps a
    /// copy of the rows this run settled that the watermark has not passed yet: if the run stops,
    /// they are written after the checkpointed part of the receipt (and cut off again on resume).
    Journal {
        journal: Journal,
        /// The checkpoint file.
        path: PathBuf,
        unreleased: BTreeMap<(usize, u64), (Vec<u8>, RowOutcome)>,
        /// Rows for people not sent (the run stopped), keyed like records.
        tail: BTreeMap<(usize, u64), (Vec<u8>, RowOutcome)>,
    },
}

/// The state shared by the item stream (which adds people) and the hooks (which settle them).
pub(crate) struct Book {
    pub sink: Sink,
    action: GdprAction,
    /// Records handed to the sender and not yet settled, by (input, index).
    in_flight: HashMap<(usize, u64), Pending>,
    /// Next record index per input.
    next_index: Vec<u64>,
    /// The first error writing the receipt; the run stops when it happens.
    pub error: Option<anyhow::Error>,
}

impl Book {
    pub(crate) fn new(sink: Sink, action: GdprAction) -> Book {
        Book {
            sink,
            action,
            in_flight: HashMap::new(),
            next_index: Vec::new(),
            error: None,
        }
    }

    /// The next record index of `input`: every person and every unusable entry the second pass
    /// yields takes one, in list order (the same on every run over the same list).
    pub(crate) fn index(&mut self, input: usize) -> u64 {
        if self.next_index.len() <= input {
            self.next_index.resize(input + 1, 0);
        }
        let index = self.next_index[input];
        self.next_index[input] += 1;
        index
    }

    /// Whether an earlier run of this checkpointed job settled the record (it has a row already).
    pub(crate) fn is_settled(&self, input: usize, index: u64) -> bool {
        match &self.sink {
            Sink::Direct(_) => false,
            Sink::Journal { journal, .. } => journal.checkpoint().is_settled(input, index),
        }
    }

    /// The sender's item for `person`, remembered until it is settled.
    pub(crate) fn item(
        &mut self,
        input: usize,
        index: u64,
        location: Location,
        person: Person,
    ) -> Work {
        let op = operation(self.action, &person);
        let record = RecordInfo::built(location.clone(), input, index, op.body.to_string());
        self.in_flight
            .insert((input, index), Pending::Person(person, location));
        Work {
            record,
            outcome: Outcome::Mapped(op),
        }
    }

    /// The sender's item for an unusable entry: settled at once as invalid, it gets its row then.
    pub(crate) fn malformed(
        &mut self,
        input: usize,
        index: u64,
        location: Location,
        why: String,
    ) -> Work {
        let record = RecordInfo::built(location.clone(), input, index, String::new());
        let invalid = Invalid {
            action: None,
            field: None,
            message: why.clone(),
        };
        self.in_flight
            .insert((input, index), Pending::Malformed(location, why));
        Work {
            record,
            outcome: Outcome::Invalid(invalid),
        }
    }

    fn settle(&mut self, settlement: &Settlement) -> Result<()> {
        let key = (settlement.record.input, settlement.record.index);
        let Some(pending) = self.in_flight.remove(&key) else {
            return Ok(());
        };
        let (person, location) = match pending {
            Pending::Malformed(location, why) => {
                return self.row(key, RowOutcome::Invalid, None, None, &why, &location);
            }
            Pending::Person(person, location) => (person, location),
        };
        let (outcome, status, reason) = match &settlement.result {
            Settled::Accepted => (RowOutcome::Accepted, Some("2xx".to_string()), String::new()),
            Settled::Rejected { status, reason } => (
                RowOutcome::Rejected,
                status.map(|s| s.to_string()),
                reason.clone(),
            ),
            Settled::Failed { status, reason } => (
                RowOutcome::Failed,
                status.map(|s| s.to_string()),
                reason.clone(),
            ),
            Settled::Invalid { reason } | Settled::Skipped { reason } => {
                (RowOutcome::Failed, None, format!("not sent: {reason}"))
            }
        };
        self.row(
            key,
            outcome,
            Some(&person),
            status.as_deref(),
            &reason,
            &location,
        )
    }

    /// One row: into the receipt, or to the journal (settled) / the tail (not sent).
    fn row(
        &mut self,
        key: (usize, u64),
        outcome: RowOutcome,
        person: Option<&Person>,
        status: Option<&str>,
        reason: &str,
        location: &Location,
    ) -> Result<()> {
        let row = self.receipt_row(outcome, person, status, reason, location);
        match &mut self.sink {
            Sink::Direct(receipt) => receipt.row(&row),
            Sink::Journal {
                journal,
                unreleased,
                ..
            } => {
                let bytes = row.encode()?;
                let kind = match outcome {
                    RowOutcome::Accepted => Kind::Accepted,
                    RowOutcome::Rejected => Kind::Rejected,
                    RowOutcome::Failed => Kind::Failed,
                    RowOutcome::Invalid => Kind::Invalid,
                };
                journal.settled(key.0, key.1, kind, Some(bytes.clone()))?;
                unreleased.insert(key, (bytes, outcome));
                Ok(())
            }
        }
    }

    /// A row that is not a settlement (the run stopped before the person was sent): in the
    /// receipt at once, or kept for the tail of a checkpointed receipt.
    fn unsent_row(
        &mut self,
        key: (usize, u64),
        outcome: RowOutcome,
        person: Option<&Person>,
        reason: &str,
        location: &Location,
    ) -> Result<()> {
        let row = self.receipt_row(outcome, person, None, reason, location);
        match &mut self.sink {
            Sink::Direct(receipt) => receipt.row(&row),
            Sink::Journal { tail, .. } => {
                tail.insert(key, (row.encode()?, outcome));
                Ok(())
            }
        }
    }

    /// The receipt row of this run's action, stamped now.
    fn receipt_row<'a>(
        &self,
        outcome: RowOutcome,
        person: Option<&'a Person>,
        status: Option<&'a str>,
        reason: &'a str,
        location: &'a Location,
    ) -> receipt::Row<'a> {
        receipt::Row {
            person,
            action: super::action_name(self.action),
            outcome,
            status,
            reason,
            time: Utc::now(),
            source: location,
        }
    }

    /// Watermarks moved: flush the receipt, or let the journal write the rows they cover.
    fn advance(&mut self, watermarks: &[(usize, u64)]) -> Result<()> {
        match &mut self.sink {
            Sink::Direct(receipt) => receipt.flush(),
            Sink::Journal {
                journal,
                unreleased,
                ..
            } => {
                for &(input, watermark) in watermarks {
                    let below: Vec<_> = unreleased
                        .range((input, 0)..(input, watermark))
                        .map(|(k, _)| *k)
                        .collect();
                    for key in below {
                        unreleased.remove(&key);
                    }
                }
                Ok(journal.advance(watermarks)?)
            }
        }
    }

    /// Write "not sent" rows for people still in flight (the run stopped before they settled).
    pub(crate) fn not_sent_in_flight(&mut self, why: &str) -> Result<()> {
        let mut left: Vec<_> = self.in_flight.drain().collect();
        left.sort_by_key(|(key, _)| *key);
        for (key, pending) in left {
            match pending {
                Pending::Person(person, location) => self.not_sent(key, &person, &location, why)?,
                Pending::Malformed(location, reason) => {
                    self.unread_malformed(key, &location, &reason)?
                }
            }
        }
        Ok(())
    }

    /// A "failed" row for a person the run never sent.
    pub(crate) fn not_sent(
        &mut self,
        key: (usize, u64),
        person: &Person,
        location: &Location,
        why: &str,
    ) -> Result<()> {
        let reason = format!("not sent: {why}");
        self.unsent_row(key, RowOutcome::Failed, Some(person), &reason, location)
    }

    /// The row of an unusable entry the run did not get to.
    pub(crate) fn unread_malformed(
        &mut self,
        key: (usize, u64),
        location: &Location,
        why: &str,
    ) -> Result<()> {
        self.unsent_row(key, RowOutcome::Invalid, None, why, location)
    }

    /// End the rows: in direct mode, hand back the receipt (its counts are the run's). With a
    /// checkpoint: write the checkpoint covering every row the watermarks pass (not yet marked
    /// finished: that waits for the trailer, see [`JobEnd`]), then append to the receipt the rows
    /// past the watermarks (settled or not sent) and return it with the counts of the whole job.
    pub(crate) fn close(self, watermarks: &[(usize, u64)]) -> Result<(Receipt, Option<JobEnd>)> {
        match self.sink {
            Sink::Direct(receipt) => Ok((receipt, None)),
            Sink::Journal {
                mut journal,
                path: checkpoint_path,
                mut unreleased,
                tail,
            } => {
                journal
                    .advance(watermarks)
                    .and_then(|()| journal.finish(false, &[]))?;
                let cp = journal.checkpoint().clone();
                drop(journal);
                let path = PathBuf::from(&cp.dead_letter.path);
                let totals = cp.counters;
                unreleased.retain(|&(input, index), _| !cp.is_settled(input, index));
                let mut counts = Counts {
                    accepted: totals.accepted,
                    rejected: totals.rejected,
                    failed: totals.failed,
                    invalid: totals.invalid + totals.skipped,
                };
                let mut rest = unreleased;
                rest.extend(tail);
                let mut receipt = Receipt::append(&path, Counts::default())?;
                for (bytes, outcome) in rest.values() {
                    receipt.raw(bytes)?;
                    counts.add(*outcome);
                }
                receipt.set_counts(counts);
                Ok((
                    receipt,
                    Some(JobEnd {
                        checkpoint: cp,
                        path: checkpoint_path,
                    }),
                ))
            }
        }
    }
}

/// The last step of a checkpointed job that handled everyone: once the receipt's trailer is on
/// disk, mark the checkpoint finished. Its recorded receipt length stays before the trailer, so a
/// crash between the two is resumed by cutting the trailer and writing it again.
pub(crate) struct JobEnd {
    checkpoint: Checkpoint,
    path: PathBuf,
}

impl JobEnd {
    pub(crate) fn mark_finished(mut self) -> Result<()> {
        for input in &mut self.checkpoint.inputs {
            input.finished = true;
        }
        self.checkpoint.finished = true;
        self.checkpoint
            .write_atomic(&self.path)
            .context("writing the checkpoint")
    }
}

/// The sender's hooks: receipt rows as people settle, and the progress: the bar on a terminal, the
/// plain progress line every interval when nobody watches (as `send`'s), or nothing.
pub(crate) struct BookHooks {
    pub book: Rc<RefCell<Book>>,
    pub bar: indicatif::ProgressBar,
    pub stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    meter: Arc<Mutex<Meter>>,
    /// People settled this run (the progress line's position).
    settled: Arc<AtomicU64>,
    lines: Option<Periodic>,
}

impl BookHooks {
    pub(crate) fn new(
        book: Rc<RefCell<Book>>,
        display: Display,
        people: u64,
        stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    ) -> BookHooks {
        let meter = Arc::new(Mutex::new(Meter::new(Some(people))));
        let settled = Arc::new(AtomicU64::new(0));
        let lines = match display {
            Display::Lines(interval) => {
                let settled = Arc::clone(&settled);
                Some(Periodic::start(interval, Arc::clone(&meter), move || {
                    settled.load(Ordering::Relaxed)
                }))
            }
            _ => None,
        };
        BookHooks {
            book,
            bar: bar(display == Display::Bar, BarKind::Items, people),
            stop,
            meter,
            settled,
            lines,
        }
    }

    /// Remove the bar and stop the progress line (before the summary).
    pub(crate) fn finish_progress(&mut self) {
        self.bar.finish_and_clear();
        if let Some(mut lines) = self.lines.take() {
            lines.finish();
        }
    }

    fn failed(&mut self, e: anyhow::Error) {
        let mut book = self.book.borrow_mut();
        if book.error.is_none() {
            book.error = Some(e);
            self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
}

impl Hooks for BookHooks {
    fn on_record(&mut self, settlement: &Settlement) {
        let result = self.book.borrow_mut().settle(settlement);
        if let Err(e) = result {
            self.failed(e);
        }
    }

    fn on_settled(&mut self, watermarks: &[(usize, u64)]) {
        let result = self.book.borrow_mut().advance(watermarks);
        if let Err(e) = result {
            self.failed(e);
        }
    }

    fn on_tick(&mut self, stats: &DeliveryStats) {
        let settled = stats.accepted + stats.rejected + stats.failed;
        self.settled.store(settled, Ordering::Relaxed);
        if let Ok(mut meter) = self.meter.lock() {
            let counts = RowCounts {
                read: stats.records,
                accepted: stats.accepted,
                rejected: stats.rejected + stats.invalid,
                failed: stats.failed,
                requests: stats.requests,
                retries: stats.retries,
                throttled: stats.throttled,
            };
            meter.set(counts, settled, Instant::now());
        }
        self.bar.set_position(settled);
        self.bar.set_message(format!(
            "{} accepted, {} rejected, {} failed, {} retries",
            stats.accepted, stats.rejected, stats.failed, stats.retries
        ));
    }
}
