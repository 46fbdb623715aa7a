//! `cio-replay gdpr delete|suppress|unsuppress`: read the lists, fold duplicates, list (dry run) or
//! confirm, send through the same sender as `send`, and write the receipt.

use crate::report::messages::say;
use std::io::{self, BufWriter, Write};

use anyhow::Result;
use chrono::Utc;

use super::job::{self, Target};
use crate::cli::GdprArgs;
use crate::cli::settings;
use crate::exit::{Exit, usage};
use crate::gdpr::GdprAction;
use crate::gdpr::action_name;
use crate::gdpr::confirm::{self, Gate, Workspace};
use crate::gdpr::fold;
use crate::gdpr::list;
use crate::gdpr::list::ListFormat;
use crate::gdpr::resume::{self, JobSettings, Plan};
use crate::gdpr::run::{self, Lists, Run};
use crate::gdpr::show::{listing_line, plural, problem_line, totals_text};
use crate::interrupt::Stopping;
use crate::ledger::lock;

pub(crate) fn run(args: GdprArgs) -> Result<Exit> {
    let action = GdprAction::from(args.action);
    let list_format = args.list_format.map(ListFormat::from);
    let name = action_name(action);
    let d = &args.delivery;
    settings::check_gdpr_flags(&args)?;
    // One run at a time on a job, refused at once (the receipt is locked in `resume::plan`).
    let _lock = lock::checkpoint(d.checkpoint.as_deref())?;
    let mode = settings::mode(args.mode);
    let delivery = settings::delivery(mode, d)?;
    let started = Utc::now();

    let sources = list::sources(&args.files, list_format).map_err(|e| usage(format!("{e:#}")))?;
    let (sha256, list_bytes) = list::digest(&sources).map_err(|e| usage(format!("{e:#}")))?;
    let column = args.column.as_deref();
    // Only a CSV list has columns: a --column that a list would ignore is refused.
    if let (Some(c), Some(list)) = (column, sources.iter().find(|s| s.format != ListFormat::Csv)) {
        return Err(usage(format!(
            "--column {c}: {} is a {} list, which has no columns (only CSV lists do): drop \
             --column, or give the list as CSV (--list-format csv)",
            list.name,
            list.format.name()
        )));
    }

    // First pass: check, fold, count; a dry run prints its listing as it goes.
    let scan = if args.dry_run {
        let stdout = io::stdout();
        let mut out = BufWriter::new(stdout.lock());
        let scan = fold::scan(&sources, column, |noted| {
            listing_line(&mut out, &noted, action, mode)
        })
        .map_err(|e| usage(format!("{e:#}")))?;
        out.flush()?;
        scan
    } else {
        fold::scan(&sources, column, |noted| {
            problem_line(&noted);
            Ok(())
        })
        .map_err(|e| usage(format!("{e:#}")))?
    };
    let problems = if scan.malformed > 0 {
        Exit::Partial
    } else {
        Exit::Success
    };
    if args.dry_run {
        say!("{}", totals_text(name, &scan, &sha256));
        say!(
            "dry run: nothing was sent ({} operation{} would be sent)",
            scan.people,
            plural(scan.people)
        );
        return Ok(problems);
    }
    if scan.people == 0 {
        say!("{}", totals_text(name, &scan, &sha256));
        say!("no people on the list: nothing to send, no receipt written");
        return Ok(problems);
    }

    // The workspace and the credentials (checked before anyone is asked anything).
    let target = settings::target(d, settings::region(args.region), args.endpoint.as_deref())?;
    let target = Target::open(target)?;
    let transport = target.transport(delivery.lanes())?;
    target.preflight(&transport)?;
    let creds = &target.creds;
    let workspace = Workspace {
        site_id: creds.site_id.clone(),
        host: crate::track::url::authority(&target.base_url).to_string(),
        region: target.region.clone(),
    };
    // The receipt, and with --checkpoint the job: every refusal before anyone is asked.
    let job_settings = JobSettings {
        mode: mode.name(),
        site_id: &creds.site_id,
        host: &workspace.host,
        sha256: &sha256,
    };
    let job_request = resume::JobRequest {
        action,
        files: &args.files,
        column: args.column.as_deref(),
        list_format,
        receipt: args.receipt.as_deref(),
        checkpoint: d.checkpoint.as_deref(),
        resume: d.resume,
        sandbox: target.is_sandbox(),
    };
    let Plan {
        job,
        to_send,
        malformed_left,
        receipt_lock: _receipt_lock,
    } = match resume::plan(&job_request, &job_settings, &sources, &scan, started)? {
        Some(plan) => plan,
        None => return Ok(Exit::Success),
    };

    // The gate.
    say!("{}", totals_text(name, &scan, &sha256));
    let gate = confirm::decide(action, to_send, malformed_left, &workspace, args.yes)?;
    if let Gate::Refused(why) = gate {
        return Err(usage(why));
    }

    // Send.
    let stop = job::stop_flag(Stopping::Gdpr {
        checkpoint: d.checkpoint.is_some(),
    })?;
    let lists = Lists {
        action,
        sources: &sources,
        column,
        scan: &scan,
        sha256: &sha256,
        list_bytes,
        workspace: &workspace,
        started,
    };
    let run = Run {
        delivery: &delivery,
        transport: &transport,
        stop: &stop,
        display: settings::progress_display(&args.display),
        to_send,
        checkpoint: d.checkpoint.as_deref(),
        report: d.report.as_deref(),
    };
    let sent = run::send(&lists, job, &run)?;
    sent.say(action, scan.people, d.checkpoint.is_some());
    target.say_sandbox_state();
    sent.exit()
}
