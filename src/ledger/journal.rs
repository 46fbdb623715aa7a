//! The journal: the one writer of a ledger's file (the dead-letter file of `send`, the receipt of
//! `gdpr`) and of its checkpoint. It counts each settled record, writes its entry, and writes the
//! checkpoint that covers them, atomically, only after the file is fsynced. Two ways to release a
//! settled record's entry:
//!
//! - [`Release::AtOnce`] (dead letters): counted and written as it settles; the checkpoint
//!   records, besides each input's watermark, the settled ranges above it (from the sender's
//!   [`Watermarks`](crate::deliver::Watermarks)), so a record stuck in retries pins neither memory
//!   nor what a resume sends again. Entries come in the order records settled, which for any one
//!   person is input order.
//! - [`Release::AtWatermark`] (the receipt, which lists people in list order): held until the
//!   input's watermark passes it, then counted and written in input order.
//!
//! Either way the file only ever holds entries of records the checkpoint covers, plus, after a run
//! that stopped, a *tail* past the checkpointed length (entries still held, and those of records
//! never settled, which a receipt lists): a resume cuts it off and writes it again, so a record
//! re-processed after a crash or a stop has one entry. After a write error the journal writes
//! nothing more: the last checkpoint on disk stays the last valid one.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::checkpoint::{Checkpoint, CheckpointError, Counters, InputProgress};
use super::sink::{Kind, Release};
use crate::deliver::Coverage;

#[derive(Debug)]
struct Held {
    kind: Kind,
    entry: Option<Vec<u8>>,
}

/// See the module documentation. One per run; all calls from one thread.
#[derive(Debug)]
pub(crate) struct Journal {
    checkpoint: Checkpoint,
    /// Where the checkpoint is written; `None` runs the journal without one (the file only).
    path: Option<PathBuf>,
    file_path: PathBuf,
    /// What the file is called in messages.
    what: &'static str,
    file: Option<BufWriter<File>>,
    /// Whether the file is fsynced (with a checkpoint, or a file this run created): without a
    /// checkpoint a dead-letter file may be a pipe or `/dev/null`, and is only flushed.
    durable: bool,
    release: Release,
    held: BTreeMap<(usize, u64), Held>,
    /// Per input, the index below which every held entry was released ([`Release::AtWatermark`];
    /// also for inputs the checkpoint does not list, as without one).
    released: Vec<u64>,
    /// Counts of this run only (records this run settled and released).
    this_run: Counters,
    /// Counts of the tail: entries written past the checkpointed length.
    tail: Counters,
    /// Entries written by this run.
    entries: u64,
    every: Duration,
    last_write: Option<Instant>,
    /// A write failed: nothing more is written, so the checkpoint on disk stays valid.
    broken: bool,
}

impl Journal {
    /// A journal continuing `checkpoint` (fresh or resumed: [`super::checkpoint::start`],
    /// [`super::checkpoint::resume`]), writing it to `path` at most once per `every` (and always
    /// at the end). The file is opened for appending at the first entry (see [`Journal::create`]
    /// for a new one).
    pub(crate) fn new(
        checkpoint: Checkpoint,
        path: Option<PathBuf>,
        every: Duration,
        release: Release,
    ) -> Journal {
        let file_path = PathBuf::from(&checkpoint.file.path);
        let released = checkpoint.inputs.iter().map(|i| i.watermark).collect();
        Journal {
            durable: path.is_some(),
            checkpoint,
            path,
            file_path,
            what: "dead-letter file",
            file: None,
            release,
            held: BTreeMap::new(),
            released,
            this_run: Counters::default(),
            tail: Counters::default(),
            entries: 0,
            every,
            last_write: None,
            broken: false,
        }
    }

    /// The same journal, its file called `what` in messages ("dead-letter file", "receipt").
    pub(crate) fn named(mut self, what: &'static str) -> Journal {
        self.what = what;
        self
    }

