//! From the sender's settlements to receipt rows: the people in flight, one row per person as each
//! is settled, and rows for people never sent when a run stops early.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use anyhow::Result;
use chrono::Utc;

use super::receipt::{Receipt, RowOutcome};
use super::{Person, operation};
use crate::cli::GdprAction;
use crate::input::{Location, Record};
use crate::mapping::Outcome;
use crate::pipeline::Item;
use crate::progress::{BarKind, bar};
use crate::send::{DeliveryStats, Hooks, Settled, Settlement};

/// The state shared by the item stream (which adds people) and the hooks (which settle them).
pub struct Book {
    pub receipt: Receipt,
    action: GdprAction,
    /// People handed to the sender and not yet settled, by (input, index).
    in_flight: HashMap<(usize, u64), (Person, Location)>,
    /// Next record index per input.
    next_index: Vec<u64>,
    /// The first error writing the receipt; the run stops when it happens.
    pub error: Option<anyhow::Error>,
}

impl Book {
    pub fn new(receipt: Receipt, action: GdprAction) -> Book {
        Book {
            receipt,
            action,
            in_flight: HashMap::new(),
            next_index: Vec::new(),
            error: None,
        }
    }

    /// The sender's item for `person`, remembered until it is settled.
    pub fn item(&mut self, input: usize, location: Location, person: Person) -> Item {
        if self.next_index.len() <= input {
            self.next_index.resize(input + 1, 0);
        }
        let index = self.next_index[input];
        self.next_index[input] += 1;
        let op = operation(self.action, &person);
        let record = Record {
            location: location.clone(),
            input,
            index,
            original: op.body.to_string(),
            event: Ok(op.body.clone()),
        };
        self.in_flight.insert((input, index), (person, location));
        Item {
            record,
            outcome: Outcome::Mapped(op),
        }
    }

    fn settle(&mut self, settlement: &Settlement) -> Result<()> {
        let key = (settlement.record.input, settlement.record.index);
        let Some((person, location)) = self.in_flight.remove(&key) else {
            return Ok(());
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
        let name = super::action_name(self.action);
        self.receipt.person(
            &person,
            name,
            outcome,
            status.as_deref(),
            &reason,
            Utc::now(),
            &location,
        )
    }

    /// Write "not sent" rows for people still in flight (the run stopped before they settled).
    pub fn not_sent_in_flight(&mut self, why: &str) -> Result<()> {
        let mut left: Vec<_> = self.in_flight.drain().collect();
        left.sort_by_key(|(key, _)| *key);
        for (_, (person, location)) in left {
            self.not_sent(&person, &location, why)?;
        }
        Ok(())
    }

    /// A "failed" row for a person the run never sent.
    pub fn not_sent(&mut self, person: &Person, location: &Location, why: &str) -> Result<()> {
        let name = super::action_name(self.action);
        let reason = format!("not sent: {why}");
        self.receipt.person(
            person,
            name,
            RowOutcome::Failed,
            None,
            &reason,
            Utc::now(),
            location,
        )
    }
}

/// The sender's hooks: receipt rows as people settle, and the progress bar.
pub struct BookHooks {
    pub book: Rc<RefCell<Book>>,
    pub bar: indicatif::ProgressBar,
    pub stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl BookHooks {
    pub fn new(
        book: Rc<RefCell<Book>>,
        show: bool,
        people: u64,
        stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    ) -> BookHooks {
        BookHooks {
            book,
            bar: bar(show, BarKind::Items, people),
            stop,
        }
    }
}

impl Hooks for BookHooks {
    fn on_record(&mut self, settlement: &Settlement) {
        let mut book = self.book.borrow_mut();
        if let Err(e) = book.settle(settlement) {
            if book.error.is_none() {
                book.error = Some(e);
                self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
    }

    fn on_settled(&mut self, _watermarks: &[(usize, u64)]) {
        let mut book = self.book.borrow_mut();
        if let Err(e) = book.receipt.flush() {
            if book.error.is_none() {
                book.error = Some(e);
                self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
    }

    fn on_tick(&mut self, stats: &DeliveryStats) {
        self.bar
            .set_position(stats.accepted + stats.rejected + stats.failed);
        self.bar.set_message(format!(
            "{} accepted, {} rejected, {} failed, {} retries",
            stats.accepted, stats.rejected, stats.failed, stats.retries
        ));
    }
}
