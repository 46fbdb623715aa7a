//! A job's book: the ledger's side of a delivery. It opens (or resumes) the job's checkpoint and
//! file, takes the sender's settlements through the journal into its sink, remembers what is in
//! flight when the sink lists unsent records, and keeps the first write error, which stops the run
//! as a Ctrl-C does. At the end it closes the job: the last checkpoint, then the tail.

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Result;

use super::checkpoint::{self, Checkpoint, Counters, InputProgress};
use super::journal::Journal;
use super::lock::{self, Held};
use super::settings::RunSettings;
use super::sink::{Release, Sink};
use crate::deliver::{Delivered, Hooks, Settled, Settlement, Watermarks};
use crate::exit::usage;
use crate::map::Outcome;
use crate::stream::{RecordInfo, Work};
use crate::track::Action;

/// How often the checkpoint is rewritten while a run goes on (and always at its end). A crash
/// repeats at most the work of this long, plus the requests in flight.
pub(crate) const EVERY: Duration = Duration::from_secs(1);

/// What a job's ledger is kept under.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    /// `--checkpoint FILE`: the job may span runs.
    pub checkpoint: Option<PathBuf>,
    /// `--resume`: continue the job of the checkpoint.
    pub resume: bool,
    /// The inputs, as the checkpoint fingerprints them.
    pub files: Vec<PathBuf>,
    /// What a resume must share with the run that started the job (never the key).
    pub settings: RunSettings,
}

/// A job's ledger checked but not yet begun, its file to be written by an `S`: every refusal
/// comes here, before anything is sent or written (and, for `gdpr`, before anyone is asked). See
/// [`Opening::new`].
#[derive(Debug)]
pub(crate) struct Opening<S: Sink> {
    job: Job,
    file: PathBuf,
    /// The checkpoint to continue (resume) or to start (fresh); `None` without `--checkpoint`.
    checkpoint: Option<Checkpoint>,
    lock: Option<Held>,
    sink: PhantomData<S>,
}

impl<S: Sink> Opening<S> {
    /// Check `job`: on `--resume`, its file is the one the checkpoint names (`given`, the
    /// `--FLAG` of `S`, must be that one when there is one), the checkpoint must match this run's
    /// settings and inputs and the file must still hold what it covers; without, the file is
    /// `given` or `default`, a checkpoint of an unfinished run must not be in the way, and a file
    /// the job creates (a receipt) must not exist yet. The file's folder must exist, and with a
    /// checkpoint the file is locked for the run. Refusals are usage errors (exit 2).
    pub(crate) fn new(job: Job, given: Option<PathBuf>, default: PathBuf) -> Result<Opening<S>> {
        let (what, flag) = (S::WHAT, S::FLAG);
        let usage_of = |e: checkpoint::CheckpointError| usage(e.to_string());
        let (file, checkpoint) = match (&job.checkpoint, job.resume) {
            (None, true) => {
                return Err(usage(
                    "--resume needs --checkpoint FILE (the checkpoint of the run to continue)",
                ));
            }
            (None, false) => (given.unwrap_or(default), None),
            (Some(path), false) => {
                let file = given.unwrap_or(default);
                let fresh = checkpoint::start(path, &job.files, job.settings.clone(), &file)
                    .map_err(usage_of)?;
                (file, Some(fresh))
            }
            (Some(path), true) => {
                let loaded =
                    checkpoint::resume(path, &job.files, &job.settings).map_err(usage_of)?;
                let file = PathBuf::from(&loaded.file.path);
                if let Some(given) = given.filter(|g| !same_file(g, &file)) {
                    return Err(usage(format!(
                        "--{flag} {}: checkpoint {} belongs to the job whose {what} is {}: \
                         resume without --{flag}, or with that one",
                        given.display(),
                        path.display(),
                        file.display()
                    )));
                }
                checkpoint::check_length(path, &loaded.file, &file, what).map_err(usage_of)?;
                (file, Some(loaded))
            }
        };
        if !job.resume && S::header().is_some() && file.exists() {
            return Err(usage(format!(
                "{what} {} exists already: {what}s are never overwritten; choose another --{flag} FILE",
                file.display()
            )));
        }
        if let Some(folder) = file.parent().filter(|p| !p.as_os_str().is_empty())
            && !folder.is_dir()
        {
            return Err(usage(format!(
                "{what} {}: folder {} does not exist",
                file.display(),
                folder.display()
            )));
        }
        if let Some(path) = job.checkpoint.as_ref().filter(|cp| same_file(cp, &file)) {
            return Err(usage(format!(
                "{what} {} is the checkpoint itself: name another file for --{flag}",
                path.display()
            )));
        }
        // A device (`/dev/full`) is no file of the job's: no lock file beside it.
        let device = std::fs::metadata(&file).is_ok_and(|m| !m.is_file());
        let lock = match &checkpoint {
            Some(_) if !device => Some(lock::hold(&file, what)?),
            _ => None,
        };
        Ok(Opening {
            job,
            file,
            checkpoint,
            lock,
            sink: PhantomData,
        })
    }