    /// Write nothing more (the run failed elsewhere): the last checkpoint on disk stays.
    pub(crate) fn poison(&mut self) {
        self.broken = true;
    }

    /// Create the file, which must not exist yet, with `header` as its first bytes (a receipt's
    /// column names), fsynced: the job's entries start after it.
    pub(crate) fn create(&mut self, header: &[u8]) -> Result<(), CheckpointError> {
        self.durable = true;
        let io = self.file_error();
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&self.file_path)
            .map_err(&io)?;
        file.write_all(header).map_err(&io)?;
        self.checkpoint.file.len = super::checkpoint::settle_file(&mut file).map_err(&io)?;
        self.file = Some(BufWriter::new(file));
        Ok(())
    }

    /// The checkpoint as it stands (watermarks and counts of everything released so far).
    pub(crate) fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// When its entries are written.
    pub(crate) fn releases(&self) -> Release {
        self.release
    }

    /// Whether the journal writes a checkpoint.
    pub(crate) fn checkpointed(&self) -> bool {
        self.path.is_some()
    }

    /// The ledger's file.
    pub(crate) fn file_path(&self) -> &Path {
        &self.file_path
    }

    /// Counts over all runs of the records settled below the watermarks, and of the tail.
    pub(crate) fn totals(&self) -> Counters {
        let (c, t) = (self.checkpoint.counters, self.tail);
        Counters {
            read: c.read + t.read,
            accepted: c.accepted + t.accepted,
            rejected: c.rejected + t.rejected,
            skipped: c.skipped + t.skipped,
            invalid: c.invalid + t.invalid,
            failed: c.failed + t.failed,
        }
    }

    /// Counts of the records this run settled below the watermarks.
    #[cfg(test)]
    pub(crate) fn this_run(&self) -> Counters {
        self.this_run
    }

    /// Entries this run wrote into the file.
    pub(crate) fn entries(&self) -> u64 {
        self.entries
    }

    /// Records settled but still waiting for the watermark.
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.held.len()
    }

    /// A record is settled; `entry` is its complete entry (with its line end) when it leaves one.
    /// [`Release::AtOnce`]: counted and written now; [`Release::AtWatermark`]: nothing is
    /// written until the watermark passes it.
    pub(crate) fn settled(
        &mut self,
        input: usize,
        index: u64,
        kind: Kind,
        entry: Option<Vec<u8>>,
    ) -> Result<(), CheckpointError> {
        if self.checkpoint.is_settled(input, index) {
            return Ok(()); // settled by an earlier run: counted already
        }
        match self.release {
            Release::AtWatermark => {
                self.held.insert((input, index), Held { kind, entry });
                Ok(())
            }
            Release::AtOnce => self.count(kind, entry.as_deref()),
        }
    }

    /// Watermarks moved: release every held record below them (count it, write its entry in input
    /// order), then write the checkpoint if the last one is older than `every`.
    pub(crate) fn advance(&mut self, watermarks: &[(usize, u64)]) -> Result<(), CheckpointError> {
        let before = self.entries;
        for &(input, watermark) in watermarks {
            self.release(input, watermark)?;
        }
        if self.due() {
            self.write()?;
        } else if self.entries > before {
            // Released entries reach the file now (a crash keeps them), fsynced with the next
            // checkpoint.
            self.flush()?;
        }
        Ok(())
    }

    /// Flush what was written into the file (no fsync).
    fn flush(&mut self) -> Result<(), CheckpointError> {
        self.guarded(|j| {
            let io = j.file_error();
            match &mut j.file {
                Some(writer) => writer.flush().map_err(io),
                None => Ok(()),
            }
        })
    }

    /// Run `write` unless a write failed before; if it fails, nothing more is written, so the
    /// last checkpoint on disk stays the last valid one.
    fn guarded<T: Default>(
        &mut self,
        write: impl FnOnce(&mut Journal) -> Result<T, CheckpointError>,
    ) -> Result<T, CheckpointError> {
        if self.broken {
            return Ok(T::default());
        }
        let result = write(self);
        self.broken = result.is_err();
        result
    }

    /// [`Release::AtOnce`]: if the last checkpoint is older than `every`, record `coverage` (the
    /// sender's watermarks and settled ranges) and write the checkpoint.
    pub(crate) fn cover_if_due(
        &mut self,
        coverage: impl FnOnce() -> Vec<Coverage>,
    ) -> Result<(), CheckpointError> {
        if self.due() {
            self.cover(&coverage());
            self.write()?;
        }
        Ok(())
    }

    fn due(&self) -> bool {
        self.last_write.is_none_or(|t| t.elapsed() >= self.every)
    }

    /// Take the sender's coverage into the checkpoint: what this run settled, plus what earlier
    /// runs settled beyond what this run has read.
    fn cover(&mut self, coverage: &[Coverage]) {
        for c in coverage {
            if let Some(progress) = self.checkpoint.inputs.get_mut(c.input) {
                cover_input(progress, c);
            }
        }
    }

    /// The run ended (what [`Journal::end`] and [`Journal::mark_finished`] do, one after the
    /// other); `coverage` is the sender's final state ([`Release::AtOnce`]; ignored
    /// otherwise). `complete`: every input was read to the end and every record settled (then
    /// all held records are released and the checkpoint says `finished`). Otherwise (stopped,
    /// halted) only what is settled is kept. Writes the checkpoint either way, unless an earlier
    /// write failed (then the last checkpoint written stays).
    #[cfg(test)]
    pub(crate) fn finish(
        &mut self,
        complete: bool,
        coverage: &[Coverage],
    ) -> Result<Counters, CheckpointError> {
        self.end(complete, coverage)?;
        if complete {
            self.mark_finished()?;
        }
        Ok(self.checkpoint.counters)
    }

    /// The run ended: as `Journal::finish` (tests), but the checkpoint is not marked finished yet (a
    /// receipt's tail and trailer come first, see [`Journal::mark_finished`]).
    pub(crate) fn end(
        &mut self,
        complete: bool,
        coverage: &[Coverage],
    ) -> Result<(), CheckpointError> {
        if self.broken {
            return Ok(());
        }
        if self.release == Release::AtOnce {
            self.cover(coverage);
        }
        if complete {
            let inputs: Vec<(usize, u64)> = self
                .held
                .keys()
                .map(|&(input, index)| (input, index + 1))
                .collect();
            for (input, end) in inputs {
                self.release(input, end)?;
            }
        }
        self.write()
    }

    /// After [`Journal::end`] of a run that stopped: write the entries still held and `unsent`
    /// (entries of records read but never settled, keyed like them, in key order) past the
    /// checkpointed length, in input order, as they come. The checkpoint does not cover them: a
    /// resume cuts them off.
    pub(crate) fn tail(
        &mut self,
        unsent: impl Iterator<Item = std::io::Result<((usize, u64), Kind, Vec<u8>)>>,
    ) -> Result<(), CheckpointError> {
        let mut held = std::mem::take(&mut self.held).into_iter().peekable();
        for next in unsent {
            let (key, kind, entry) = next.map_err(self.file_error())?;
            while let Some((_, earlier)) = held.next_if(|(k, _)| *k < key) {
                self.tail_entry(earlier.kind, earlier.entry.as_deref())?;
            }
            if let Some((_, own)) = held.next_if(|(k, _)| *k == key) {
                // Settled after all: its own entry stands.
                self.tail_entry(own.kind, own.entry.as_deref())?;
                continue;
            }
            self.tail_entry(kind, Some(&entry))?;
        }
        for (_, rest) in held {
            self.tail_entry(rest.kind, rest.entry.as_deref())?;
        }
        Ok(())
    }

    fn tail_entry(&mut self, kind: Kind, entry: Option<&[u8]>) -> Result<(), CheckpointError> {
        if self.broken {
            return Ok(());
        }
        if let Some(entry) = entry {
            self.write_entry(entry)?;
        }
        tally(&mut self.tail, kind);
        Ok(())
    }

    /// Append `bytes` after everything else (a receipt's trailer), uncounted.
    pub(crate) fn append(&mut self, bytes: &[u8]) -> Result<(), CheckpointError> {
        self.write_bytes(bytes)
    }

    /// Flush and fsync the file, then mark the checkpoint finished and write it: the job is done.
    /// Its recorded length stays where [`Journal::end`] left it, so a crash before this is resumed
    /// by cutting what followed (a receipt's trailer) and writing it again.
    pub(crate) fn mark_finished(&mut self) -> Result<(), CheckpointError> {
        self.guarded(|j| {
            j.sync_file()?;
            let Some(path) = &j.path else {
                return Ok(());
            };
            // Finished in memory only once it is on disk.
            let mut finished = j.checkpoint.clone();
            for progress in &mut finished.inputs {
                progress.finished = true;
            }
            finished.finished = true;
            finished.write_atomic(path)?;
            j.checkpoint = finished;
            Ok(())
        })
    }

    /// Flush and fsync the file (a run that ends unfinished).
    pub(crate) fn sync(&mut self) -> Result<(), CheckpointError> {
        self.guarded(|j| j.sync_file().map(drop))
    }

    fn release(&mut self, input: usize, watermark: u64) -> Result<(), CheckpointError> {
        if self.released.len() <= input {
            self.released.resize(input + 1, 0);
        }
        let from = self.released[input];
        if watermark <= from {
            return Ok(());
        }
        let below: Vec<(usize, u64)> = self
            .held
            .range((input, from)..(input, watermark))
            .map(|(k, _)| *k)
            .collect();
        for key in below {
            let Some(held) = self.held.remove(&key) else {
                continue;
            };
            self.count(held.kind, held.entry.as_deref())?;
        }
        self.released[input] = watermark;
        if let Some(progress) = self.checkpoint.inputs.get_mut(input) {
            progress.watermark = progress.watermark.max(watermark);
        }
        Ok(())
    }

    /// Write a released record's entry (if any), then count it; after a write error, neither.
    fn count(&mut self, kind: Kind, entry: Option<&[u8]>) -> Result<(), CheckpointError> {
        if self.broken {
            return Ok(());
        }
        if let Some(entry) = entry {
            self.write_entry(entry)?;
        }
        tally(&mut self.checkpoint.counters, kind);
        tally(&mut self.this_run, kind);
        Ok(())
    }

    /// Write one entry (its caller checked that the journal still writes) and count it written.
    fn write_entry(&mut self, entry: &[u8]) -> Result<(), CheckpointError> {
        self.write_bytes(entry)?;
        self.entries += 1;
        Ok(())
    }

    fn write_bytes(&mut self, bytes: &[u8]) -> Result<(), CheckpointError> {
        self.guarded(|j| j.append_bytes(bytes))
    }

    fn file_error(&self) -> impl Fn(std::io::Error) -> CheckpointError + use<> {
        let (what, path) = (self.what, self.file_path.display().to_string());
        move |error| CheckpointError::Write {
            what,
            path: path.clone(),
            error,
        }
    }

    fn append_bytes(&mut self, bytes: &[u8]) -> Result<(), CheckpointError> {
        let io = self.file_error();
        if self.file.is_none() {
            let file = open_for_append(&self.file_path).map_err(&io)?;
            self.file = Some(BufWriter::new(file));
        }
        if let Some(writer) = &mut self.file {
            writer.write_all(bytes).map_err(&io)?;
            if self.release == Release::AtOnce {
                // One entry per settled record: a full disk shows at the record it failed on,
                // which is then neither counted nor covered.
                writer.flush().map_err(&io)?;
            }
        }
        Ok(())
    }

    /// Flush the file (if it was opened) and, when it is durable, fsync it; returns its length
    /// then (durable only).
    fn sync_file(&mut self) -> Result<Option<u64>, CheckpointError> {
        let io = self.file_error();
        let Some(writer) = &mut self.file else {
            return Ok(None);
        };
        writer.flush().map_err(&io)?;
        if !self.durable {
            return Ok(None);
        }
        super::checkpoint::settle_file(writer.get_mut())
            .map(Some)
            .map_err(&io)
    }

    /// Flush and fsync the file, then write the checkpoint that covers it.
    fn write(&mut self) -> Result<(), CheckpointError> {
        self.guarded(Journal::write_files)
    }

    fn write_files(&mut self) -> Result<(), CheckpointError> {
        if let Some(len) = self.sync_file()? {
            self.checkpoint.file.len = len;
        }
        self.last_write = Some(Instant::now());
        match &self.path {
            Some(path) => self.checkpoint.write_atomic(path),
            None => Ok(()),
        }
    }
}

