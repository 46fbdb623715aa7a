//! The sending half of a GDPR job: the second pass over the lists into the shared sender, a
//! receipt row for every person (those never sent included), the trailer, the report, and the
//! job marked finished only once the trailer is on disk.

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use anyhow::Result;
use chrono::{DateTime, Utc};

use super::GdprAction;
use super::action_name;
use super::confirm::Workspace;
use super::fold::{self, Scan, Second};
use super::list::ListSource;
use super::receipt::{Counts, Receipt, Trailer};
use super::report::{self, CheckpointFacts};
use super::resume::Job;
use super::settle::{Book, BookHooks, Sink};
use super::show::plural;
use crate::deliver::{DeliveryReport, DeliverySettings, Transport, deliver};
use crate::exit::{Exit, Fatal, exit_for_error, usage};
use crate::ledger::site_id_hash;
use crate::report::delivery::merge;
use crate::report::messages::{say, warning};
use crate::report::progress::Display;
use crate::report::summary::run_report::{RunFacts, Status};

/// The lists as the first pass found them, and where they go.
pub(crate) struct Lists<'a> {
    pub action: GdprAction,
    pub sources: &'a [ListSource],
    pub column: Option<&'a str>,
    pub scan: &'a Scan,
    /// Hex SHA-256 of the lists' bytes, and their size.
    pub sha256: &'a str,
    pub list_bytes: u64,
    pub workspace: &'a Workspace,
    pub started: DateTime<Utc>,
}

/// How the job's run is sent and recorded.
pub(crate) struct Run<'a> {
    pub delivery: &'a DeliverySettings,
    pub transport: &'a dyn Transport,
    pub stop: &'a Arc<AtomicBool>,
    pub display: Display,
    /// People still to send (the progress bar's length).
    pub to_send: u64,
    pub checkpoint: Option<&'a Path>,
    pub report: Option<&'a Path>,
}

/// What the run did, once the receipt is finished.
pub(crate) struct Sent {
    pub report: DeliveryReport,
    pub counts: Counts,
    pub receipt: PathBuf,
    pub ending: String,
    pub complete: bool,
    /// Entries not in the first reading (the list changed while it was read): not sent.
    pub changed: u64,
    pub read_error: Option<anyhow::Error>,
    pub elapsed_seconds: f64,
}

