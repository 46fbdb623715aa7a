//! `cio-replay send`: check settings and credentials, pre-scan for campaign risk, then read, map
//! and deliver every record, writing dead letters, progress and the final summary.

use crate::messages::say;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context, Result};

use crate::checkpoint::{Session, lock};
use crate::cli::SendArgs;
use crate::cli::settings::MappingSettings;
use crate::deadletter::{self, DeadLetter};
use crate::exit::{Exit, Fatal};
use crate::mapping::Outcome;
use crate::pipeline::Pipeline;
use crate::safety::Observation;
use crate::sandbox::{Sandbox, SandboxConfig};
use crate::secret::Secret;
use crate::send::credentials::{self, Credentials, KeySource};
use crate::send::report::{SendProgress, delivery_json, delivery_text, merge};
use crate::send::{
    DeliveryReport, DeliveryStats, Hooks, HttpTransport, Ledger, Settlement, deliver,
};
use crate::summary::{RequestPlan, Summary, TextOptions};

fn usage(message: impl Into<String>) -> anyhow::Error {
    Fatal::new(Exit::Usage, message.into()).into()
}

pub fn run(args: SendArgs) -> Result<Exit> {
    let settings = MappingSettings::from_args(&args.mapping)?;
    let d = &args.delivery;
    // One run at a time on a checkpoint, refused at once (docs/reliability.md); held to the end.
    let _lock = lock::checkpoint(d.checkpoint.as_deref())?;
    let (delivery, timeout) = crate::cli::settings::delivery(settings.mode, d)?;

    // Where to send, and as whom.
    let mut sandbox = None;
    let (base_url, creds) = if d.sandbox {
        let key = Secret::new(format!("sbx-{}", fastrand_key()));
        let config = SandboxConfig {
            site_id: "sandbox".to_string(),
            api_key: key.clone(),
            ..SandboxConfig::default()
        };
        let sb = Sandbox::start(config).context("starting the in-process sandbox")?;
        let url = sb.url();
        let creds = Credentials {
            site_id: sb.site_id().to_string(),
            key,
        };
        sandbox = Some(sb);
        (url, creds)
    } else {
        let env_key = std::env::var("CIO_API_KEY").ok();
        let (creds, source) = credentials::resolve(
            d.site_id.as_deref(),
            d.api_key_file.as_deref(),
            d.api_key.as_deref(),
            env_key,
        )
        .map_err(|e| usage(e.to_string()))?;
        if source == KeySource::Flag {
            crate::messages::record!("{}", credentials::FLAG_WARNING);
        }
        (settings.base_url.clone(), creds)
    };
    let transport = HttpTransport::with_ca_bundle(
        &base_url,
        &creds.site_id,
        &creds.key,
        timeout,
        delivery.lanes(),
        d.ca_bundle.as_deref(),
    )
    .map_err(|e| usage(e.to_string()))?;

    // The campaign-safety pre-scan (not needed for the sandbox, which has no campaigns).
    let pipeline_settings = settings.pipeline(&args.input)?;
    // The files as read (folders and --files-from expanded): what the checkpoint fingerprints.
    let files = pipeline_settings.files.clone();
    let window = crate::cli::settings::window(&args.mapping)?;
    let allow_recent = args.allow_recent || d.sandbox;
    crate::safety::gate::check_before_send(
        &pipeline_settings,
        &window,
        allow_recent,
        crate::safety::now_unix(),
    )?;
    let mut safety = crate::safety::Analyzer::new(crate::safety::now_unix()).with_window(&window);
    let pipeline = Pipeline::open(pipeline_settings)?.with_window(window);

    let target = if d.sandbox {
        format!("the in-process sandbox at {base_url}")
    } else {
        base_url.clone()
    };
    let rate = if delivery.rate > 0.0 {
        format!("{} requests/s", delivery.rate)
    } else {
        "no rate limit".to_string()
    };
    say!(
        "cio-replay send: to {target} ({} mode, {rate}, {} lane{})",
        match settings.mode {
            crate::track::Mode::Batch => "batch",
            crate::track::Mode::Sequential => "sequential",
        },
        delivery.lanes(),
        if delivery.lanes() == 1 { "" } else { "s" }
    );

    let stop_flag = crate::interrupt::install()?;
    let stop: Arc<AtomicBool> = stop_flag.as_atomic();
    let dead_letter_path = d
        .dead_letter
        .clone()
        .unwrap_or_else(|| deadletter::default_path(&args.input.files));
    // --checkpoint / --resume: refusals come here, before anything is sent.
    let session = match &d.checkpoint {
        None => Session::start(
            None,
            d.resume,
            &files,
            Default::default(),
            &dead_letter_path,
        )?,
        Some(path) => {
            let run = crate::cli::settings::send_run_settings(&args, Some(&creds.site_id))
                .map_err(|e| usage(e.to_string()))?;
            Session::start(Some(path), d.resume, &files, run, &dead_letter_path)?
        }
    };
    let settled_before = session.as_ref().map(|s| s.checkpoint().clone());
    let mut hooks = SendHooks {
        session,
        dead_letter: DeadLetter::new(dead_letter_path),
        progress: SendProgress::new(
            crate::cli::settings::show_progress(&args.display),
            pipeline.progress(),
        ),
        error: None,
        stop: stop.clone(),
    };
    let bytes_read = pipeline.progress().bytes_read;
    let started = Instant::now();
    let mut summary = Summary::new(
        RequestPlan::new(settings.mode, d.batch_size, d.batch_bytes),
        d.rate,
    );
    // The operation's size and what the safety checks need are taken on the pipeline's workers,
    // and the rest of the parsed event is freed there: from here on the sender needs the record's
    // text, its place and whether it parsed, not the event.
    let measured = pipeline.finish_on_workers(|mut item| {
        let op_bytes = match &item.outcome {
            Outcome::Mapped(op) => Some(op.json_len()),
            _ => None,
        };
        let observation = Observation::of(&item);
        if let Ok(event) = &mut item.record.event {
            *event = serde_json::Value::Null;
        }
        (item, op_bytes, observation)
    });
    // Records an earlier run settled are neither sent nor counted again.
    let items = measured
        .filter(|(item, ..)| {
            settled_before
                .as_ref()
                .is_none_or(|cp| !cp.is_settled(item.record.input, item.record.index))
        })
        .map(|(item, op_bytes, observation)| {
            summary.add(&item.outcome, op_bytes);
            // A read error cut an input short: said on stderr at once, not only dead-lettered.
            if let (true, Err(error)) = (item.record.is_read_error(), &item.record.event) {
                summary.add_read_error(&item.record.location);
                crate::messages::record!("{}: {error}", item.record.location);
            }
            if let Some(observation) = observation {
                safety.add(&item.record.location, item.record.input, observation);
            }
            item
        });
    let report = deliver(items, &delivery, &transport, &mut hooks, &stop)?;
    hooks.progress.finish();
    summary.finish(
        bytes_read.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64(),
    );
    summary.safety = Some(safety);
    // A local error (a file that could not be written) stopped the run like a Ctrl-C: the
    // summary still comes, the exit says why.
    let mut local_error = hooks.error.take();
    if let Some(session) = hooks.session.as_mut() {
        let complete = report.is_complete() && local_error.is_none();
        if let Err(e) = session.finish(complete, &report.coverage) {
            local_error.get_or_insert(e);
        }
    }
    let path_text = hooks.dead_letter.path().display().to_string();
    let written = hooks
        .session
        .as_ref()
        .map_or(hooks.dead_letter.written(), Session::dead_letters);
    let dead = Some((path_text.as_str(), written));
    // The dry-run numbers, without its estimate of the requests (the real ones follow).
    let options = TextOptions {
        request_estimate: false,
    };
    say!("{}", summary.render_text("send", options));
    say!("{}", delivery_text(&report, dead, hooks.session.is_some()));
    if let Some(session) = &hooks.session {
        say!("{}", session.text());
    }
    if let Some(sb) = &sandbox {
        say!("the sandbox workspace now holds:");
        say!("{}", sb.summary().trim_end());
    }
    if let Some(path) = &d.report {
        write_report(
            path,
            &summary,
            &report,
            dead,
            hooks.session.as_ref().map(Session::json),
        )?;
    }
    if let Some(mut sb) = sandbox {
        sb.stop();
    }
    if let Some(err) = local_error {
        let resume = if hooks.session.is_some() {
            "the checkpoint covers what was settled before it; fix that and run the same command \
             with --resume"
        } else {
            "without --checkpoint a stopped run cannot be resumed: fix that and run it again (events \
             de-duplicate by id)"
        };
        return Err(Fatal::new(Exit::LocalError, format!("stopped: {err:#}; {resume}")).into());
    }
    let exit = exit_of(&report)?;
    Ok(hooks.session.as_ref().map_or(exit, |s| s.job_exit(exit)))
}