/// Count one record of `kind` in `counters`.
fn tally(counters: &mut Counters, kind: Kind) {
    counters.read += 1;
    match kind {
        Kind::Accepted => counters.accepted += 1,
        Kind::Skipped => counters.skipped += 1,
        Kind::Invalid => counters.invalid += 1,
        Kind::Rejected => counters.rejected += 1,
        Kind::Failed => counters.failed += 1,
    }
}

/// Set `progress` to `c`, the sender's view of what is settled below `c.next`, keeping what an
/// earlier run settled from `c.next` on; ranges are merged, and a range that starts at the
/// watermark moves it.
fn cover_input(progress: &mut InputProgress, c: &Coverage) {
    let mut ranges: Vec<[u64; 2]> = c.settled_above.clone();
    for r in &progress.settled {
        let start = r[0].max(c.next);
        if start < r[1] {
            ranges.push([start, r[1]]);
        }
    }
    if progress.watermark > c.next {
        // Cannot happen (this run only reads what earlier runs did not settle); kept exact anyway.
        ranges.push([c.next, progress.watermark]);
    }
    ranges.sort_unstable();
    let mut watermark = c.watermark;
    let mut merged: Vec<[u64; 2]> = Vec::with_capacity(ranges.len());
    for r in ranges {
        if r[0] <= watermark {
            watermark = watermark.max(r[1]);
        } else if let Some(last) = merged.last_mut().filter(|last| r[0] <= last[1]) {
            last[1] = last[1].max(r[1]);
        } else {
            merged.push(r);
        }
    }
    progress.watermark = watermark;
    progress.settled = merged;
}

