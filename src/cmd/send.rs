//! `cio-replay send`: check settings and credentials, pre-scan for campaign risk, then read, map
//! and deliver every record through the job every sending command shares (target, delivery,
//! ledger), into the dead-letter file; progress and the final summary.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::Result;

use crate::deliver::budget::{Budget, ErrorBudget};
use crate::deliver::{AllOf, DeliverySettings};
use crate::exit::{Exit, exit_for_error};
use crate::interrupt::{self, Stopping};
use crate::job::{self, Delivery, Target, TargetSettings};
use crate::ledger::book::Opening;
use crate::ledger::dead_letter::{self, DeadLetters};
use crate::ledger::{Job, lock};
use crate::map::window::Window;
use crate::report::delivery::{SendWatch, delivery_text, job_json, job_text};
use crate::report::messages::say;
use crate::report::progress::Display;
use crate::report::safety::gate::{Look, pre_scan};
use crate::report::summary::run_report::{self, Status};
use crate::report::summary::{Measure, RequestPlan, Summary, TextOptions};
use crate::stream::{Pipeline, PipelineSettings};

/// What `send` was asked to do, checked.
pub(crate) struct Settings {
    pub pipeline: PipelineSettings,
    pub window: Window,
    pub delivery: DeliverySettings,
    pub target: TargetSettings,
    /// Checkpoint and resume; the run settings lack the site id (the run learns it).
    pub job: Job,
    pub dead_letter: Option<PathBuf>,
    pub dead_letter_append: bool,
    pub allow_recent: bool,
    pub budget: Option<ErrorBudget>,
    pub limit: Option<u64>,
    pub report: Option<PathBuf>,
    pub display: Display,
}

pub(crate) fn run(s: Settings) -> Result<Exit> {
    // One run at a time on a checkpoint, refused at once (docs/reliability.md); held to the end.
    let _lock = lock::checkpoint(s.job.checkpoint.as_deref())?;
    // A report left by an earlier run must not outlive this one's early refusal.
    if let Some(path) = &s.report {
        let _ = std::fs::remove_file(path);
    }
    let started_at = chrono::Utc::now();
    let target = Target::open(s.target)?;
    let transport = target.connect(s.delivery.lanes())?;
    let mut job = s.job;
    job.settings.set_site_id(Some(&target.creds.site_id));
    let checkpointed = job.checkpoint.is_some();
    let default = || dead_letter::default_path(&s.pipeline.files);
    let names = ("dead-letter file", "dead-letter");
    let opening = Opening::new(job, s.dead_letter.as_deref(), default, names)?;
    if !checkpointed {
        dead_letter::check_fresh(opening.file(), s.dead_letter_append)?;
    }
    // The campaign-safety pre-scan (not needed for the sandbox, which has no campaigns); from
    // here a Ctrl-C stops the run, during the pre-scan with nothing sent.
    let stop = job::stop_flag(Stopping::PreScan)?;
    let look = Look {
        stop: &stop,
        display: s.display,
    };
    let allow_recent = s.allow_recent || target.is_sandbox();
    let now = crate::report::safety::now_unix();
    let scan = match pre_scan(&s.pipeline, &s.window, allow_recent, s.budget, now, look) {
        Err(e) if exit_for_error(&e) == Exit::Interrupted => {
            if let Some(path) = &s.report {
                let inputs = s.pipeline.files.iter().map(|f| (f.clone(), 0)).collect();
                let facts =
                    target.facts(started_at, Status::Interrupted, Exit::Interrupted, inputs);
                run_report::write_nothing_sent(path, &facts, &s.delivery)?;
            }
            return Err(e);
        }
        scan => scan?,
    };
    interrupt::stopping(Stopping::Send {
        checkpoint: checkpointed,
    });
    let mut safety = crate::report::safety::Analyzer::new(now).with_window(&s.window);
    let files = s.pipeline.files.clone();
    let pipeline = Pipeline::open(s.pipeline)?.with_window(s.window);
    say!(
        "{}",
        crate::report::delivery::banner("send", &target.describe(), &s.delivery)
    );

    let path = opening.file().to_path_buf();
    let before = opening.settled_before();
    let earlier = opening.earlier();
    let mut book = opening.begin(DeadLetters::new(path), stop.clone())?;
    let mut budget = s.budget.map(|b| {
        let total = scan.scanned.then_some(scan.records);
        Budget::new(
            b,
            total,
            (earlier.invalid + earlier.rejected, earlier.read),
            stop.clone(),
        )
    });
    if let Some(b) = budget.as_ref().filter(|b| b.over() && b.bad > 0) {
        return Err(job::over_budget_before(b));
    }
    let mut watch = SendWatch::new(s.display, pipeline.progress());
    let bytes_read = pipeline.progress().bytes_read;
    let started = Instant::now();
    let mut records_by_input = vec![0u64; files.len().max(1)];
    let mut summary = Summary::new(RequestPlan::new(&s.delivery), s.delivery.rate);
    // What is counted of each record is taken on the pipeline's workers (summary::Measure).
    let measured = pipeline.finish_on_workers(|mut item| (Measure::take(&mut item), item));
    // Records an earlier run settled are neither sent nor counted again; --limit takes the first
    // N of the others (the record after them is read to learn that there is more, and dropped).
    let mut limit = job::Limit::new(s.limit);
    let work = measured
        .filter(|(_, item)| !before.is_settled(item.record.input, item.record.index))
        .take_while(|_| limit.take())
        .map(|(measure, item)| {
            if let Some(n) = records_by_input.get_mut(item.record.input) {
                *n += 1;
            }
            measure.count_sent(&item, &mut summary, &mut safety);
            item.into()
        });
    let delivery = Delivery {
        settings: &s.delivery,
        transport: &transport,
        stop: &stop,
    };
    let mut hooks: Vec<&mut dyn crate::deliver::Hooks> = vec![&mut watch];
    if let Some(budget) = budget.as_mut() {
        hooks.push(budget);
    }
    let mut report = job::deliver(work, &mut book, &mut AllOf(hooks), &delivery)?;
    report.limit_reached = limit.reached();
    report.cut_short = summary.read_errors > 0;
    let complete = report.is_complete();
    let mut ledger = book.close(&report, complete, std::iter::empty(), "");
    let _ = ledger.finish(complete);
    watch.finish(ledger.path());
    summary.finish(
        bytes_read.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64(),
    );
    summary.safety = Some(safety);

    // The dry-run numbers, without its estimate of the requests (the real ones follow).
    let options = TextOptions {
        request_estimate: false,
    };
    let dead = Some((ledger.path().display().to_string(), ledger.entries()));
    let dead = dead.as_ref().map(|(p, n)| (p.as_str(), *n));
    say!("{}", summary.render_text("send", options));
    say!("{}", delivery_text(&report, dead, checkpointed));
    if checkpointed {
        say!("{}", job_text(&ledger));
    }
    target.say_sandbox_state();
    let outcome = job::outcome(
        ledger.take_error(),
        budget.as_ref(),
        &report,
        checkpointed,
        earlier,
    );
    if let Some(path) = &s.report {
        let inputs = job::inputs(&files, records_by_input);
        let exit = outcome.as_ref().map_or_else(exit_for_error, |e| *e);
        let facts = target.facts(started_at, Status::of(&outcome, &report), exit, inputs);
        let checkpoint = checkpointed.then(|| job_json(&ledger));
        run_report::write(path, &facts, &summary, &report, dead, checkpoint)?;
    }
    outcome
}
