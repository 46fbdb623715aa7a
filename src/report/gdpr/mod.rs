//! What a GDPR run shows: before it sends, the dry-run listing, the problems of the lists and the
//! totals of the first reading ([`listing`]); while it sends, the progress over the people
//! ([`PeopleProgress`]); after, how it went ([`Sent`]) and the `--report` JSON ([`json`]).

pub(crate) mod json;
pub(crate) mod listing;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Result;
use chrono::{DateTime, Utc};

use crate::deliver::{Delivered, DeliveryStats, Hooks};
use crate::exit::{Exit, Fatal, exit_for_error};
use crate::ledger::receipt::{self, Receipt, Totals, Trailer};
use crate::ledger::{Book, Closed, Counters};
use crate::map::gdpr::{GdprAction, action_name};
use crate::report::messages::{say, warning};
use crate::report::progress::line::{Meter, Periodic, RowCounts};
use crate::report::progress::{BarKind, Display, bar};
use crate::report::run_report::Status;
use crate::stream::people::{Listed, People};

/// `""` for one, `"s"` for any other number.
pub(crate) fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The workspace a run goes to, as it is shown (never the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Workspace {
    pub site_id: String,
    /// The Track API host (`track.customer.io`, `track-eu.customer.io`, or the `--endpoint` host).
    pub host: String,
    /// `us`, `eu`, `custom endpoint` or `in-process sandbox`.
    pub region: String,
}

/// What a GDPR job is about, for its receipt's trailer, its report and its summary.
pub(crate) struct About<'a> {
    pub action: GdprAction,
    pub listed: &'a Listed,
    pub workspace: Workspace,
    pub started: DateTime<Utc>,
}

impl About<'_> {
    /// The receipt's trailer of a run that ended as `ending` says, `complete` when everyone was
    /// handled.
    pub(crate) fn trailer(&self, ending: &str, complete: bool) -> Trailer {
        let (scan, digest) = (&self.listed.scan, &self.listed.digest);
        Trailer {
            action: action_name(self.action).to_string(),
            lists: self
                .listed
                .lists
                .iter()
                .map(|l| l.name.to_string())
                .collect(),
            sha256: digest.0.clone(),
            list_bytes: digest.1,
            entries: scan.entries,
            duplicates: scan.duplicates,
            blank: scan.blank,
            site_id: self.workspace.site_id.clone(),
            host: self.workspace.host.clone(),
            started: self.started,
            finished: Utc::now(),
            ending: ending.to_string(),
            status: if complete { "complete" } else { "interrupted" },
        }
    }

    /// The lists as the report's `inputs`: each with its entries.
    pub(crate) fn inputs(&self) -> Vec<(PathBuf, u64)> {
        let listed = self.listed;
        listed
            .lists
            .iter()
            .zip(&listed.scan.entries_by_list)
            .map(|(list, entries)| (PathBuf::from(&*list.name), *entries))
            .collect()
    }
}

/// The end of a run whose delivery `report` gave: the records it did not settle and the people
/// `people` never read go into the receipt as not sent, then its trailer, then the job is marked
/// finished when it is complete. Returns what the run did, and its ledger. A receipt or checkpoint
/// that could not be written stopped the run: nothing more is written, and the error says so.
pub(crate) fn conclude(
    about: &About<'_>,
    mut report: Delivered,
    book: Book<Receipt>,
    people: &mut People<'_>,
    (checkpointed, clock): (bool, Instant),
) -> Result<(Sent, Closed<Receipt>)> {
    let read_error = people.take_error();
    report.cut_short = read_error.is_some();
    let ending = ending(&report, read_error.as_ref());
    // Every person gets a row: those in flight and never settled, then those never read.
    people.past_errors();
    let complete = report.is_complete() && people.changed() == 0;
    let mut ledger = book.close(&report, complete, people.by_ref(), &ending);
    if let Some(e) = ledger.take_error() {
        return Err(stopped_by(about.action, &report, checkpointed, e));
    }
    let trailer = about.trailer(&ending, complete);
    let counts = match receipt::complete(&mut ledger, &trailer, complete) {
        Ok(counts) => counts,
        Err(e) => return Err(stopped_by(about.action, &report, checkpointed, e)),
    };
    let sent = Sent {
        report,
        counts,
        receipt: ledger.path().to_path_buf(),
        trailer,
        changed: people.changed(),
        read_error,
        elapsed_seconds: clock.elapsed().as_secs_f64(),
    };
    Ok((sent, ledger))
}

