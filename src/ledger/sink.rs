//! Where a send's settled records go while it runs: through the checkpoint's journal (dead
//! letters in input order, covered by the checkpoint) or straight to the dead-letter file; the
//! progress bar and the first invalid or rejected records; and the first local write error, which stops the run as a Ctrl-C does.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;

use crate::exit::{Exit, Fatal};

use super::Session;
use crate::deliver::budget::ErrorBudget;
use crate::deliver::{DeliveryReport, DeliveryStats, Hooks, Ledger, Settled, Settlement};
use crate::ledger::dead_letter::DeadLetter;
use crate::report::delivery::{Problems, SendProgress};
use crate::report::messages::say;

/// Without a pre-scan's total, a percentage budget is applied once this many records settled.
const PERCENT_BUDGET_MIN_RECORDS: u64 = 100;

/// The `--max-invalid` budget as the send applies it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    pub budget: ErrorBudget,
    /// The input's records, when a pre-scan counted them.
    pub total: Option<u64>,
    /// Invalid and rejected records settled so far.
    pub bad: u64,
    pub settled: u64,
    pub exceeded: bool,
}

impl Budget {
    pub(crate) fn new(budget: ErrorBudget, total: Option<u64>) -> Budget {
        Budget {
            budget,
            total,
            bad: 0,
            settled: 0,
            exceeded: false,
        }
    }

    /// Count what earlier runs of the job settled (`bad` invalid or rejected of `settled`): the
    /// budget is the whole job's, not this run's.
    pub(crate) fn with_earlier(mut self, bad: u64, settled: u64) -> Budget {
        self.bad += bad;
        self.settled += settled;
        self
    }

    /// Whether the records counted so far (earlier runs' included) are over the budget.
    pub(crate) fn over(&self) -> bool {
        let total = self.total.unwrap_or(self.settled);
        self.budget.exceeded(self.bad, total)
    }

    /// Count one settled record; true when this one takes the run over the budget.
    fn count(&mut self, bad: bool) -> bool {
        self.settled += 1;
        self.bad += u64::from(bad);
        let total = match (self.total, self.budget) {
            (Some(total), _) => total,
            (None, ErrorBudget::Percent(_)) if self.settled < PERCENT_BUDGET_MIN_RECORDS => {
                return false;
            }
            (None, _) => self.settled,
        };
        if !self.exceeded && self.budget.exceeded(self.bad, total) {
            self.exceeded = true;
            return true;
        }
        false
    }
}

/// The [`Hooks`] of a send.
pub(crate) struct RecordSink {
    /// With --checkpoint: dead letters go through its journal instead of `dead_letter`.
    pub session: Option<Session>,
    dead_letter: DeadLetter,
    progress: SendProgress,
    /// The first invalid or rejected records, named as they settle.
    problems: Problems,
    /// The first error writing a dead letter or the checkpoint.
    error: Option<anyhow::Error>,
    stop: Arc<AtomicBool>,
    /// `--max-invalid`: over it, the run stops as on Ctrl-C.
    pub budget: Option<Budget>,
}

impl RecordSink {
    pub(crate) fn new(
        session: Option<Session>,
        dead_letter: DeadLetter,
        progress: SendProgress,
        stop: Arc<AtomicBool>,
    ) -> RecordSink {
        RecordSink {
            session,
            dead_letter,
            progress,
            problems: Problems::default(),
            error: None,
            stop,
            budget: None,
        }
    }

    /// Apply `--max-invalid` (`total`: the input's records, when a pre-scan counted them) to the
    /// whole job: what earlier runs of the checkpoint settled counts too. A job already over it
    /// is refused before anything is sent (exit 5).
    pub(crate) fn set_budget(
        &mut self,
        budget: Option<ErrorBudget>,
        total: Option<u64>,
    ) -> Result<()> {
        let earlier = self
            .session
            .as_ref()
            .map(Session::earlier)
            .unwrap_or_default();
        self.budget = budget.map(|b| {
            Budget::new(b, total).with_earlier(earlier.invalid + earlier.rejected, earlier.read)
        });
        match self.budget.filter(|b| b.over() && b.bad > 0) {
            None => Ok(()),
            Some(b) => Err(Fatal::new(
                Exit::OverBudget,
                format!(
                    "earlier runs of this checkpoint already dead-lettered {} invalid or rejected \
                     records, over --max-invalid {} (the budget counts the whole job): nothing was \
                     sent. Fix them and send the dead-letter file, or raise --max-invalid to go on",
                    b.bad, b.budget
                ),
            )
            .into()),
        }
    }

