//! `gdpr --checkpoint FILE [--resume]`: what a gdpr job's checkpoint covers (lists, action,
//! endpoint, workspace, list digest), where its receipt is, every refusal before anyone is asked
//! anything, and the journal that keeps receipt rows and watermarks in step once the run starts.

use super::GdprAction;
use super::list::ListFormat;
use crate::report::messages::say;
use std::path::{Path, PathBuf};

use anyhow::Result;

use chrono::{DateTime, Utc};

use super::fold::{Scan, Second, Seen, second_pass};
use super::list::ListSource;
use super::receipt::{self, Receipt};
use super::settle::Sink;
use crate::exit::usage;
use crate::ledger::lock::{self, Held};
use crate::ledger::{self, Checkpoint, Counters, Journal, RunSettings};

/// The settings a resumed gdpr run must share with the run that started the job. Never the key;
/// the site id only as a hash.
pub(crate) fn settings(
    action: &str,
    mode: &str,
    endpoint: &str,
    site_id: &str,
    list_sha256: &str,
    column: Option<&str>,
    list_format: &str,
) -> RunSettings {
    let mut s = RunSettings::default();
    s.set("command", "gdpr")
        .set("action", action)
        .set("mode", mode)
        .set("endpoint", endpoint)
        .set_site_id(Some(site_id))
        .set("list_sha256", list_sha256)
        .set("column", column.unwrap_or_default())
        .set("list_format", list_format);
    s
}

/// A checkpointed gdpr job, checked but not yet started (nothing written, nothing cut).
pub(crate) struct Job {
    path: PathBuf,
    files: Vec<PathBuf>,
    settings: RunSettings,
    pub receipt: PathBuf,
    pub resumed: bool,
    /// The checkpoint as loaded (resume) or fresh.
    pub checkpoint: Checkpoint,
}

impl Job {
    /// Check everything a start or resume needs; every refusal is a usage error naming the file.
    /// On resume the receipt is the one the checkpoint names (`--receipt`, when given, must match)
    /// and must still hold every row the checkpoint covers.
    pub(crate) fn check(
        path: &Path,
        resume: bool,
        files: &[PathBuf],
        settings: RunSettings,
        receipt_flag: Option<&Path>,
        default_receipt: PathBuf,
    ) -> Result<Job> {
        let fingerprints = ledger::fingerprints(files).map_err(|e| usage(e.to_string()))?;
        if !resume {
            let receipt = receipt_flag.map_or(default_receipt, Path::to_path_buf);
            receipt::check_path(&receipt).map_err(|e| usage(format!("{e:#}")))?;
            let checkpoint = ledger::open(path, false, files, settings.clone(), &receipt)
                .map_err(|e| usage(e.to_string()))?;
            return Ok(Job {
                path: path.to_path_buf(),
                files: files.to_vec(),
                settings,
                receipt,
                resumed: false,
                checkpoint,
            });
        }
        let checkpoint = Checkpoint::load(path).map_err(|e| usage(e.to_string()))?;
        let receipt = PathBuf::from(&checkpoint.dead_letter.path);
        if let Some(given) = receipt_flag
            && given != receipt
        {
            return Err(usage(format!(
                "--receipt {}: checkpoint {} belongs to the job whose receipt is {}: resume without --receipt, or with that one",
                given.display(),
                path.display(),
                receipt.display()
            )));
        }
        checkpoint
            .check_resumable(path, &settings, &fingerprints)
            .map_err(|e| usage(e.to_string()))?;
        let found = std::fs::metadata(&receipt).map_or(0, |m| m.len());
        if found < checkpoint.dead_letter.len {
            return Err(usage(format!(
                "receipt {} is {found} bytes, shorter than the {} bytes checkpoint {} recorded (missing, moved or edited): put it back, or delete the checkpoint and start a new job",
                receipt.display(),
                checkpoint.dead_letter.len,
                path.display()
            )));
        }
        Ok(Job {
            path: path.to_path_buf(),
            files: files.to_vec(),
            settings,
            receipt,
            resumed: true,
            checkpoint,
        })
    }

    /// What earlier runs of the job settled (zero for a fresh job).
    pub(crate) fn earlier(&self) -> Counters {
        if self.resumed {
            self.checkpoint.counters
        } else {
            Counters::default()
        }
    }

    /// Start: create the receipt (fresh) or cut it back to the rows the checkpoint covers (resume,
    /// dropping an interrupted run's tail and trailer), and write the checkpoint.
    pub(crate) fn begin(self) -> Result<Sink> {
        let checkpoint = if self.resumed {
            ledger::open(&self.path, true, &self.files, self.settings, &self.receipt)
                .map_err(|e| usage(e.to_string()))?
        } else {
            let mut checkpoint = self.checkpoint;
            checkpoint.dead_letter.len =
                Receipt::create_header(&self.receipt).map_err(|e| usage(format!("{e:#}")))?;
            checkpoint
        };
        let mut journal = Journal::new(
            checkpoint,
            Some(self.path.clone()),
            ledger::session::EVERY,
            ledger::Release::AtWatermark,
        );
        journal.advance(&[])?;
        Ok(Sink::Journal {
            journal,
            path: self.path,
            unreleased: Default::default(),
            tail: Default::default(),
        })
    }
}