/// How a run ended, as the receipt's `ending` says it.
fn ending(report: &Delivered, read_error: Option<&anyhow::Error>) -> String {
    if let Some(halt) = &report.halted {
        format!("stopped: {}", halt.message)
    } else if report.stopped_early {
        "interrupted (Ctrl-C)".to_string()
    } else if let Some(e) = read_error {
        format!("stopped: {e:#}")
    } else {
        "complete".to_string()
    }
}

/// The line of a resumed job its checkpoint says is finished: nothing to do.
pub(crate) fn finished_text(checkpoint: &Path, receipt: &Path) -> String {
    format!(
        "the job of checkpoint {} is finished already: its receipt is {}; nothing to do",
        checkpoint.display(),
        receipt.display()
    )
}

/// The line a resumed job begins with: what earlier runs settled of the lists' `people`.
pub(crate) fn resuming_text(
    receipt: &Path,
    earlier: Counters,
    people: u64,
    to_send: u64,
) -> String {
    let e = earlier;
    format!(
        "resuming {}: earlier runs settled {} of {people} people ({} accepted, {} rejected, {} failed); {to_send} left to send",
        receipt.display(),
        e.accepted + e.rejected + e.failed,
        e.accepted,
        e.rejected,
        e.failed
    )
}

/// The end of a run that a receipt or checkpoint that could not be written stopped: said, and
/// the error (exit 4) it ends with. Nothing more was written.
fn stopped_by(
    action: GdprAction,
    report: &Delivered,
    checkpointed: bool,
    e: anyhow::Error,
) -> anyhow::Error {
    let s = &report.stats;
    say!(
        "{}: stopped by a local error after {} accepted, {} rejected, {} failed ({} request{} this run)",
        action_name(action),
        s.accepted,
        s.rejected,
        s.failed,
        s.requests,
        plural(s.requests)
    );
    let resume = if checkpointed {
        "the checkpoint covers the people settled before it; fix that and run the same command \
         with --resume"
    } else {
        "the receipt is incomplete; fix that and run the list again (deleting or suppressing \
         someone twice is accepted)"
    };
    Fatal::new(Exit::LocalError, format!("stopped: {e:#}; {resume}")).into()
}

/// What a GDPR run did, once its receipt is finished.
pub(crate) struct Sent {
    pub report: Delivered,
    /// The receipt's counts (of the whole job, with a checkpoint).
    pub counts: Totals,
    pub receipt: PathBuf,
    /// The receipt's trailer: how the run ended, whether it handled everyone.
    pub trailer: Trailer,
    /// Entries not in the first reading (the list changed while it was read): not sent.
    pub changed: u64,
    pub read_error: Option<anyhow::Error>,
    pub elapsed_seconds: f64,
}

/// Said once after the counts: Customer.io answers 2xx to a delete or a suppression of a person
/// it does not have, so an accepted row is no proof that the person was there.
fn accepted_note(action: GdprAction) -> Option<&'static str> {
    match action {
        GdprAction::Delete | GdprAction::Suppress => Some(
            "note: Customer.io accepts deletes and suppressions of people it does not have,\n  \
             so \"accepted\" does not prove the person existed; for proof of what the\n  \
             workspace holds, read people back with `cio-replay verify` (App API)",
        ),
        GdprAction::Unsuppress => None,
    }
}

impl Sent {
    /// Say how the run went (`people`: the lists' distinct people).
    pub(crate) fn say(&self, action: GdprAction, people: u64, checkpointed: bool) {
        let (s, c) = (&self.report.stats, &self.counts);
        say!(
            "{}: {} accepted, {} rejected, {} failed of {people} people ({} request{} this run, {} retr{}) in {:.1} s",
            action_name(action),
            c.accepted,
            c.rejected,
            c.failed,
            s.requests,
            plural(s.requests),
            s.retries,
            if s.retries == 1 { "y" } else { "ies" },
            self.elapsed_seconds
        );
        say!(
            "receipt: {} ({})",
            self.receipt.display(),
            self.trailer.ending
        );
        if let (Some(note), true) = (accepted_note(action), c.accepted > 0) {
            say!("{note}");
        }
        if !self.complete() && checkpointed {
            say!("not finished: run the same command with --resume to continue the job");
        }
        say!(
            "re-running the same list is safe: {}",
            match action {
                GdprAction::Delete =>
                    "deleting someone already deleted is accepted again, not an error",
                GdprAction::Suppress =>
                    "suppressing someone already suppressed is accepted again, not an error",
                GdprAction::Unsuppress =>
                    "unsuppressing someone not suppressed is accepted, not an error",
            }
        );
    }

