//! `cio-replay send`: check settings and credentials, pre-scan for campaign risk, then read, map
//! and deliver every record through the job every sending command shares (target, delivery,
//! ledger), into the dead-letter file; progress and the final summary.

use std::path::PathBuf;

use anyhow::Result;

use crate::deliver::budget::ErrorBudget;
use crate::deliver::{AllOf, DeliverySettings, Hooks};
use crate::exit::{Exit, exit_for_error};
use crate::interrupt::{self, Stopping};
use crate::job::{self, Limit, Sending, TargetSettings};
use crate::ledger::dead_letter::{self, DeadLetters};
use crate::ledger::{Job, lock};
use crate::map::window::Window;
use crate::report::delivery::{SendWatch, banner, say_summary};
use crate::report::messages::say;
use crate::report::progress::Display;
use crate::report::run_report::{self, Status};
use crate::report::safety::{Analyzer, gate, now_unix};
use crate::report::summary::{Measure, RequestPlan, SendCount, Summary};
use crate::stream::{Pipeline, PipelineSettings};

/// What `send` was asked to do, checked.
pub(crate) struct Settings {
    pub pipeline: PipelineSettings,
    pub window: Window,
    pub delivery: DeliverySettings,
    pub target: TargetSettings,
    /// Checkpoint and resume; the run settings lack the site id (the run learns it).
    pub job: Job,
    /// `--dead-letter FILE`, and the file without it (beside the first input as given).
    pub dead_letter: (Option<PathBuf>, PathBuf),
    pub dead_letter_append: bool,
    pub allow_recent: bool,
    pub budget: Option<ErrorBudget>,
    pub limit: Option<u64>,
    pub report: Option<PathBuf>,
    pub display: Display,
}

pub(crate) fn run(s: Settings) -> Result<Exit> {
    let (checkpoint, started_at) = (s.job.checkpoint.clone(), chrono::Utc::now());
    // One run at a time on a checkpoint, refused at once (docs/reliability.md); held to the end.
    let _lock = lock::checkpoint(checkpoint.as_deref())?;
    let (sending, opening) =
        Sending::open::<DeadLetters>(s.target, s.delivery, s.job, s.dead_letter)?;
    let target = &sending.target;
    if checkpoint.is_none() {
        dead_letter::check_fresh(opening.file(), s.dead_letter_append)?;
    }
    // The campaign-safety pre-scan (not for the sandbox, which has no campaigns): from here a
    // Ctrl-C stops the run, during the pre-scan with nothing sent.
    let stop = job::stop_flag(Stopping::PreScan)?;
    let (now, allow_recent) = (now_unix(), s.allow_recent || target.is_sandbox());
    let look = gate::Look {
        stop: &stop,
        display: s.display,
    };
    let scan = gate::pre_scan(&s.pipeline, &s.window, allow_recent, s.budget, now, look);
    let report = (s.report.as_deref(), started_at, &s.pipeline.files[..]);
    let scan = scan.or_else(|e| sending.stopped_before_sending(e, report))?;
    interrupt::stopping(Stopping::Send {
        checkpoint: checkpoint.is_some(),
    });
    let files = s.pipeline.files.clone();
    let safety = Analyzer::new(now).with_window(&s.window);
    let pipeline = Pipeline::open(s.pipeline)?.with_window(s.window);
    say!("{}", banner("send", &target.describe(), &sending.delivery));

    let (before, earlier) = (opening.settled_before(), opening.earlier());
    let mut book = opening.begin(DeadLetters::new, stop.clone())?;
    let total = scan.scanned.then_some(scan.records);
    let mut budget = job::budget(s.budget, total, earlier, &stop)?;
    let mut watch = SendWatch::new(s.display, pipeline.progress());
    let summary = Summary::new(RequestPlan::new(&sending.delivery), sending.delivery.rate);
    let mut count = SendCount::new(summary, safety, files.len(), pipeline.progress());
    // What is counted of each record is taken on the pipeline's workers (summary::Measure).
    // Records an earlier run settled are neither sent nor counted again; --limit takes the first
    // N of the others (the record after them is read to learn that there is more, and dropped).
    let mut limit = Limit::new(s.limit);
    let work = pipeline
        .finish_on_workers(|mut item| (Measure::take(&mut item), item))
        .filter(|(_, item)| !before.is_settled(item.record.input, item.record.index))
        .take_while(|_| limit.take())
        .map(|(measure, item)| {
            count.count(measure, &item);
            item.into()
        });
    let mut hooks: Vec<&mut dyn Hooks> = vec![&mut watch];
    hooks.extend(budget.as_mut().map(|b| b as &mut dyn Hooks));
    let mut delivered = sending.deliver(work, &mut book, &mut AllOf(hooks), &stop)?;
    let (summary, by_input) = count.finish();
    delivered.limit_reached = limit.reached();
    delivered.cut_short = summary.read_errors > 0;
    let complete = delivered.is_complete();
    let mut ledger = book.close(&delivered, complete, std::iter::empty(), "");
    let finished = ledger.finish(complete);
    watch.finish(ledger.path());
    say_summary(&summary, &delivered, &ledger);
    target.say_sandbox_state();
    let local_error = ledger.take_error().or(finished.err());
    let outcome = job::outcome(
        local_error,
        budget.as_ref(),
        &delivered,
        checkpoint.is_some(),
        earlier,
    );
    if let Some(path) = &s.report {
        let exit = outcome.as_ref().map_or_else(exit_for_error, |e| *e);
        let inputs = job::inputs(&files, by_input);
        let facts = target.facts(started_at, Status::of(&outcome, &delivered), exit, inputs);
        run_report::write(path, &facts, &summary, &delivered, &ledger)?;
    }
    outcome
}