    /// The ledger's file.
    pub(crate) fn file(&self) -> &Path {
        &self.file
    }

    /// The job continues an earlier run's (`--resume`).
    pub(crate) fn resumed(&self) -> bool {
        self.job.resume
    }

    /// The checkpoint an earlier run of the job left (`--resume`).
    fn earlier_run(&self) -> Option<&Checkpoint> {
        self.checkpoint.as_ref().filter(|_| self.job.resume)
    }

    /// A resumed job that is finished already: there is nothing to do.
    pub(crate) fn finished(&self) -> bool {
        self.earlier_run().is_some_and(|c| c.finished)
    }

    /// What the job's earlier runs settled: records this run neither sends nor counts again.
    pub(crate) fn settled_before(&self) -> SettledBefore {
        SettledBefore(
            self.earlier_run()
                .map_or_else(Vec::new, |c| c.inputs.clone()),
        )
    }

    /// What earlier runs of the job settled (zero for a fresh job).
    pub(crate) fn earlier(&self) -> Counters {
        self.earlier_run()
            .map_or_else(Counters::default, |c| c.counters)
    }

    /// Begin the job, its file written by the sink `make` makes of its path: on resume the file is
    /// cut back to what the checkpoint covers; a new receipt is created with its header; the
    /// checkpoint is written at once. `stop` is raised at the first write error of the run.
    pub(crate) fn begin(
        self,
        make: impl FnOnce(PathBuf) -> S,
        stop: Arc<AtomicBool>,
    ) -> Result<Book<S>> {
        let usage_of = |e: checkpoint::CheckpointError| usage(e.to_string());
        let (before, earlier) = (self.settled_before(), self.earlier());
        let Opening {
            job,
            file,
            checkpoint,
            lock,
            ..
        } = self;
        let (checkpoint, path) = match (checkpoint, &job.checkpoint) {
            (Some(c), Some(path)) => (c, Some(path.clone())),
            _ => (Checkpoint::fresh(job.settings, Vec::new(), &file), None),
        };
        if let (true, Some(path)) = (job.resume, &path) {
            checkpoint::cut_back(path, &checkpoint.file, &file, S::WHAT).map_err(usage_of)?;
        }
        let sink = make(file);
        // Without a checkpoint nothing is cut back, so no entry need wait for the watermark: a
        // killed run's file then holds everything that settled.
        let release = match path {
            Some(_) => sink.release(),
            None => Release::AtOnce,
        };
        let mut journal = Journal::new(checkpoint, path.clone(), EVERY, release).named(S::WHAT);
        if let (false, Some(header)) = (job.resume, S::header()) {
            journal.create(&header).map_err(usage_of)?;
        }
        if path.is_some() {
            // Write it at once: from here on a checkpoint exists, fresh or not.
            journal.advance(&[]).map_err(usage_of)?;
        }
        Ok(Book {
            before,
            sink,
            journal,
            earlier,
            resumed: job.resume,
            in_flight: BTreeMap::new(),
            error: None,
            stop,
            _lock: lock,
        })
    }
}

/// Whether `a` and `b` name the same file: the same path once both are resolved (`./x`, an
/// absolute path and a link to it are one file), or, when one cannot be, as written.
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => std::path::absolute(a).ok() == std::path::absolute(b).ok(),
    }
}

/// The ledger of a run; see the module documentation.
pub(crate) struct Book<S: Sink> {
    sink: S,
    journal: Journal,
    /// What the job's earlier runs settled, as the checkpoint said when this run began.
    before: SettledBefore,
    earlier: Counters,
    resumed: bool,
    /// Records handed to the sender and not settled yet (only when the sink lists unsent ones).
    in_flight: BTreeMap<(usize, u64), (RecordInfo, Action)>,
    /// The first error writing the file or the checkpoint; the run stops when it happens.
    error: Option<anyhow::Error>,
    stop: Arc<AtomicBool>,
    /// The file's lock, held for the run when the job has a checkpoint.
    _lock: Option<Held>,
}

impl<S: Sink> Book<S> {
    /// What the job's earlier runs settled: records this run neither sends nor counts again.
    pub(crate) fn settled_before(&self) -> SettledBefore {
        self.before.clone()
    }

    /// Keep the first local error and stop the run as a Ctrl-C would; the journal writes nothing
    /// more, so no later checkpoint covers what the error left unwritten.
    fn check(&mut self, result: Result<()>) {
        if let Err(e) = result
            && self.error.is_none()
        {
            self.error = Some(e);
            self.journal.poison();
            self.stop.store(true, Ordering::SeqCst);
        }
    }