/// Send the people of `lists` not settled yet, into the receipt (`job`, or a new receipt at the
/// path when there is no checkpoint).
pub(crate) fn send(lists: &Lists<'_>, job: Result<Job, PathBuf>, run: &Run<'_>) -> Result<Sent> {
    let name = action_name(lists.action);
    let (sink, checkpoint_facts) = match job {
        Err(path) => (
            Sink::Direct(Receipt::create(&path).map_err(|e| usage(format!("{e:#}")))?),
            None,
        ),
        Ok(job) => {
            let facts = (job.resumed, job.earlier());
            (job.begin()?, Some(facts))
        }
    };
    let book = Rc::new(RefCell::new(Book::new(sink, lists.action)));
    let stop = run.stop;
    let mut hooks = BookHooks::new(Rc::clone(&book), run.display, run.to_send, Arc::clone(stop));
    let changed = Cell::new(0u64);
    let read_error: RefCell<Option<anyhow::Error>> = RefCell::new(None);
    let clock = Instant::now();
    let mut people = fold::second_pass(lists.sources, lists.column, &lists.scan.seen, &changed);
    let mut items = std::iter::from_fn(|| {
        loop {
            let next = match people.next()? {
                Ok(next) => next,
                Err(e) => {
                    *read_error.borrow_mut() = Some(e);
                    return None;
                }
            };
            let mut b = book.borrow_mut();
            let input = next.input();
            let index = b.index(input);
            if b.is_settled(input, index) {
                continue;
            }
            return Some(match next {
                Second::Person {
                    location, person, ..
                } => b.item(input, index, location, person),
                Second::Malformed { location, why, .. } => b.malformed(input, index, location, why),
            });
        }
    });
    let report = deliver(&mut items, run.delivery, run.transport, &mut hooks, stop)?;
    hooks.finish_progress();
    drop(hooks);
    let ending = if let Some(halt) = &report.halted {
        format!("stopped: {}", halt.message)
    } else if report.stopped_early {
        "interrupted (Ctrl-C)".to_string()
    } else if let Some(e) = read_error.borrow().as_ref() {
        format!("stopped: {e:#}")
    } else {
        "complete".to_string()
    };
    // A receipt or checkpoint that could not be written stopped the run: nothing more is written.
    let local_error = book.borrow_mut().error.take();
    if let Some(e) = local_error {
        let s = &report.stats;
        say!(
            "{name}: stopped by a local error after {} accepted, {} rejected, {} failed ({} request{} this run)",
            s.accepted,
            s.rejected,
            s.failed,
            s.requests,
            plural(s.requests)
        );
        let resume = if run.checkpoint.is_some() {
            "the checkpoint covers the people settled before it; fix that and run the same \
             command with --resume"
        } else {
            "the receipt is incomplete; fix that and run the list again (deleting or suppressing \
             someone twice is accepted)"
        };
        return Err(Fatal::new(Exit::LocalError, format!("stopped: {e:#}; {resume}")).into());
    }
    // Every person gets a row: those handed to the sender but never settled, then those never read.
    {
        let mut b = book.borrow_mut();
        b.not_sent_in_flight(&ending)?;
        for next in people.by_ref() {
            let Ok(next) = next else { continue };
            let input = next.input();
            let index = b.index(input);
            if b.is_settled(input, index) {
                continue;
            }
            match next {
                Second::Person {
                    person, location, ..
                } => b.not_sent((input, index), &person, &location, &ending)?,
                Second::Malformed { location, why, .. } => {
                    b.unread_malformed((input, index), &location, &why)?
                }
            }
        }
    }
    let book = Rc::try_unwrap(book)
        .map_err(|_| anyhow::anyhow!("internal: receipt still shared"))?
        .into_inner();
    let complete = ending == "complete" && changed.get() == 0;
    let (receipt, job_end) = book.close(&report.watermarks)?;
    let receipt_path = receipt.path().to_path_buf();
    let trailer = Trailer {
        action: name.to_string(),
        lists: lists.sources.iter().map(|s| s.name.to_string()).collect(),
        sha256: lists.sha256.to_string(),
        list_bytes: lists.list_bytes,
        entries: lists.scan.entries,
        duplicates: lists.scan.duplicates,
        blank: lists.scan.blank,
        site_id: lists.workspace.site_id.clone(),
        host: lists.workspace.host.clone(),
        started: lists.started,
        finished: Utc::now(),
        ending: ending.clone(),
        status: if complete { "complete" } else { "interrupted" },
    };
    let counts = receipt.finish(&trailer)?;
    if let (true, Some(end)) = (complete, job_end) {
        // Only now, with the trailer on disk: a crash before this resumes and rewrites it.
        end.mark_finished()?;
    }
    let sent = Sent {
        report,
        counts,
        receipt: receipt_path,
        ending,
        complete,
        changed: changed.get(),
        read_error: read_error.into_inner(),
        elapsed_seconds: clock.elapsed().as_secs_f64(),
    };

    if let Some(path) = run.report {
        let facts = checkpoint_facts.zip(run.checkpoint);
        let facts = facts.map(|((resumed, earlier), path)| CheckpointFacts {
            path,
            resumed,
            finished: complete,
            earlier,
        });
        let mut value = report::json(
            &trailer,
            lists.scan,
            &sent.counts,
            &sent.receipt,
            &lists.workspace.region,
            &sent.report.stats,
            facts.as_ref(),
        );
        let outcome = sent.outcome();
        let run_facts = RunFacts {
            started_at: lists.started,
            status: Status::of(&outcome, &sent.report),
            exit_code: outcome.as_ref().map_or_else(exit_for_error, |e| *e).code(),
            inputs: lists
                .sources
                .iter()
                .zip(&lists.scan.entries_by_list)
                .map(|(source, entries)| (PathBuf::from(&*source.name), *entries))
                .collect(),
            endpoint: lists.workspace.host.clone(),
            region: lists.workspace.region.clone(),
            site_id_hash: site_id_hash(&lists.workspace.site_id),
        };
        merge(&mut value, run_facts.to_json(trailer.finished));
        report::write(path, &value)?;
    }
    Ok(sent)
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
        say!("receipt: {} ({})", self.receipt.display(), self.ending);
        if let (Some(note), true) = (accepted_note(action), c.accepted > 0) {
            say!("{note}");
        }
        if !self.complete && checkpointed {
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
        if let Some(halt) = self.report.halted {
            return Err(Fatal::new(halt.exit, halt.message).into());
        }
        if let Some(e) = self.read_error {
            return Err(e);
        }
        Ok(self.counted_exit())
    }

    /// How the job ends, as [`Sent::exit`] will say (for the report, without its warning).
    fn outcome(&self) -> Result<Exit> {
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
        let changed = self.changed;
        let c = &self.counts;
        let exit = if c.invalid + c.rejected + c.failed > 0 || changed > 0 {
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
