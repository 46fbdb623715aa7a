//! `cio-replay gdpr delete|suppress|unsuppress`: read the lists once to check them, fold duplicates
//! and count (a dry run lists every entry and stops), confirm, then send each person once through
//! the job every sending command shares (target, delivery, ledger), into the receipt.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use chrono::Utc;

use crate::deliver::DeliverySettings;
use crate::exit::{Exit, usage};
use crate::interrupt::Stopping;
use crate::job::confirm::{self, Gate};
use crate::job::{self, Sending, TargetSettings};
use crate::ledger::receipt::{self, Receipt};
use crate::ledger::{Job, lock};
use crate::map::gdpr::{GdprAction, action_name};
use crate::report::gdpr::listing::{nothing_to_send, read_lists, totals_text};
use crate::report::gdpr::{About, PeopleProgress, conclude, finished_text, json, resuming_text};
use crate::report::messages::say;
use crate::report::progress::Display;
use crate::source::list::ListFormat;
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
    /// Checkpoint and resume; the run settings lack what the run learns (site id, lists' digest).
    pub job: Job,
    pub report: Option<PathBuf>,
    pub display: Display,
}

pub(crate) fn run(s: Settings) -> Result<Exit> {
    let (action, started, checkpoint) = (s.action, Utc::now(), s.job.checkpoint.clone());
    // One run at a time on a job, refused at once (its receipt is locked when the job opens).
    let _lock = lock::checkpoint(checkpoint.as_deref())?;
    let how = (s.dry_run, action, s.mode);
    let listed = read_lists(&s.lists, s.list_format, s.column, how)?;
    if s.dry_run || listed.scan.people == 0 {
        return Ok(nothing_to_send(action, &listed, s.dry_run));
    }

    // The workspace, the credentials and the job: every refusal before anyone is asked.
    let mut job = s.job;
    job.settings.set("list_sha256", listed.digest.0.as_str());
    let default = receipt::default_path(action_name(action), started);
    let file = (s.receipt, default);
    let (sending, opening) = Sending::open::<Receipt>(s.target, s.delivery, job, file)?;
    let path = opening.file().to_path_buf();
    if let (Some(cp), true) = (&checkpoint, opening.finished()) {
        say!("{}", finished_text(cp, &path));
        return Ok(Exit::Success);
    }
    let before = opening.settled_before();
    let (to_send, unusable) = if opening.resumed() {
        let (to_send, unusable) = listed.left(|input, i| before.is_settled(input, i))?;
        let (earlier, people) = (opening.earlier(), listed.scan.people);
        say!("{}", resuming_text(&path, earlier, people, to_send));
        (to_send, unusable)
    } else {
        (listed.scan.people, listed.scan.malformed)
    };
    say!("{}", totals_text(action_name(action), &listed));
    let workspace = sending.target.workspace();
    if let Gate::Refused(why) = confirm::decide(action, to_send, unusable, &workspace, s.yes)? {
        return Err(usage(why));
    }

    let stop = job::stop_flag(Stopping::Gdpr {
        checkpoint: checkpoint.is_some(),
    })?;
    let mut book = opening.begin(|path| Receipt::new(path, action), stop.clone())?;
    let mut people = listed.people(action);
    let (mut progress, clock) = (PeopleProgress::new(s.display, to_send), Instant::now());
    let work = people.by_ref().filter(|w| !before.covers(&w.record));
    let delivered = sending.deliver(work, &mut book, &mut progress, &stop)?;
    progress.finish();
    let about = About {
        action,
        listed: &listed,
        workspace,
        started,
    };
    let end = (checkpoint.is_some(), clock);
    let (sent, ledger) = conclude(&about, delivered, book, &mut people, end)?;
    if let Some(path) = &s.report {
        let (status, exit) = sent.status();
        let facts = sending.target.facts(started, status, exit, about.inputs());
        json::write(
            path,
            &about,
            &sent,
            (checkpoint.as_deref(), &ledger),
            &facts,
        )?;
    }
    sent.say(action, listed.scan.people, checkpoint.is_some());
    sending.target.say_sandbox_state();
    sent.exit()
}