/// Open the file for appending. What is in it already is kept: lines of earlier runs (a fresh
/// `send` appends, as without a checkpoint) or, on resume, the entries the checkpoint covers (the
/// tail past them was cut off by [`super::checkpoint::cut_back`]).
fn open_for_append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::RunSettings;
    use crate::source::fingerprint::Fingerprint;

    fn journal(dir: &Path, inputs: usize) -> (Journal, PathBuf) {
        let fingerprints = (0..inputs)
            .map(|i| {
                let p = dir.join(format!("in{i}.ndjson"));
                std::fs::write(&p, "{}\n").unwrap();
                Fingerprint::of(&p).unwrap()
            })
            .collect();
        let cp = Checkpoint::fresh(RunSettings::default(), fingerprints, &dir.join("dl.ndjson"));
        let path = dir.join("cp.json");
        (
            Journal::new(cp, Some(path.clone()), Duration::ZERO, Release::AtWatermark),
            path,
        )
    }

    fn line(i: u64) -> Option<Vec<u8>> {
        Some(format!("{{\"i\":{i}}}\n").into_bytes())
    }

    #[test]
    fn dead_letters_wait_for_the_watermark_and_come_out_in_input_order() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, path) = journal(dir.path(), 1);
        j.settled(0, 3, Kind::Rejected, line(3)).unwrap();
        j.settled(0, 1, Kind::Invalid, line(1)).unwrap();
        j.settled(0, 2, Kind::Accepted, None).unwrap();
        j.advance(&[(0, 0)]).unwrap();
        assert!(
            !dir.path().join("dl.ndjson").exists(),
            "nothing below the watermark yet"
        );
        j.settled(0, 0, Kind::Skipped, None).unwrap();
        j.advance(&[(0, 2)]).unwrap();
        let cp = Checkpoint::load(&path).unwrap();
        assert_eq!(cp.inputs[0].watermark, 2);
        assert_eq!(cp.counters.read, 2);
        assert_eq!(cp.counters.invalid, 1);
        assert_eq!(cp.file.len, 8);
        assert_eq!(j.held(), 2);
        j.advance(&[(0, 4)]).unwrap();
        let dl = std::fs::read_to_string(dir.path().join("dl.ndjson")).unwrap();
        assert_eq!(dl, "{\"i\":1}\n{\"i\":3}\n");
        let totals = j.finish(true, &[]).unwrap();
        assert!(totals.adds_up());
        assert_eq!((totals.read, totals.accepted, totals.rejected), (4, 1, 1));
        assert!(Checkpoint::load(&path).unwrap().finished);
    }

    #[test]
    fn a_resumed_journal_cuts_nothing_twice_and_ignores_settled_records() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, path) = journal(dir.path(), 2);
        j.settled(1, 0, Kind::Invalid, line(10)).unwrap();
        j.advance(&[(1, 1)]).unwrap();
        j.settled(1, 1, Kind::Invalid, line(11)).unwrap();
        j.advance(&[(1, 2)]).unwrap();
        // A crash after line 11 was written but before its checkpoint: simulate a stale checkpoint.
        let mut stale = j.checkpoint().clone();
        stale.inputs[1].watermark = 1;
        stale.file.len = 9;
        stale.counters = Counters {
            read: 1,
            invalid: 1,
            ..Counters::default()
        };
        stale.write_atomic(&path).unwrap();
        drop(j);

        let back = crate::ledger::checkpoint::open(
            &path,
            true,
            &[dir.path().join("in0.ndjson"), dir.path().join("in1.ndjson")],
            RunSettings::default(),
            &dir.path().join("dl.ndjson"),
            "dead-letter file",
        )
        .unwrap();
        let mut j = Journal::new(
            back,
            Some(path.clone()),
            Duration::from_secs(3600),
            Release::AtWatermark,
        );
        j.settled(1, 0, Kind::Invalid, line(10)).unwrap(); // below the watermark: ignored
        j.settled(1, 1, Kind::Invalid, line(11)).unwrap();
        j.settled(0, 0, Kind::Accepted, None).unwrap();
        j.advance(&[(0, 1), (1, 2)]).unwrap();
        let totals = j.finish(true, &[]).unwrap();
        assert_eq!((totals.read, totals.invalid, totals.accepted), (3, 2, 1));
        assert_eq!(j.this_run().read, 2);
        let dl = std::fs::read_to_string(dir.path().join("dl.ndjson")).unwrap();
        assert_eq!(dl, "{\"i\":10}\n{\"i\":11}\n");
    }

    #[test]
    fn a_stopped_run_keeps_only_what_the_watermark_covers() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, path) = journal(dir.path(), 1);
        j.settled(0, 1, Kind::Rejected, line(1)).unwrap();
        let totals = j.finish(false, &[]).unwrap();
        assert_eq!(totals.read, 0);
        let cp = Checkpoint::load(&path).unwrap();
        assert!(!cp.finished);
        assert_eq!(cp.inputs[0].watermark, 0);
        assert!(!dir.path().join("dl.ndjson").exists());
    }

    fn at_once(dir: &Path) -> (Journal, PathBuf) {
        let (j, path) = journal(dir, 1);
        let cp = j.checkpoint().clone();
        (
            Journal::new(cp, Some(path.clone()), Duration::ZERO, Release::AtOnce),
            path,
        )
    }

    fn coverage(watermark: u64, settled_above: Vec<[u64; 2]>, next: u64) -> Vec<Coverage> {
        vec![Coverage {
            input: 0,
            watermark,
            settled_above,
            next,
        }]
    }

    #[test]
    fn at_once_a_stuck_record_pins_neither_the_lines_nor_what_the_checkpoint_covers() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, path) = at_once(dir.path());
        // Record 0 is stuck in retries; 1..=5 settle (3 is rejected).
        for i in 1..=5 {
            let (kind, dl) = if i == 3 {
                (Kind::Rejected, line(3))
            } else {
                (Kind::Accepted, None)
            };
            j.settled(0, i, kind, dl).unwrap();
        }
        j.cover_if_due(|| coverage(0, vec![[1, 6]], 6)).unwrap();
        let cp = Checkpoint::load(&path).unwrap();
        assert_eq!(cp.inputs[0].watermark, 0);
        assert_eq!(cp.inputs[0].settled, vec![[1, 6]]);
        assert_eq!((cp.counters.read, cp.counters.rejected), (5, 1));
        assert_eq!(cp.file.len, 8, "the rejected line is on disk already");
        assert!(cp.is_settled(0, 3) && !cp.is_settled(0, 0) && !cp.is_settled(0, 6));
        // A resume skips the ranges and keeps them for records it has not read yet.
        let back = crate::ledger::checkpoint::open(
            &path,
            true,
            &[dir.path().join("in0.ndjson")],
            RunSettings::default(),
            &dir.path().join("dl.ndjson"),
            "dead-letter file",
        )
        .unwrap();
        let mut j = Journal::new(back, Some(path.clone()), Duration::ZERO, Release::AtOnce);
        j.settled(0, 3, Kind::Rejected, line(3)).unwrap(); // an earlier run's: ignored
        j.settled(0, 0, Kind::Failed, line(0)).unwrap();
        // This run read only record 0 so far: the earlier range stays and joins the watermark.
        j.cover_if_due(|| coverage(1, vec![], 1)).unwrap();
        let cp = Checkpoint::load(&path).unwrap();
        assert_eq!((cp.inputs[0].watermark, cp.inputs[0].settled.len()), (6, 0));
        assert_eq!((cp.counters.read, cp.counters.failed), (6, 1));
        let dl = std::fs::read_to_string(dir.path().join("dl.ndjson")).unwrap();
        assert_eq!(dl, "{\"i\":3}\n{\"i\":0}\n");
        assert!(j.finish(true, &coverage(6, vec![], 6)).unwrap().adds_up());
    }

    #[test]
    fn earlier_ranges_beyond_what_this_run_read_are_kept_and_merged() {
        let dir = tempfile::tempdir().unwrap();
        let (j, _) = journal(dir.path(), 1);
        let mut progress = InputProgress {
            watermark: 2,
            settled: vec![[4, 6], [9, 12]],
            ..j.checkpoint().inputs[0].clone()
        };
        // This run settled 2 and 3, read 6 and 7 (open), 8 settled; read up to 9.
        let c = Coverage {
            input: 0,
            watermark: 6,
            settled_above: vec![[8, 9]],
            next: 9,
        };
        cover_input(&mut progress, &c);
        assert_eq!(progress.watermark, 6);
        assert_eq!(progress.settled, vec![[8, 12]]);
    }

    #[test]
    fn after_a_failed_write_the_last_checkpoint_stays() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, path) = at_once(dir.path());
        j.settled(0, 0, Kind::Accepted, None).unwrap();
        j.cover_if_due(|| coverage(1, vec![], 1)).unwrap();
        // The dead-letter path becomes a directory: its next line cannot be written.
        std::fs::create_dir(dir.path().join("dl.ndjson")).unwrap();
        let err = j.settled(0, 1, Kind::Invalid, line(1)).unwrap_err();
        let shown = err.to_string();
        assert!(shown.contains("dl.ndjson"), "{shown}");
        assert_eq!(shown.matches("os error").count(), 1, "{shown}");
        assert!(std::error::Error::source(&err).is_none());
        j.settled(0, 2, Kind::Accepted, None).unwrap();
        j.cover_if_due(|| coverage(3, vec![], 3)).unwrap();
        j.finish(true, &coverage(3, vec![], 3)).unwrap();
        let cp = Checkpoint::load(&path).unwrap();
        assert_eq!((cp.inputs[0].watermark, cp.counters.read), (1, 1));
        assert!(!cp.finished);
    }

    #[test]
    fn without_a_checkpoint_entries_still_come_out_in_input_order_and_a_stop_leaves_a_tail() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("receipt.csv");
        // No checkpoint file, no fingerprinted inputs (standard input may be among them).
        let cp = Checkpoint::fresh(RunSettings::default(), Vec::new(), &file);
        let mut j = Journal::new(cp, None, Duration::from_secs(3600), Release::AtWatermark);
        j.create(b"header\n").unwrap();
        j.settled(1, 0, Kind::Accepted, line(10)).unwrap();
        j.settled(0, 2, Kind::Accepted, line(2)).unwrap();
        j.settled(0, 0, Kind::Rejected, line(0)).unwrap();
        j.advance(&[(0, 1), (1, 1)]).unwrap();
        // Released rows reach the file at once, in input order; 2 waits for 1.
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(text, "header\n{\"i\":0}\n{\"i\":10}\n");
        // The run stops with 1 never settled: 2 (held) and the unsent 1 and 3 go into the tail,
        // merged in order.
        j.end(false, &[]).unwrap();
        let unsent = |i: u64| ((0, i), Kind::Failed, line(100 + i).unwrap());
        j.tail([unsent(1), unsent(3)].into_iter().map(Ok)).unwrap();
        j.append(b"trailer\n").unwrap();
        j.mark_finished().unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(
            text,
            "header\n{\"i\":0}\n{\"i\":10}\n{\"i\":101}\n{\"i\":2}\n{\"i\":103}\ntrailer\n"
        );
        let totals = j.totals();
        assert!(totals.adds_up());
        assert_eq!((totals.read, totals.accepted, totals.failed), (5, 2, 2));
        assert_eq!(j.entries(), 5);
        assert!(!dir.path().join("cp.json").exists());
    }

    #[test]
    fn a_record_both_held_and_unsent_has_its_settled_entry_once() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("receipt.csv");
        let cp = Checkpoint::fresh(RunSettings::default(), Vec::new(), &file);
        let mut j = Journal::new(cp, None, Duration::from_secs(3600), Release::AtWatermark);
        j.settled(0, 1, Kind::Accepted, line(1)).unwrap();
        j.end(false, &[]).unwrap();
        let unsent = |i: u64| Ok(((0, i), Kind::Failed, line(100 + i).unwrap()));
        j.tail([unsent(0), unsent(1), unsent(2)].into_iter())
            .unwrap();
        j.sync().unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(text, "{\"i\":100}\n{\"i\":1}\n{\"i\":102}\n");
        let totals = j.totals();
        assert_eq!((totals.read, totals.accepted, totals.failed), (3, 1, 2));
    }

    #[test]
    fn a_receipt_is_never_created_over_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("receipt.csv");
        std::fs::write(&file, "someone else's\n").unwrap();
        let cp = Checkpoint::fresh(RunSettings::default(), Vec::new(), &file);
        let mut j = Journal::new(cp, None, Duration::ZERO, Release::AtWatermark);
        let err = j.create(b"header\n").unwrap_err();
        assert!(err.to_string().contains("receipt.csv"), "{err}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "someone else's\n");
    }
}