/// What the command settled besides the arguments.
pub(crate) struct JobSettings<'a> {
    pub mode: &'a str,
    pub site_id: &'a str,
    /// The endpoint's host (the base URL's authority).
    pub host: &'a str,
    /// Hex SHA-256 of the lists.
    pub sha256: &'a str,
}

/// What this run does: write a plain receipt (`job` is its path) or continue a checkpointed job,
/// and how many people (and unusable entries) it handles.
pub(crate) struct Plan {
    pub job: Result<Job, PathBuf>,
    pub to_send: u64,
    pub malformed_left: u64,
    /// A checkpointed job's receipt, locked for the run (its checkpoint is locked from the start).
    pub(crate) receipt_lock: Option<Held>,
}

/// What the command asks of a job: its action and lists, and the receipt and checkpoint flags.
pub(crate) struct JobRequest<'a> {
    pub action: GdprAction,
    pub files: &'a [PathBuf],
    pub column: Option<&'a str>,
    pub list_format: Option<ListFormat>,
    pub receipt: Option<&'a Path>,
    pub checkpoint: Option<&'a Path>,
    pub resume: bool,
    pub sandbox: bool,
}

/// Check the receipt path and, with `--checkpoint`, start or resume the job (refusals are usage
/// errors, before anyone is asked). `None`: the job is finished already, nothing to do (said).
pub(crate) fn plan(
    args: &JobRequest<'_>,
    settings: &JobSettings<'_>,
    sources: &[ListSource],
    scan: &Scan,
    started: DateTime<Utc>,
) -> Result<Option<Plan>> {
    let name = super::action_name(args.action);
    let column = args.column;
    let default_receipt = receipt::default_path(name, started);
    let Some(cp) = args.checkpoint else {
        let path = args
            .receipt
            .map_or(default_receipt, std::path::Path::to_path_buf);
        receipt::check_path(&path).map_err(|e| usage(format!("{e:#}")))?;
        return Ok(Some(Plan {
            job: Err(path),
            to_send: scan.people,
            malformed_left: scan.malformed,
            receipt_lock: None,
        }));
    };
    let endpoint = if args.sandbox {
        "in-process sandbox".to_string()
    } else {
        settings.host.to_string()
    };
    let format = args
        .list_format
        .map_or("by extension", super::list::ListFormat::name);
    let run_settings = self::settings(
        name,
        settings.mode,
        &endpoint,
        settings.site_id,
        settings.sha256,
        column,
        format,
    );
    let job = Job::check(
        cp,
        args.resume,
        args.files,
        run_settings,
        args.receipt,
        default_receipt,
    )?;
    let receipt_lock = Some(lock::hold(&job.receipt, "receipt")?);
    if !job.resumed {
        return Ok(Some(Plan {
            job: Ok(job),
            to_send: scan.people,
            malformed_left: scan.malformed,
            receipt_lock,
        }));
    }
    if job.checkpoint.finished {
        say!(
            "the job of checkpoint {} is finished already: its receipt is {}; nothing to do",
            cp.display(),
            job.receipt.display()
        );
        return Ok(None);
    }
    let (to_send, malformed_left) = unsettled(sources, column, &scan.seen, &job.checkpoint)
        .map_err(|e| usage(format!("{e:#}")))?;
    let e = job.earlier();
    say!(
        "resuming {}: earlier runs settled {} of {} people ({} accepted, {} rejected, {} failed); {} left to send",
        job.receipt.display(),
        e.accepted + e.rejected + e.failed,
        scan.people,
        e.accepted,
        e.rejected,
        e.failed,
        to_send
    );
    Ok(Some(Plan {
        job: Ok(job),
        to_send,
        malformed_left,
        receipt_lock,
    }))
}

/// How many people (and unusable entries) an earlier run of the job did not settle: those this
/// run sends. Index assignment as in [`super::settle::Book::index`].
pub(crate) fn unsettled(
    sources: &[ListSource],
    column: Option<&str>,
    seen: &Seen,
    checkpoint: &Checkpoint,
) -> Result<(u64, u64)> {
    let changed = std::cell::Cell::new(0);
    let mut next: Vec<u64> = vec![0; sources.len()];
    let (mut people, mut malformed) = (0, 0);
    for second in second_pass(sources, column, seen, &changed) {
        let (input, is_person) = match second? {
            Second::Person { input, .. } => (input, true),
            Second::Malformed { input, .. } => (input, false),
        };
        if next.len() <= input {
            next.resize(input + 1, 0);
        }
        let index = next[input];
        next[input] += 1;
        if !checkpoint.is_settled(input, index) {
            if is_person {
                people += 1;
            } else {
                malformed += 1;
            }
        }
    }
    Ok((people, malformed))
}
