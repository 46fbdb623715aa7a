//! What the sending commands (`send`, `gdpr`) set up and run alike: [`Sending`], the job builder
//! (the [`target`]: credentials or an in-process sandbox, the transport, the preflight; the job's
//! ledger checked; the delivery of work into it), the Ctrl-C stop flag, the [`confirm`]ation gate
//! of a destructive job, and how a `send` ends ([`outcome`]).

pub(crate) mod confirm;
pub(crate) mod target;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Result;
use chrono::{DateTime, Utc};

use crate::deliver::budget::{Budget, ErrorBudget};
use crate::deliver::{AllOf, Delivered, DeliverySettings, Hooks, HttpTransport};
use crate::exit::{Exit, Fatal, exit_for_error};
use crate::interrupt::Stopping;
use crate::ledger::book::Opening;
use crate::ledger::sink::Sink;
use crate::ledger::{Book, Counters, Job};
use crate::report::run_report::{self, Status};
use crate::stream::Work;

pub(crate) use target::{Target, TargetSettings};

/// Ctrl-C and SIGTERM from here on stop the run cleanly (requests in flight settle); the first
/// one says what `what` does before the run ends.
pub(crate) fn stop_flag(what: Stopping) -> Result<Arc<AtomicBool>> {
    Ok(crate::interrupt::install(what)?.as_atomic())
}

/// A sending job set up: its target resolved (credentials, or the sandbox started), connected
/// and its region checked, and how it delivers. Its ledger comes with it, checked but not begun
/// ([`Sending::open`]).
pub(crate) struct Sending {
    pub target: Target,
    transport: HttpTransport,
    pub delivery: DeliverySettings,
}

impl Sending {
    /// Resolve `target` and connect to it (the preflight), then check `job`, whose run settings
    /// take the workspace's site id, its file the one `given` (the sink's flag) or `default` (see
    /// [`Opening::new`]): the target's and the job's refusals, before anything is read or sent.
    pub(crate) fn open<S: Sink>(
        target: TargetSettings,
        delivery: DeliverySettings,
        mut job: Job,
        (given, default): (Option<PathBuf>, PathBuf),
    ) -> Result<(Sending, Opening<S>)> {
        let target = Target::open(target)?;
        let transport = target.connect(delivery.lanes())?;
        job.settings.set_site_id(Some(&target.creds.site_id));
        let opening = Opening::new(job, given, default)?;
        let sending = Sending {
            target,
            transport,
            delivery,
        };
        Ok((sending, opening))
    }

    /// A send stopped before it sent anything by `error` (a Ctrl-C during its pre-scan, exit 130):
    /// its `--report` (`report`: path, start, inputs) says so; the error is handed back.
    pub(crate) fn stopped_before_sending<T>(
        &self,
        error: anyhow::Error,
        (report, started_at, files): (Option<&Path>, DateTime<Utc>, &[PathBuf]),
    ) -> Result<T> {
        if let (Some(path), Exit::Interrupted) = (report, exit_for_error(&error)) {
            let inputs = files.iter().map(|f| (f.clone(), 0)).collect();
            let facts =
                self.target
                    .facts(started_at, Status::Interrupted, Exit::Interrupted, inputs);
            run_report::write_nothing_sent(path, &facts, &self.delivery)?;
        }
        Err(error)
    }

    /// Deliver `work` (in input order; what earlier runs of the job settled already left out by
    /// the caller) into `book`, the job's ledger, until `stop`; `watch` (the command's progress,
    /// problems, error budget) is told everything first, then the book. Every record read is
    /// settled into the book or counted as unsent in what this returns.
    pub(crate) fn deliver<S: Sink>(
        &self,
        work: impl Iterator<Item = Work>,
        book: &mut Book<S>,
        watch: &mut dyn Hooks,
        stop: &AtomicBool,
    ) -> Result<Delivered> {
        let mut hooks = AllOf(vec![watch, book]);
        crate::deliver::deliver(work, &self.delivery, &self.transport, &mut hooks, stop)
    }
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

/// The `--max-invalid` budget of a run over `total` records (when a pre-scan counted them): the
/// whole job's, `earlier` runs' records counted too, raising `stop` when the run goes over it. A
/// job whose earlier runs are over it already is refused (exit 5): nothing is sent.
pub(crate) fn budget(
    budget: Option<ErrorBudget>,
    total: Option<u64>,
    earlier: Counters,
    stop: &Arc<AtomicBool>,
) -> Result<Option<Budget>> {
    let Some(budget) = budget else {
        return Ok(None);
    };
    let earlier = (earlier.invalid + earlier.rejected, earlier.read);
    let budget = Budget::new(budget, total, earlier, Arc::clone(stop));
    if budget.over() && budget.bad > 0 {
        return Err(Fatal::new(
            Exit::OverBudget,
            format!(
                "earlier runs of this checkpoint already dead-lettered {} invalid or rejected \
                 records, over --max-invalid {} (the budget counts the whole job): nothing was \
                 sent. Fix them and send the dead-letter file, or raise --max-invalid to go on",
                budget.bad, budget.budget
            ),
        )
        .into());
    }
    Ok(Some(budget))
}

/// How a `send` ends: a local error (exit 4), the error budget (exit 5), a halt's own code, or the
/// delivery's exit as the job sees it (partial when an earlier run of a checkpointed job
/// dead-lettered records, `earlier`).
pub(crate) fn outcome(
    local_error: Option<anyhow::Error>,
    budget: Option<&Budget>,
    report: &Delivered,
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