    fn settle(&mut self, settlement: &Settlement) -> Result<()> {
        let r = &settlement.record;
        let entry = self.sink.entry(settlement).map_err(|e| {
            anyhow::anyhow!("writing {} {}: {e}", S::WHAT, self.sink.path().display())
        })?;
        Ok(self
            .journal
            .settled(r.input, r.index, entry.kind, entry.bytes)?)
    }

    /// The delivery ended as `report` says (`complete`: every record of the job is settled):
    /// write the final checkpoint (not yet marked finished, see [`Closed::finish`]) and, when the
    /// sink lists unsent records, an entry for each record in flight and each of `unread` (work
    /// never handed to the sender) that no run settled, `why` saying why it was not sent.
    pub(crate) fn close(
        mut self,
        report: &Delivered,
        complete: bool,
        unread: impl Iterator<Item = Work>,
        why: &str,
    ) -> Closed<S> {
        let result = self.end(report, complete, unread, why);
        self.check(result);
        Closed { book: self }
    }

    fn end(
        &mut self,
        report: &Delivered,
        complete: bool,
        unread: impl Iterator<Item = Work>,
        why: &str,
    ) -> Result<()> {
        if self.error.is_some() {
            return Ok(()); // a write failed: nothing more is written
        }
        if self.journal.releases() == Release::AtWatermark {
            self.journal.advance(&report.watermarks)?;
        }
        self.journal.end(complete, &report.coverage)?;
        if !self.sink.lists_unsent() {
            return Ok(());
        }
        let not_sent = format!("not sent: {why}");
        let in_flight =
            std::mem::take(&mut self.in_flight)
                .into_values()
                .map(|(record, action)| Settlement {
                    record,
                    action: Some(action),
                    result: Settled::Failed {
                        status: None,
                        reason: not_sent.clone(),
                    },
                });
        let before = self.settled_before();
        let unread =
            unread
                .filter(|w| !before.covers(&w.record))
                .map(|Work { record, outcome }| match outcome {
                    Outcome::Mapped(op) => Settlement {
                        record,
                        action: Some(op.action),
                        result: Settled::Failed {
                            status: None,
                            reason: not_sent.clone(),
                        },
                    },
                    Outcome::Invalid(invalid) => Settlement {
                        record,
                        action: invalid.action,
                        result: Settled::Invalid {
                            reason: invalid.message,
                        },
                    },
                    Outcome::Skipped { action, reason } => Settlement {
                        record,
                        action,
                        result: Settled::Skipped { reason },
                    },
                });
        // In key order, streamed: every record never handed over comes after those that were.
        let sink = &self.sink;
        let tail = in_flight.chain(unread).filter_map(|settlement| {
            let key = (settlement.record.input, settlement.record.index);
            match sink.entry(&settlement) {
                Ok(entry) => Some(Ok((key, entry.kind, entry.bytes?))),
                Err(e) => Some(Err(e)),
            }
        });
        Ok(self.journal.tail(tail)?)
    }
}

impl<S: Sink> Hooks for Book<S> {
    fn on_handed(&mut self, record: &RecordInfo, action: Action) {
        if self.sink.lists_unsent() {
            self.in_flight
                .insert((record.input, record.index), (record.clone(), action));
        }
    }

    fn on_record(&mut self, settlement: &Settlement) {
        if !self.in_flight.is_empty() {
            let r = &settlement.record;
            self.in_flight.remove(&(r.input, r.index));
        }
        let result = self.settle(settlement);
        self.check(result);
    }

    fn on_settled(&mut self, watermarks: &[(usize, u64)]) {
        if self.journal.releases() == Release::AtWatermark {
            let result = self.journal.advance(watermarks).map_err(Into::into);
            self.check(result);
        }
    }

    fn on_progress(&mut self, watermarks: &Watermarks) {
        if self.journal.releases() == Release::AtOnce {
            let result = self
                .journal
                .cover_if_due(|| watermarks.coverage())
                .map_err(Into::into);
            self.check(result);
        }
    }
}

/// What earlier runs of a job settled (a copy of the checkpoint's progress when the run began).
#[derive(Debug, Clone)]
pub(crate) struct SettledBefore(Vec<InputProgress>);

impl SettledBefore {
    /// Whether an earlier run settled `record`: this run neither sends nor counts it.
    pub(crate) fn covers(&self, record: &RecordInfo) -> bool {
        self.is_settled(record.input, record.index)
    }

    /// Whether an earlier run settled record `index` of input `input`.
    pub(crate) fn is_settled(&self, input: usize, index: u64) -> bool {
        self.0.get(input).is_some_and(|i| i.covers(index))
    }
}