    /// Every person of the job was handled.
    pub(crate) fn complete(&self) -> bool {
        self.trailer.status == "complete"
    }

    /// The report's `status` and `exit_code` of the run.
    pub(crate) fn status(&self) -> (Status, Exit) {
        let outcome = self.outcome();
        let status = Status::of(&outcome, &self.report);
        (status, outcome.unwrap_or_else(|e| exit_for_error(&e)))
    }

    /// Warn about a list that changed while it was read, and give the job's exit.
    pub(crate) fn exit(self) -> Result<Exit> {
        let changed = self.changed;
        if changed > 0 {
            warning!(
                "the list changed while the run read it: {changed} entr{} not in the first \
                 reading {} not sent; check the list and re-run it",
                if changed == 1 { "y" } else { "ies" },
                if changed == 1 { "was" } else { "were" }
            );
        }
        self.outcome()
    }

    /// How the job ends: a halt's or a read error's own exit, else as the counts say.
    pub(crate) fn outcome(&self) -> Result<Exit> {
        if let Some(halt) = &self.report.halted {
            return Err(Fatal::new(halt.exit, halt.message.clone()).into());
        }
        if let Some(e) = &self.read_error {
            return Err(Fatal::new(exit_for_error(e), format!("{e:#}")).into());
        }
        Ok(self.counted_exit())
    }

    /// The exit of a job that was not stopped by a halt or a read error.
    fn counted_exit(&self) -> Exit {
        let c = &self.counts;
        let exit = if c.invalid + c.rejected + c.failed > 0 || self.changed > 0 {
            Exit::Partial
        } else {
            Exit::Success
        };
        // A stop after everyone was settled changed nothing: the job is complete.
        if self.report.stopped_early {
            Exit::Interrupted.worst(exit)
        } else {
            exit
        }
    }
}

/// The progress of a GDPR run over its people: the bar on a terminal, the plain progress line
/// every interval when nobody watches (as `send`'s), or nothing.
pub(crate) struct PeopleProgress {
    bar: indicatif::ProgressBar,
    meter: Arc<Mutex<Meter>>,
    /// People settled this run (the progress line's position).
    settled: Arc<AtomicU64>,
    lines: Option<Periodic>,
}

impl PeopleProgress {
    /// The progress over `people` people, shown as `display` says.
    pub(crate) fn new(display: Display, people: u64) -> PeopleProgress {
        let meter = Arc::new(Mutex::new(Meter::new(Some(people))));
        let settled = Arc::new(AtomicU64::new(0));
        let lines = Periodic::when(display, &meter, Arc::clone(&settled));
        PeopleProgress {
            bar: bar(display == Display::Bar, BarKind::Items, people),
            meter,
            settled,
            lines,
        }
    }

    /// Remove the bar and stop the progress line (before the summary).
    pub(crate) fn finish(&mut self) {
        self.bar.finish_and_clear();
        if let Some(mut lines) = self.lines.take() {
            lines.finish();
        }
    }
}

impl Hooks for PeopleProgress {
    fn on_tick(&mut self, stats: &DeliveryStats) {
        let settled = stats.accepted + stats.rejected + stats.failed;
        self.settled.store(settled, Ordering::Relaxed);
        if let Ok(mut meter) = self.meter.lock() {
            let counts = RowCounts::of(stats);
            meter.set(counts, settled, Instant::now());
        }
        self.bar.set_position(settled);
        self.bar.set_message(format!(
            "{} accepted, {} rejected, {} failed, {} retries",
            stats.accepted, stats.rejected, stats.failed, stats.retries
        ));
    }
}
