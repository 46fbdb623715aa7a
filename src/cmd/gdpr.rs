//! `cio-replay gdpr delete|suppress|unsuppress`: read the lists, fold duplicates, list (dry run) or
//! confirm, send through the same sender as `send`, and write the receipt.

use crate::messages::say;
use std::cell::{Cell, RefCell};
use std::io::{self, BufWriter, Write};
use std::rc::Rc;
use std::time::Instant;

use anyhow::Result;
use chrono::Utc;
use sha2::{Digest, Sha256};

use super::job::{self, Target};
use crate::checkpoint::lock;
use crate::cli::GdprArgs;
use crate::cli::settings;
use crate::exit::{Exit, Fatal, usage};
use crate::gdpr::GdprAction;
use crate::gdpr::action_name;
use crate::gdpr::confirm::{self, Gate, Workspace};
use crate::gdpr::fold::{self, Second};
use crate::gdpr::list::ListFormat;
use crate::gdpr::list::{self, ListSource};
use crate::gdpr::receipt::{Receipt, Trailer};
use crate::gdpr::report::{self, CheckpointFacts};
use crate::gdpr::resume::{self, JobSettings, Plan};
use crate::gdpr::settle::{Book, BookHooks, Sink};
use crate::gdpr::show::{listing_line, plural, problem_line, totals_text};
use crate::send::deliver;