/// A job's ledger after the delivery: its file may take a trailer, then the job is marked
/// finished.
pub(crate) struct Closed<S: Sink> {
    book: Book<S>,
}

impl<S: Sink> Closed<S> {
    /// The first local error of the run (a file that could not be written), taken.
    pub(crate) fn take_error(&mut self) -> Option<anyhow::Error> {
        self.book.error.take()
    }

    /// Counts over all runs of the job, tail included.
    pub(crate) fn totals(&self) -> Counters {
        self.book.journal.totals()
    }

    /// Entries this run wrote into the file.
    pub(crate) fn entries(&self) -> u64 {
        self.book.journal.entries()
    }

    /// The file.
    pub(crate) fn path(&self) -> &Path {
        self.book.journal.file_path()
    }

    /// The checkpoint as it stands.
    pub(crate) fn checkpoint(&self) -> &Checkpoint {
        self.book.journal.checkpoint()
    }

    /// What earlier runs of the job settled (zero for a fresh job).
    pub(crate) fn earlier(&self) -> Counters {
        self.book.earlier
    }

    /// The job was there before this run (`--resume`).
    pub(crate) fn resumed(&self) -> bool {
        self.book.resumed
    }

    /// The job keeps a checkpoint.
    pub(crate) fn checkpointed(&self) -> bool {
        self.book.journal.checkpointed()
    }

    /// Append `bytes` (a receipt's trailer) after everything else.
    pub(crate) fn append(&mut self, bytes: &[u8]) -> Result<()> {
        Ok(self.book.journal.append(bytes)?)
    }

    /// The end: fsync the file and, when the job is `complete` (and nothing failed), mark its
    /// checkpoint finished. Only now, after any trailer: a crash before this resumes and writes
    /// the trailer again.
    pub(crate) fn finish(&mut self, complete: bool) -> Result<()> {
        if self.book.error.is_some() {
            return Ok(());
        }
        if complete {
            self.book.journal.mark_finished()?;
        } else {
            self.book.journal.sync()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deliver::never_stop;
    use crate::ledger::dead_letter::DeadLetters;

    fn job(dir: &Path, resume: bool) -> Job {
        let input = dir.join("in.ndjson");
        if !input.exists() {
            std::fs::write(&input, "{}\n").unwrap();
        }
        let mut settings = RunSettings::default();
        settings.set("mode", "batch");
        Job {
            checkpoint: Some(dir.join("cp.json")),
            resume,
            files: vec![input],
            settings,
        }
    }

    /// The opening of `job` writing dead letters, `given` or else `default`.
    fn open(job: Job, given: Option<&Path>, default: &Path) -> Result<Opening<DeadLetters>> {
        Opening::new(job, given.map(Path::to_path_buf), default.to_path_buf())
    }

    /// Start a job writing `dead` and end it unfinished, its dead-letter file holding a line.
    fn unfinished(dir: &Path, dead: &Path) {
        let opening = open(job(dir, false), None, dead).unwrap();
        let stop = Arc::new(never_stop());
        let book = opening.begin(DeadLetters::new, stop).unwrap();
        drop(book);
        std::fs::write(dead, "{\"kept\":1}\n").unwrap();
    }

    #[test]
    fn a_resume_takes_the_jobs_own_file_and_refuses_another_before_touching_anything() {
        let dir = tempfile::tempdir().unwrap();
        let dead = dir.path().join("dead.ndjson");
        unfinished(dir.path(), &dead);
        let other = dir.path().join("other.ndjson");
        std::fs::write(&other, "someone else's file\n").unwrap();
        let err = open(job(dir.path(), true), Some(&other), &other).unwrap_err();
        let shown = format!("{err:#}");
        assert!(
            shown.contains("dead.ndjson") && shown.contains("--dead-letter"),
            "{shown}"
        );
        assert_eq!(
            std::fs::read_to_string(&other).unwrap(),
            "someone else's file\n",
            "a refused resume cuts nothing"
        );
        // Without --dead-letter the job's own file is taken (whatever the default would be).
        let opening = open(job(dir.path(), true), None, &other).unwrap();
        assert_eq!(opening.file(), dead);
        assert!(opening.resumed() && !opening.finished());
    }

    #[test]
    fn a_job_file_is_locked_while_the_job_runs() {
        let dir = tempfile::tempdir().unwrap();
        let dead = dir.path().join("dead.ndjson");
        let first = open(job(dir.path(), false), None, &dead).unwrap();
        // A second job (another checkpoint) over the same dead-letter file is refused.
        let mut second = job(dir.path(), false);
        second.checkpoint = Some(dir.path().join("cp2.json"));
        let err = open(second, None, &dead).unwrap_err();
        assert!(format!("{err:#}").contains("in use"), "{err:#}");
        drop(first);
    }
}
