//! `cio-replay gdpr delete|suppress|unsuppress`: read the lists once to check them, fold duplicates
//! and count (a dry run lists every entry and stops), confirm, then send each person once through
//! the job every sending command shares (target, delivery, ledger), into the receipt.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use chrono::Utc;

use crate::deliver::DeliverySettings;
use crate::exit::{Exit, exit_for_error, usage};
use crate::interrupt::Stopping;
use crate::job::confirm::{self, Gate};
use crate::job::{self, Delivery, Target, TargetSettings};
use crate::ledger::book::Opening;
use crate::ledger::receipt::{self, Counts, Receipt};
use crate::ledger::{Job, lock};
use crate::map::gdpr::{GdprAction, action_name};
use crate::report::gdpr::json::{self, CheckpointFacts};
use crate::report::gdpr::listing::{first_pass, totals_text};
use crate::report::gdpr::{About, PeopleProgress, Sent, ending, plural, resuming_text, stopped_by};
use crate::report::messages::say;
use crate::report::progress::Display;
use crate::report::summary::run_report::Status;
use crate::source::list::{self, ListFormat};
use crate::stream::people::{People, left};
use crate::track::Mode;

/// What `gdpr` was asked to do, checked.
pub(crate) struct Settings {
    pub action: GdprAction,
    pub mode: Mode,
    pub lists: Vec<PathBuf>,
    pub list_format: Option<ListFormat>,
    pub column: Option<String>,
    pub dry_run: bool,
    pub yes: bool,
    pub receipt: Option<PathBuf>,
    pub delivery: DeliverySettings,
    pub target: TargetSettings,
    /// Checkpoint and resume; the run settings lack what the run learns (endpoint, site id, digest).
    pub job: Job,
    pub report: Option<PathBuf>,
    pub display: Display,
}

pub(crate) fn run(s: Settings) -> Result<Exit> {
    let (name, started) = (action_name(s.action), Utc::now());
    // One run at a time on a job, refused at once (its receipt is locked when the job opens).
    let _lock = lock::checkpoint(s.job.checkpoint.as_deref())?;
    let lists = list::open(&s.lists, s.list_format)?;
    let (sha256, list_bytes) = list::digest(&lists).map_err(|e| usage(format!("{e:#}")))?;
    let column = s.column.as_deref();
    list::check_column(&lists, column)?;
    let scan = first_pass(&lists, column, s.dry_run, s.action, s.mode)?;
    if s.dry_run || scan.people == 0 {
        say!("{}", totals_text(name, &scan, &sha256));
        match s.dry_run {
            true => say!(
                "dry run: nothing was sent ({} operation{} would be sent)",
                scan.people,
                plural(scan.people)
            ),
            false => say!("no people on the list: nothing to send, no receipt written"),
        }
        return Ok(if scan.malformed > 0 {
            Exit::Partial
        } else {
            Exit::Success
        });
    }

    // The workspace, the credentials and the job: every refusal before anyone is asked.
    let target = Target::open(s.target)?;
    let transport = target.connect(s.delivery.lanes())?;
    let (checkpoint, mut job) = (s.job.checkpoint.clone(), s.job);
    job.settings
        .set("endpoint", target.endpoint_setting())
        .set_site_id(Some(&target.creds.site_id))
        .set("list_sha256", sha256.as_str());
    let default = || receipt::default_path(name, started);
    let opening = Opening::new(job, s.receipt.as_deref(), default, ("receipt", "receipt"))?;
    if let (Some(cp), true) = (&checkpoint, opening.finished()) {
        let receipt = opening.file().display();
        say!(
            "the job of checkpoint {} is finished already: its receipt is {receipt}; nothing to do",
            cp.display()
        );
        return Ok(Exit::Success);
    }
    let before = opening.settled_before();
    let (to_send, malformed_left) = if opening.resumed() {
        let left = left(&lists, column, &scan.seen, |i, n| before.is_settled(i, n));
        let (to_send, malformed) = left.map_err(|e| usage(format!("{e:#}")))?;
        say!(
            "{}",
            resuming_text(opening.file(), opening.earlier(), scan.people, to_send)
        );
        (to_send, malformed)
    } else {
        receipt::check_path(opening.file()).map_err(|e| usage(format!("{e:#}")))?;
        (scan.people, scan.malformed)
    };
    say!("{}", totals_text(name, &scan, &sha256));
    let workspace = target.workspace();
    if let Gate::Refused(why) =
        confirm::decide(s.action, to_send, malformed_left, &workspace, s.yes)?
    {
        return Err(usage(why));
    }

    let stop = job::stop_flag(Stopping::Gdpr {
        checkpoint: checkpoint.is_some(),
    })?;
    let receipt = Receipt::new(opening.file().to_path_buf(), s.action);
    let mut book = opening.begin(receipt, stop.clone())?;
    let mut people = People::new(&lists, column, &scan.seen, s.action);
    let (mut progress, clock) = (PeopleProgress::new(s.display, to_send), Instant::now());
    let delivery = Delivery {
        settings: &s.delivery,
        transport: &transport,
        stop: &stop,
    };
    let work = people.by_ref().filter(|w| !before.covers(&w.record));
    let mut report = job::deliver(work, &mut book, &mut progress, &delivery)?;
    progress.finish();
    let read_error = people.take_error();
    report.cut_short = read_error.is_some();
    let ending = ending(&report, read_error.as_ref());
    // Every person gets a row: those in flight and never settled, then those never read.
    people.past_errors();
    let complete = report.is_complete() && people.changed() == 0;
    let mut ledger = book.close(&report, complete, people.by_ref(), &ending);
    if let Some(e) = ledger.take_error() {
        return Err(stopped_by(s.action, &report, checkpoint.is_some(), e));
    }
    let digest = (sha256.as_str(), list_bytes);
    let about = About {
        action: s.action,
        lists: &lists,
        scan: &scan,
        digest,
        workspace: &workspace,
        started,
    };
    let trailer = about.trailer(&ending, complete);
    let counts = Counts::of(ledger.totals());
    ledger.append(&receipt::trailer(&trailer, counts)?)?;
    ledger.finish(complete)?;
    let (receipt, changed) = (ledger.path().to_path_buf(), people.changed());
    let elapsed_seconds = clock.elapsed().as_secs_f64();
    let sent = Sent {
        report,
        counts,
        receipt,
        ending,
        complete,
        changed,
        read_error,
        elapsed_seconds,
    };
    if let Some(path) = &s.report {
        let outcome = sent.outcome();
        let exit = outcome.as_ref().map_or_else(exit_for_error, |e| *e);
        let facts = target.facts(
            started,
            Status::of(&outcome, &sent.report),
            exit,
            about.inputs(),
        );
        let cp = checkpoint.as_deref().map(|path| CheckpointFacts {
            path,
            resumed: ledger.resumed(),
            finished: complete,
            earlier: ledger.earlier(),
        });
        json::write(path, &about, &trailer, &sent, cp.as_ref(), &facts)?;
    }
    sent.say(s.action, scan.people, checkpoint.is_some());
    target.say_sandbox_state();
    sent.exit()
}