    /// Keep the first local error and stop the run as a Ctrl-C would.
    fn check(&mut self, result: Result<()>) {
        if let Err(e) = result
            && self.error.is_none()
        {
            self.error = Some(e);
            self.stop.store(true, Ordering::SeqCst);
        }
    }

    /// The delivery ended: clear the bar and write the checkpoint's last state (finished only
    /// when the job is complete). Returns the local error that stopped the run, if one did.
    pub(crate) fn finish(&mut self, report: &DeliveryReport) -> Option<anyhow::Error> {
        self.progress.finish();
        let (path, _) = self.dead_letters();
        if let Some(line) = self.problems.more_line(&path) {
            say!("{line}");
        }
        let mut error = self.error.take();
        if let Some(session) = self.session.as_mut() {
            let complete = report.is_complete() && error.is_none();
            if let Err(e) = session.finish(complete, &report.coverage) {
                error.get_or_insert(e);
            }
        }
        error
    }

    /// How the send ends: a local error (exit 4), the error budget (exit 5), a halt's own code, or
    /// the delivery's exit as the checkpointed job sees it.
    pub(crate) fn outcome(
        &self,
        local_error: Option<anyhow::Error>,
        report: &DeliveryReport,
    ) -> Result<Exit> {
        if let Some(err) = local_error {
            let resume = if self.session.is_some() {
                "the checkpoint covers what was settled before it; fix that and run the same command \
                 with --resume"
            } else {
                "without --checkpoint a stopped run cannot be resumed: fix that and run it again (events \
                 de-duplicate by id)"
            };
            return Err(Fatal::new(Exit::LocalError, format!("stopped: {err:#}; {resume}")).into());
        }
        if let Some(budget) = self.budget.filter(|b| b.exceeded) {
            let resume = if report.is_complete() {
                "every record read was settled: fix the dead-lettered records and send the dead-letter \
                 file"
            } else if self.session.is_some() {
                "fix the dead-lettered records and send the dead-letter file; the same command with \
                 --resume sends the rest (the budget counts the whole job: earlier runs' records too, so \
                 raise --max-invalid to go on)"
            } else {
                "fix the input and run it again (events de-duplicate by id)"
            };
            let message = format!(
                "stopped: {} invalid or rejected records, over --max-invalid {}; {resume}",
                budget.bad, budget.budget
            );
            return Err(Fatal::new(Exit::OverBudget, message).into());
        }
        let exit = report.exit()?;
        Ok(self.session.as_ref().map_or(exit, |s| s.job_exit(exit)))
    }

    /// The dead-letter file and how many records it holds from this job.
    pub(crate) fn dead_letters(&self) -> (String, u64) {
        let written = self
            .session
            .as_ref()
            .map_or(self.dead_letter.written(), Session::dead_letters);
        (self.dead_letter.path().display().to_string(), written)
    }
}

impl Hooks for RecordSink {
    fn on_record(&mut self, settlement: &Settlement) {
        if let Some(budget) = self.budget.as_mut() {
            let bad = matches!(
                settlement.result,
                Settled::Invalid { .. } | Settled::Rejected { .. }
            );
            if budget.count(bad) {
                self.stop.store(true, Ordering::SeqCst);
            }
        }
        if let Some(line) = self.problems.line(settlement) {
            self.progress.suspend(|| say!("{line}"));
        }
        let result = match self.session.as_mut() {
            Some(session) => session.on_record(settlement),
            None => self.dead_letter.record(settlement),
        };
        self.check(result);
    }

    fn on_progress(&mut self, ledger: &Ledger) {
        if let Some(session) = self.session.as_mut() {
            let result = session.on_progress(ledger);
            self.check(result);
        }
    }

    fn on_tick(&mut self, stats: &DeliveryStats) {
        self.progress.update(stats);
    }
}