fn exit_of(report: &DeliveryReport) -> Result<Exit> {
    if let Some(halt) = &report.halted {
        return Err(Fatal::new(halt.exit, halt.message.clone()).into());
    }
    if !report.is_complete() {
        // Stopped (or, should it ever happen, ended) with records read but not settled.
        return Ok(Exit::Interrupted);
    }
    let s: &DeliveryStats = &report.stats;
    Ok(if s.invalid + s.rejected + s.failed > 0 {
        Exit::Partial
    } else {
        Exit::Success
    })
}

fn write_report(
    path: &PathBuf,
    summary: &Summary,
    report: &DeliveryReport,
    dead: Option<(&str, u64)>,
    checkpoint: Option<serde_json::Value>,
) -> Result<()> {
    let mut value = summary.to_json();
    merge(&mut value, delivery_json(report, dead));
    if let Some(checkpoint) = checkpoint {
        merge(&mut value, checkpoint);
    }
    let mut text = serde_json::to_string_pretty(&value)?;
    text.push('\n');
    std::fs::write(path, text)
        .with_context(|| format!("--report {}: cannot write it", path.display()))
}

/// A random key for the in-process sandbox.
fn fastrand_key() -> String {
    (0..24).map(|_| fastrand::alphanumeric()).collect()
}

/// Dead letters and progress while the delivery runs.
struct SendHooks {
    /// With --checkpoint: dead letters go through its journal (in input order, covered by the
    /// checkpoint) instead of `dead_letter`.
    session: Option<Session>,
    dead_letter: DeadLetter,
    progress: SendProgress,
    /// The first error writing a dead letter or the checkpoint; the run stops as on Ctrl-C.
    error: Option<anyhow::Error>,
    stop: Arc<AtomicBool>,
}

impl SendHooks {
    /// Keep the first local error and stop the run as a Ctrl-C would.
    fn check(&mut self, result: Result<()>) {
        if let Err(e) = result
            && self.error.is_none()
        {
            self.error = Some(e);
            self.stop.store(true, Ordering::SeqCst);
        }
    }
}

impl Hooks for SendHooks {
    fn on_record(&mut self, settlement: &Settlement) {
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
