//! What the sending commands (`send`, `gdpr`) set up and run alike: the [`target`] (credentials or
//! an in-process sandbox, the transport, the preflight), the Ctrl-C stop flag, the [`confirm`]ation
//! gate of a destructive job, [`deliver`]: work delivered into the job's ledger, and how a job
//! ends ([`outcome`]).

pub(crate) mod confirm;
pub(crate) mod target;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Result;

use crate::deliver::budget::Budget;
use crate::deliver::{AllOf, DeliveryReport, DeliverySettings, Hooks, Transport};
use crate::exit::{Exit, Fatal};
use crate::interrupt::Stopping;
use crate::ledger::sink::Sink;
use crate::ledger::{Book, Counters};
use crate::stream::Work;

pub(crate) use target::{Target, TargetSettings};

/// Ctrl-C and SIGTERM from here on stop the run cleanly (requests in flight settle); the first
/// one says what `what` does before the run ends.
pub(crate) fn stop_flag(what: Stopping) -> Result<Arc<AtomicBool>> {
    Ok(crate::interrupt::install(what)?.as_atomic())
}

/// How a job's work reaches the workspace.
pub(crate) struct Delivery<'a> {
    pub settings: &'a DeliverySettings,
    pub transport: &'a dyn Transport,
    pub stop: &'a AtomicBool,
}

/// Deliver `work` (in input order; what earlier runs of the job settled already left out by the
/// caller) into `book`, the job's ledger; `watch` (the command's progress, problems, error budget)
/// is told everything first, so that a budget stops the run before the record that broke it is
/// written. Every record read is settled into the book or counted as unsent in the report.
pub(crate) fn deliver<S: Sink>(
    work: impl Iterator<Item = Work>,
    book: &mut Book<S>,
    watch: &mut dyn Hooks,
    delivery: &Delivery<'_>,
) -> Result<DeliveryReport> {
    let mut hooks = AllOf(vec![watch, book]);
    crate::deliver::deliver(
        work,
        delivery.settings,
        delivery.transport,
        &mut hooks,
        delivery.stop,
    )
}

/// `--limit N`: the first N records of those not settled yet are taken; the one after them is
/// read (to learn that there is more) and dropped.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limit {
    limit: Option<u64>,
    taken: u64,
    reached: bool,
}

impl Limit {
    pub(crate) fn new(limit: Option<u64>) -> Limit {
        Limit {
            limit,
            taken: 0,
            reached: false,
        }
    }

    /// Whether the next record is taken (false from the first past the limit on).
    pub(crate) fn take(&mut self) -> bool {
        self.taken += 1;
        self.reached = self.limit.is_some_and(|limit| self.taken > limit);
        !self.reached
    }

    /// The limit, when it stopped the reading with more records to come.
    pub(crate) fn reached(&self) -> Option<u64> {
        self.limit.filter(|_| self.reached)
    }
}

/// The inputs of a run with the records it read from each, for its report (standard input as
/// `-`).
pub(crate) fn inputs(files: &[PathBuf], records: Vec<u64>) -> Vec<(PathBuf, u64)> {
    if files.is_empty() {
        return vec![(PathBuf::from("-"), records.first().copied().unwrap_or(0))];
    }
    files.iter().cloned().zip(records).collect()
}

/// The refusal of a job whose earlier runs already dead-lettered more than its `--max-invalid`
/// allows (exit 5): nothing is sent.
pub(crate) fn over_budget_before(budget: &Budget) -> anyhow::Error {
    Fatal::new(
        Exit::OverBudget,
        format!(
            "earlier runs of this checkpoint already dead-lettered {} invalid or rejected \
             records, over --max-invalid {} (the budget counts the whole job): nothing was \
             sent. Fix them and send the dead-letter file, or raise --max-invalid to go on",
            budget.bad, budget.budget
        ),
    )
    .into()
}

/// How a `send` ends: a local error (exit 4), the error budget (exit 5), a halt's own code, or the
/// delivery's exit as the job sees it (partial when an earlier run of a checkpointed job
/// dead-lettered records, `earlier`).
pub(crate) fn outcome(
    local_error: Option<anyhow::Error>,
    budget: Option<&Budget>,
    report: &DeliveryReport,
    checkpointed: bool,
    earlier: Counters,
) -> Result<Exit> {
    if let Some(err) = local_error {
        let resume = if checkpointed {
            "the checkpoint covers what was settled before it; fix that and run the same command \
             with --resume"
        } else {
            "without --checkpoint a stopped run cannot be resumed: fix that and run it again (events \
             de-duplicate by id)"
        };
        return Err(Fatal::new(Exit::LocalError, format!("stopped: {err:#}; {resume}")).into());
    }
    if let Some(budget) = budget.filter(|b| b.exceeded) {
        let resume = if report.is_complete() {
            "every record read was settled: fix the dead-lettered records and send the dead-letter \
             file"
        } else if checkpointed {
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
    let problems_before = earlier.invalid + earlier.rejected + earlier.failed > 0;
    Ok(if exit == Exit::Success && problems_before {
        Exit::Partial
    } else {
        exit
    })
}
