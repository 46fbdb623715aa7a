//! `send --checkpoint FILE [--resume]`: the glue between the send command and the checkpoint —
//! start or resume, tell which records an earlier run settled, route settlements and watermarks
//! to the journal, and say what the whole job (all runs) amounts to at the end.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use super::journal::Release;
use super::{Checkpoint, Counters, Journal, Kind, RunSettings};
use crate::deliver::{Coverage, Ledger, Settled, Settlement};
use crate::exit::{Exit, usage};

/// How often the checkpoint is rewritten while a run goes on (and always at its end). A crash
/// repeats at most the work of this long, plus the requests in flight.
pub(crate) const EVERY: Duration = Duration::from_secs(1);

/// A checkpointed send run.
#[derive(Debug)]
pub(crate) struct Session {
    journal: Journal,
    /// What earlier runs settled (zero for a fresh run).
    earlier: Counters,
    resumed: bool,
    /// Dead-letter lines this run wrote.
    dead_letters: u64,
}

impl Session {
    /// Start (or with `resume`, continue) the checkpoint at `path` of a `send` run over `files`
    /// with `settings`. `None` without a checkpoint; `resume` without one is a usage error. Every
    /// refusal is a usage error (exit 2) naming the file and what to do, raised before anything is
    /// sent.
    pub(crate) fn start(
        path: Option<&Path>,
        resume: bool,
        files: &[std::path::PathBuf],
        settings: RunSettings,
        dead_letter: &Path,
    ) -> anyhow::Result<Option<Session>> {
        let Some(path) = path else {
            if resume {
                return Err(usage(
                    "--resume needs --checkpoint FILE (the checkpoint of the run to continue)",
                ));
            }
            return Ok(None);
        };
        let checkpoint = super::open(path, resume, files, settings, dead_letter)
            .map_err(|e| usage(e.to_string()))?;
        let earlier = checkpoint.counters;
        let mut journal =
            Journal::new(checkpoint, Some(path.to_path_buf()), EVERY, Release::AtOnce);
        // Write it at once: from here on a checkpoint exists, fresh or not.
        journal.advance(&[]).map_err(|e| usage(e.to_string()))?;
        Ok(Some(Session {
            journal,
            earlier,
            resumed: resume,
            dead_letters: 0,
        }))
    }

    /// A record is settled: count it and write its dead-letter line (if any).
    pub(crate) fn on_record(&mut self, settlement: &Settlement) -> anyhow::Result<()> {
        let kind = match &settlement.result {
            Settled::Accepted => Kind::Accepted,
            Settled::Skipped { .. } => Kind::Skipped,
            Settled::Invalid { .. } => Kind::Invalid,
            Settled::Rejected { .. } => Kind::Rejected,
            Settled::Failed { .. } => Kind::Failed,
        };
        let line = settlement.result.stage().map(|stage| {
            crate::ledger::dead_letter::line(
                &settlement.record,
                settlement.result.status(),
                settlement.result.reason(),
                stage,
                settlement.action.map(|a| a.name()),
            )
            .into_bytes()
        });
        let lines = u64::from(line.is_some());
        let r = &settlement.record;
        self.journal.settled(r.input, r.index, kind, line)?;
        self.dead_letters += lines;
        Ok(())
    }

    /// Records settled: now and then (every [`EVERY`]), write the checkpoint covering them.
    pub(crate) fn on_progress(&mut self, ledger: &Ledger) -> anyhow::Result<()> {
        Ok(self.journal.cover_if_due(|| ledger.coverage())?)
    }

    /// The run ended; `complete` when every input was read to its end and nothing was left
    /// unsettled; `coverage` is the sender's final ledger. Writes the final checkpoint (unless a
    /// write failed earlier: then the last one written stays) and returns the counts over all runs.
    pub(crate) fn finish(
        &mut self,
        complete: bool,
        coverage: &[Coverage],
    ) -> anyhow::Result<Counters> {
        Ok(self.journal.finish(complete, coverage)?)
    }

    /// What earlier runs of this checkpoint settled (zero for a fresh run).
    pub(crate) fn earlier(&self) -> Counters {
        self.earlier
    }

    /// Dead-letter lines produced by this run.
    pub(crate) fn dead_letters(&self) -> u64 {
        self.dead_letters
    }

    /// The exit of the whole job: `this_run`, made [`Exit::Partial`] when an earlier run
    /// dead-lettered records (the job as a whole did not succeed).
    pub(crate) fn job_exit(&self, this_run: Exit) -> Exit {
        let e = self.earlier;
        if this_run == Exit::Success && e.invalid + e.rejected + e.failed > 0 {
            Exit::Partial
        } else {
            this_run
        }
    }

    /// Lines for the human summary: what earlier runs did and the totals of the job.
    pub(crate) fn text(&self) -> String {
        let mut out = String::new();
        let path = self.journal.checkpoint().dead_letter.path.clone();
        if self.resumed {
            let e = self.earlier;
            let _ = writeln!(
                out,
                "  resumed: {} records settled by earlier runs were skipped ({} accepted, {} skipped, {} invalid, {} rejected, {} failed)",
                e.read, e.accepted, e.skipped, e.invalid, e.rejected, e.failed
            );
        }
        let t = self.journal.totals();
        let _ = writeln!(
            out,
            "  whole job so far (all runs of this checkpoint): {} records:\n    {} accepted, {} skipped, {} dead-lettered\n    to {path} ({} invalid, {} rejected, {} failed)",
            t.read,
            t.accepted,
            t.skipped,
            t.invalid + t.rejected + t.failed,
            t.invalid,
            t.rejected,
            t.failed
        );
        let cp = self.journal.checkpoint();
        if !cp.finished {
            let _ = writeln!(
                out,
                "  not finished: run the same command with --resume to continue"
            );
        }
        out
    }

    /// The `checkpoint` object of the JSON report.
    pub(crate) fn json(&self) -> Value {
        let cp = self.journal.checkpoint();
        json!({
            "checkpoint": {
                "resumed": self.resumed,
                "finished": cp.finished,
                "earlier_runs": self.earlier,
                "all_runs": cp.counters,
                "watermarks": cp.inputs.iter().map(|i| json!({"input": i.fingerprint.path, "watermark": i.watermark, "settled_above": i.settled, "finished": i.finished})).collect::<Vec<_>>(),
            }
        })
    }

    /// The checkpoint as it stands.
    pub(crate) fn checkpoint(&self) -> &Checkpoint {
        self.journal.checkpoint()
    }
}
