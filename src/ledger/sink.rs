//! What a ledger writes of each settled record, one trait over both of its files: the
//! dead-letter file of `send` (a line for each record that did not get through) and the receipt of
//! `gdpr` (a row for each person). The journal is their one writer; a sink only says what to
//! write, and when.

use std::path::Path;

use crate::deliver::{Settled, Settlement};

/// What became of a record, as the checkpoint counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Accepted,
    Skipped,
    Invalid,
    Rejected,
    /// Retries exhausted, or never sent; a dead letter like a rejection.
    Failed,
}

impl Kind {
    /// The kind of a settlement's result.
    pub(crate) fn of(result: &Settled) -> Kind {
        match result {
            Settled::Accepted => Kind::Accepted,
            Settled::Skipped { .. } => Kind::Skipped,
            Settled::Invalid { .. } => Kind::Invalid,
            Settled::Rejected { .. } => Kind::Rejected,
            Settled::Failed { .. } => Kind::Failed,
        }
    }
}

/// When a settled record's entry is counted and written (see [`super::journal`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Release {
    /// As the record settles.
    AtOnce,
    /// Once the input's watermark passes it, in input order.
    AtWatermark,
}

/// What a settled record leaves in a ledger: how it counts, and its entry (with its line end), if
/// any: an accepted event leaves no dead letter, every person a receipt row.
#[derive(Debug)]
pub(crate) struct Entry {
    pub kind: Kind,
    pub bytes: Option<Vec<u8>>,
}

/// Where a ledger's entries go and what they say.
pub(crate) trait Sink {
    /// What the file is called in messages: "dead-letter file", "receipt".
    const WHAT: &'static str;
    /// The flag that names the file: `--dead-letter`, `--receipt` (without the dashes).
    const FLAG: &'static str;

    /// The file.
    fn path(&self) -> &Path;

    /// A new file's first bytes (a receipt's column names): the file is then created when the job
    /// starts, and never over an existing one. Without a header, entries are appended to whatever
    /// the file holds, and the file is made at the first one.
    fn header() -> Option<Vec<u8>>;

    /// When entries are written in a job with a checkpoint (without one, the journal writes
    /// every entry as its record settles: nothing is cut back, so nothing need wait).
    fn release(&self) -> Release;

    /// What a settled record leaves.
    fn entry(&self, settlement: &Settlement) -> std::io::Result<Entry>;

    /// Whether a record read but never settled (the run stopped first) gets an entry too: a
    /// receipt names every person, while dead letters leave such records to `--resume`.
    fn lists_unsent(&self) -> bool;
}