pub fn run(args: GdprArgs) -> Result<Exit> {
    let action = GdprAction::from(args.action);
    let list_format = args.list_format.map(ListFormat::from);
    let name = action_name(action);
    let d = &args.delivery;
    if d.dead_letter.is_some() {
        return Err(usage(
            "gdpr does not write a dead-letter file: rejected and failed people are rows of the receipt (--receipt FILE)",
        ));
    }
    if args.dry_run && (d.report.is_some() || d.checkpoint.is_some()) {
        return Err(usage(
            "--dry-run sends nothing: --report and --checkpoint belong to real runs (the dry run's record is its listing on standard output)",
        ));
    }
    if d.resume && d.checkpoint.is_none() {
        return Err(usage(
            "--resume needs --checkpoint FILE (the checkpoint of the job to continue)",
        ));
    }
    // One run at a time on a job, refused at once (the receipt is locked in `resume::plan`).
    let _lock = lock::checkpoint(d.checkpoint.as_deref())?;
    let mode = settings::mode(args.mode);
    let delivery = settings::delivery(mode, d)?;
    let started = Utc::now();

    let sources = list::sources(&args.files, list_format).map_err(|e| usage(format!("{e:#}")))?;
    let (sha256, list_bytes) = digest(&sources).map_err(|e| usage(format!("{e:#}")))?;
    let column = args.column.as_deref();

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
    let gate = if to_send == 0 && malformed_left == 0 {
        // A resumed job whose people are all settled (the run that settled them stopped before
        // its trailer): nothing is sent, the receipt is completed.
        say!("nothing left to send: completing the receipt");
        Gate::Proceed
    } else if confirm::interactive() && !args.yes {
        let banner = confirm::banner(action, to_send, malformed_left, &workspace);
        let stdin = io::stdin();
        confirm::ask(&banner, to_send, &mut stdin.lock(), &mut io::stderr())?
    } else {
        if args.yes {
            say!(
                "{}",
                confirm::banner(action, to_send, malformed_left, &workspace)
            );
            say!("--yes given: going on without asking");
        }
        confirm::without_terminal(args.yes, action, to_send)
    };
    if let Gate::Refused(why) = gate {
        return Err(usage(why));
    }

    // Send.
    let transport = target.transport(delivery.lanes())?;
    let (sink, checkpoint_facts) = match job {
        Err(path) => (
            Sink::Direct(Receipt::create(&path).map_err(|e| usage(format!("{e:#}")))?),
            None,
        ),
        Ok(job) => {
            let facts = (job.resumed, job.earlier());
            (job.begin()?, Some(facts))
        }
    };
    let book = Rc::new(RefCell::new(Book::new(sink, action)));
    let stop = job::stop_flag()?;
    let mut hooks = BookHooks::new(
        Rc::clone(&book),
        settings::show_progress(&args.display),
        to_send,
        stop.clone(),
    );
    let changed = Cell::new(0u64);
    let read_error: RefCell<Option<anyhow::Error>> = RefCell::new(None);
    let clock = Instant::now();
    let mut people = fold::second_pass(&sources, column, &scan.seen, &changed);
    let mut items = std::iter::from_fn(|| {
        loop {
            let next = match people.next()? {
                Ok(next) => next,
                Err(e) => {
                    *read_error.borrow_mut() = Some(e);
                    return None;
                }
            };
            let mut b = book.borrow_mut();
            match next {
                Second::Person {
                    input,
                    location,
                    person,
                } => {
                    let index = b.index(input);
                    if !b.is_settled(input, index) {
                        return Some(b.item(input, index, location, person));
                    }
                }
                Second::Malformed {
                    input,
                    location,
                    why,
                } => {
                    let index = b.index(input);
                    if !b.is_settled(input, index) {
                        return Some(b.malformed(input, index, location, why));
                    }
                }
            }
        }
    });
    let report = deliver(&mut items, &delivery, &transport, &mut hooks, &stop)?;
    hooks.bar.finish_and_clear();
    drop(hooks);
    let ending = if let Some(halt) = &report.halted {
        format!("stopped: {}", halt.message)
    } else if report.stopped_early {
        "interrupted (Ctrl-C)".to_string()
    } else if let Some(e) = read_error.borrow().as_ref() {
        format!("stopped: {e:#}")
    } else {
        "complete".to_string()
    };
    // A receipt or checkpoint that could not be written stopped the run: nothing more is written.
    let local_error = book.borrow_mut().error.take();
    if let Some(e) = local_error {
        let s = &report.stats;
        say!(
            "{name}: stopped by a local error after {} accepted, {} rejected, {} failed ({} request{} this run)",
            s.accepted,
            s.rejected,
            s.failed,
            s.requests,
            plural(s.requests)
        );
        let resume = if d.checkpoint.is_some() {
            "the checkpoint covers the people settled before it; fix that and run the same \
             command with --resume"
        } else {
            "the receipt is incomplete; fix that and run the list again (deleting or suppressing \
             someone twice is accepted)"
        };
        return Err(Fatal::new(Exit::LocalError, format!("stopped: {e:#}; {resume}")).into());
    }
    // Every person gets a row: those handed to the sender but never settled, then those never read.
    {
        let mut b = book.borrow_mut();
        b.not_sent_in_flight(&ending)?;
        for next in people.by_ref() {
            let Ok(next) = next else { continue };
            let (input, location) = match &next {
                Second::Person {
                    input, location, ..
                }
                | Second::Malformed {
                    input, location, ..
                } => (*input, location.clone()),
            };
            let index = b.index(input);
            if b.is_settled(input, index) {
                continue;
            }
            match next {
                Second::Person { person, .. } => {
                    b.not_sent((input, index), &person, &location, &ending)?
                }
                Second::Malformed { why, .. } => {
                    b.unread_malformed((input, index), &location, &why)?
                }
            }
        }
    }
    let book = Rc::try_unwrap(book)
        .map_err(|_| anyhow::anyhow!("internal: receipt still shared"))?
        .into_inner();
    let complete = ending == "complete" && changed.get() == 0;
    let (receipt, job_end) = book.close(&report.watermarks)?;
    let receipt_path = receipt.path().to_path_buf();
    let trailer = Trailer {
        action: name.to_string(),
        lists: sources.iter().map(|s| s.name.to_string()).collect(),
        sha256: sha256.clone(),
        list_bytes,
        entries: scan.entries,
        duplicates: scan.duplicates,
        blank: scan.blank,
        site_id: workspace.site_id.clone(),
        host: workspace.host.clone(),
        started,
        finished: Utc::now(),
        ending: ending.clone(),
        status: if complete { "complete" } else { "interrupted" },
    };
    let counts = receipt.finish(&trailer)?;
    if let (true, Some(end)) = (complete, job_end) {
        // Only now, with the trailer on disk: a crash before this resumes and rewrites it.
        end.mark_finished()?;
    }
    if let Some(path) = &d.report {
        let facts = checkpoint_facts.zip(d.checkpoint.as_deref());
        let facts = facts.map(|((resumed, earlier), path)| CheckpointFacts {
            path,
            resumed,
            finished: complete,
            earlier,
        });
        let value = report::json(
            &trailer,
            &scan,
            &counts,
            &receipt_path,
            &workspace.region,
            &report.stats,
            facts.as_ref(),
        );
        report::write(path, &value)?;
    }
    let s = &report.stats;
    say!(
        "{name}: {} accepted, {} rejected, {} failed of {} people ({} request{} this run, {} retr{}) in {:.1} s",
        counts.accepted,
        counts.rejected,
        counts.failed,
        scan.people,
        s.requests,
        plural(s.requests),
        s.retries,
        if s.retries == 1 { "y" } else { "ies" },
        clock.elapsed().as_secs_f64()
    );
    say!("receipt: {} ({ending})", receipt_path.display());
    if !complete && d.checkpoint.is_some() {
        say!("not finished: run the same command with --resume to continue the job");
    }
    say!(
        "re-running the same list is safe: {}",
        match action {
            GdprAction::Delete =>
                "deleting someone already deleted is accepted again, not an error",
            GdprAction::Suppress =>
                "suppressing someone already suppressed is accepted again, not an error",
            GdprAction::Unsuppress =>
                "unsuppressing someone not suppressed is accepted, not an error",
        }
    );
    target.say_sandbox_state();
    if changed.get() > 0 {
        crate::messages::warning!(
            "the list changed while the run read it: {} entr{} not in the first \
             reading {} not sent; check the list and re-run it",
            changed.get(),
            if changed.get() == 1 { "y" } else { "ies" },
            if changed.get() == 1 { "was" } else { "were" }
        );
    }
    if let Some(halt) = report.halted {
        return Err(Fatal::new(halt.exit, halt.message).into());
    }
    if let Some(e) = read_error.into_inner() {
        return Err(e);
    }
    let exit = if counts.invalid + counts.rejected + counts.failed > 0 || changed.get() > 0 {
        Exit::Partial
    } else {
        Exit::Success
    };
    // A stop after everyone was settled changed nothing: the job is complete.
    Ok(if report.stopped_early {
        Exit::Interrupted.worst(exit)
    } else {
        exit
    })
}

/// Hex SHA-256 of all lists' bytes as stored, concatenated in order, and their total size.
fn digest(sources: &[ListSource]) -> Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut bytes = 0;
    for source in sources {
        bytes += source.hash_into(&mut hasher)?;
    }
    Ok((crate::checkpoint::hex(&hasher.finalize()), bytes))
}
