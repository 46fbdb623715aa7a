//! `cio-replay send`: check settings and credentials, pre-scan for campaign risk, then read, map
//! and deliver every record, writing dead letters, progress and the final summary.

use std::cell::Cell;
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::Result;

use super::job::{self, Target};
use crate::cli::SendArgs;
use crate::cli::settings::{self, MappingSettings};
use crate::deliver::budget::ErrorBudget;
use crate::deliver::{DeliveryReport, deliver};
use crate::exit::{Exit, exit_for_error, usage};
use crate::interrupt::{self, Stopping};
use crate::ledger::dead_letter::{self, DeadLetter};
use crate::ledger::{RecordSink, Session, lock};
use crate::report::delivery::{SendProgress, delivery_text};
use crate::report::messages::say;
use crate::report::safety::gate::{Look, pre_scan};
use crate::report::summary::run_report::{self, Status};
use crate::report::summary::{Measure, RequestPlan, Summary, TextOptions};
use crate::stream::Pipeline;

pub(crate) fn run(args: SendArgs) -> Result<Exit> {
    let mapping = MappingSettings::from_args(&args.mapping)?;
    let d = &args.delivery;
    // One run at a time on a checkpoint, refused at once (docs/reliability.md); held to the end.
    let _lock = lock::checkpoint(d.checkpoint.as_deref())?;
    let delivery = settings::delivery(mapping.mode, d)?;
    let target = settings::target(d, mapping.region, args.mapping.endpoint.as_deref())?;
    // A report left by an earlier run must not outlive this one's early refusal.
    if let Some(path) = &d.report {
        let _ = std::fs::remove_file(path);
    }
    let started_at = chrono::Utc::now();
    let target = Target::open(target)?;
    let transport = target.transport(delivery.lanes())?;
    target.preflight(&transport)?;

    let dead_letter_path = args
        .dead_letter
        .clone()
        .unwrap_or_else(|| dead_letter::default_path(&args.input.files));
    if d.checkpoint.is_none() {
        dead_letter::check_fresh(&dead_letter_path, args.dead_letter_append)?;
    }
    // The campaign-safety pre-scan (not needed for the sandbox, which has no campaigns).
    let pipeline_settings = mapping.pipeline(&args.input)?;
    // The files as read (folders and --files-from expanded): what the checkpoint fingerprints.
    let files = pipeline_settings.files.clone();
    let window = settings::window(&args.mapping)?;
    let now = crate::report::safety::now_unix();
    let allow_recent = args.allow_recent || target.is_sandbox();
    let budget = args
        .max_invalid
        .as_deref()
        .map(ErrorBudget::parse)
        .transpose()
        .map_err(usage)?;
    // From here a Ctrl-C stops the run: during the pre-scan with nothing sent.
    let stop = job::stop_flag(Stopping::PreScan)?;
    let look = Look {
        stop: &stop,
        display: settings::progress_display(&args.display),
    };
    let scan = match pre_scan(&pipeline_settings, &window, allow_recent, budget, now, look) {
        Err(e) if exit_for_error(&e) == Exit::Interrupted => {
            if let Some(path) = &d.report {
                let inputs = files.iter().map(|f| (f.clone(), 0)).collect();
                let facts =
                    target.facts(started_at, Status::Interrupted, Exit::Interrupted, inputs);
                let summary = Summary::new(RequestPlan::new(&delivery), d.rate);
                let report = DeliveryReport::nothing_sent(true);
                run_report::write(path, &facts, &summary, &report, None, None)?;
            }
            return Err(e);
        }
        scan => scan?,
    };
    interrupt::stopping(Stopping::Send {
        checkpoint: d.checkpoint.is_some(),
    });
    let mut safety = crate::report::safety::Analyzer::new(now).with_window(&window);
    let transform = pipeline_settings.transform.clone();
    let pipeline = Pipeline::open(pipeline_settings)?.with_window(window);

    let rate = match delivery.rate {
        r if r > 0.0 => format!("{r} requests/s"),
        _ => "no rate limit".to_string(),
    };
    let lanes = delivery.lanes();
    say!(
        "cio-replay send: to {} ({} mode, {rate}, {lanes} lane{})",
        target.describe(),
        mapping.mode.name(),
        if lanes == 1 { "" } else { "s" }
    );

    // --checkpoint / --resume: refusals come here, before anything is sent.
    let run_settings = match &d.checkpoint {
        None => Default::default(),
        Some(_) => {
            settings::send_run_settings(&args, transform.as_deref(), Some(&target.creds.site_id))
                .map_err(|e| usage(e.to_string()))?
        }
    };
    let session = Session::start(
        d.checkpoint.as_deref(),
        d.resume,
        &files,
        run_settings,
        &dead_letter_path,
    )?;
    let settled_before = session.as_ref().map(|s| s.checkpoint().clone());
    let show = settings::progress_display(&args.display);
    let progress = SendProgress::new(show, pipeline.progress());
    let mut sink = RecordSink::new(
        session,
        DeadLetter::new(dead_letter_path),
        progress,
        stop.clone(),
    );
    sink.set_budget(budget, scan.scanned.then_some(scan.records))?;
    let bytes_read = pipeline.progress().bytes_read;
    let started = Instant::now();
    let mut records_by_input = vec![0u64; files.len().max(1)];
    let mut summary = Summary::new(RequestPlan::new(&delivery), d.rate);
    // What is counted of each record is taken on the pipeline's workers (summary::Measure).
    let measured = pipeline.finish_on_workers(|mut item| {
        let measure = Measure::take(&mut item);
        (item, measure)
    });
    // Records an earlier run settled are neither sent nor counted again; --limit takes the first
    // N of the others (the record after them is read to learn that there is more, and dropped).
    let (limit, mut taken, limited) = (args.limit.unwrap_or(u64::MAX), 0u64, Cell::new(false));
    let items = measured
        .filter(|(item, ..)| {
            let (input, index) = (item.record.input, item.record.index);
            settled_before
                .as_ref()
                .is_none_or(|cp| !cp.is_settled(input, index))
        })
        .take_while(|_| {
            taken += 1;
            limited.set(taken > limit);
            !limited.get()
        })
        .map(|(item, measure)| {
            if let Some(n) = records_by_input.get_mut(item.record.input) {
                *n += 1;
            }
            measure.count_sent(&item, &mut summary, &mut safety);
            item
        });
    let mut report = deliver(items, &delivery, &transport, &mut sink, &stop)?;
    if limited.get() {
        report.limit_reached = args.limit;
    }
    report.cut_short = summary.read_errors > 0;
    // A local error (a file that could not be written) stopped the run like a Ctrl-C: the
    // summary still comes, the exit says why.
    let local_error = sink.finish(&report);
    summary.finish(
        bytes_read.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64(),
    );
    summary.safety = Some(safety);

    let (dead_path, dead_count) = sink.dead_letters();
    let dead = Some((dead_path.as_str(), dead_count));
    // The dry-run numbers, without its estimate of the requests (the real ones follow).
    let options = TextOptions {
        request_estimate: false,
    };
    say!("{}", summary.render_text("send", options));
    say!("{}", delivery_text(&report, dead, sink.session.is_some()));
    if let Some(session) = &sink.session {
        say!("{}", session.text());
    }
    target.say_sandbox_state();
    let outcome = sink.outcome(local_error, &report);
    if let Some(path) = &d.report {
        let inputs = if files.is_empty() {
            vec![(std::path::PathBuf::from("-"), records_by_input[0])]
        } else {
            files.iter().cloned().zip(records_by_input).collect()
        };
        let exit = outcome.as_ref().map_or_else(exit_for_error, |e| *e);
        let facts = target.facts(started_at, Status::of(&outcome, &report), exit, inputs);
        let checkpoint = sink.session.as_ref().map(Session::json);
        run_report::write(path, &facts, &summary, &report, dead, checkpoint)?;
    }
    outcome
}
