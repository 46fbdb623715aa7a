//! The journal between the sender and the disk: it holds each settled record's outcome (and its
//! dead-letter line) until the input's watermark passes it, then counts it and writes the line, in
//! input order; and it writes the checkpoint, atomically, only after the dead-letter file is fsynced.
//!
//! Why hold lines back: with several requests in flight, record 105 can be rejected while record 99
//! is still on its way. Writing 105's line at once would leave it in the file after a crash while
//! the checkpoint's watermark is still 99, and the resumed run would dead-letter 105 a second time.
//! Held back, the dead-letter file only ever holds lines of records below the watermark (plus, after
//! a crash, a tail past the checkpointed length, which resume cuts off). Memory is bounded by the
//! records in flight.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{Checkpoint, CheckpointError, Counters};

/// What became of a record, as the checkpoint counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Accepted,
    Skipped,
    Invalid,
    Rejected,
    /// Retries exhausted; dead-lettered like a rejection.
    Failed,
}

#[derive(Debug)]
struct Held {
    kind: Kind,
    dead_letter: Option<Vec<u8>>,
}

/// See the module documentation. One per run; all calls from one thread.
#[derive(Debug)]
pub struct Journal {
    checkpoint: Checkpoint,
    /// Where the checkpoint is written; `None` runs the journal without one (ordered dead letters only).
    path: Option<PathBuf>,
    dead_letter_path: PathBuf,
    dead_letter: Option<BufWriter<File>>,
    held: BTreeMap<(usize, u64), Held>,
    /// Counts of this run only (records this run settled).
    this_run: Counters,
    every: Duration,
    last_write: Option<Instant>,
}

impl Journal {
    /// A journal continuing `checkpoint` (fresh or resumed, from [`super::open`]), writing it to
    /// `path` at most once per `every` (and always at [`Journal::finish`]). The dead-letter file is
    /// opened for appending at the first line.
    pub fn new(checkpoint: Checkpoint, path: Option<PathBuf>, every: Duration) -> Journal {
        let dead_letter_path = PathBuf::from(&checkpoint.dead_letter.path);
        Journal {
            checkpoint,
            path,
            dead_letter_path,
            dead_letter: None,
            held: BTreeMap::new(),
            this_run: Counters::default(),
            every,
            last_write: None,
        }
    }

    /// The checkpoint as it stands (watermarks and counts of everything released so far).
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// Counts over all runs of the records settled below the watermarks.
    pub fn totals(&self) -> Counters {
        self.checkpoint.counters
    }

    /// Counts of the records this run settled below the watermarks.
    pub fn this_run(&self) -> Counters {
        self.this_run
    }

    /// Records settled but still waiting for the watermark.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// A record is settled; `dead_letter` is its complete dead-letter line (with the newline) when
    /// it goes to the dead-letter file. Nothing is written until the watermark passes it.
    pub fn settled(&mut self, input: usize, index: u64, kind: Kind, dead_letter: Option<Vec<u8>>) {
        if self.checkpoint.is_settled(input, index) {
            return; // settled by an earlier run: counted already
        }
        self.held.insert((input, index), Held { kind, dead_letter });
    }

    /// Watermarks moved: release every held record below them (count it, write its dead-letter
    /// line in input order), then write the checkpoint if the last one is older than `every`.
    pub fn advance(&mut self, watermarks: &[(usize, u64)]) -> Result<(), CheckpointError> {
        for &(input, watermark) in watermarks {
            self.release(input, watermark)?;
        }
        let due = self.last_write.is_none_or(|t| t.elapsed() >= self.every);
        if due {
            self.write()?;
        }
        Ok(())
    }

    /// The run ended. `complete`: every input was read to the end and every record settled (then
    /// all held records are released and the checkpoint says `finished`). Otherwise (stopped, halted)
    /// only what the watermarks cover is kept. Writes the checkpoint either way.
    pub fn finish(&mut self, complete: bool) -> Result<Counters, CheckpointError> {
        if complete {
            let inputs: Vec<(usize, u64)> = self
                .held
                .keys()
                .map(|&(input, index)| (input, index + 1))
                .collect();
            for (input, end) in inputs {
                self.release(input, end)?;
            }
            for progress in &mut self.checkpoint.inputs {
                progress.finished = true;
            }
            self.checkpoint.finished = true;
        }
        self.write()?;
        Ok(self.checkpoint.counters)
    }

    fn release(&mut self, input: usize, watermark: u64) -> Result<(), CheckpointError> {
        let Some(progress) = self.checkpoint.inputs.get(input) else {
            return Ok(());
        };
        if watermark <= progress.watermark {
            return Ok(());
        }
        let below: Vec<(usize, u64)> = self
            .held
            .range((input, progress.watermark)..(input, watermark))
            .map(|(k, _)| *k)
            .collect();
        for key in below {
            let Some(held) = self.held.remove(&key) else {
                continue;
            };
            if let Some(line) = held.dead_letter {
                self.write_dead_letter(&line)?;
            }
            for c in [&mut self.checkpoint.counters, &mut self.this_run] {
                c.read += 1;
                match held.kind {
                    Kind::Accepted => c.accepted += 1,
                    Kind::Skipped => c.skipped += 1,
                    Kind::Invalid => c.invalid += 1,
                    Kind::Rejected => c.rejected += 1,
                    Kind::Failed => c.failed += 1,
                }
            }
        }
        if let Some(progress) = self.checkpoint.inputs.get_mut(input) {
            progress.watermark = watermark;
        }
        Ok(())
    }

    fn write_dead_letter(&mut self, line: &[u8]) -> Result<(), CheckpointError> {
        let path = &self.dead_letter_path;
        let io = |source: std::io::Error| CheckpointError::Io {
            path: path.display().to_string(),
            source,
        };
        if self.dead_letter.is_none() {
            let file = open_dead_letter(path).map_err(io)?;
            self.dead_letter = Some(BufWriter::new(file));
        }
        if let Some(writer) = &mut self.dead_letter {
            writer.write_all(line).map_err(io)?;
        }
        Ok(())
    }

    /// Flush and fsync the dead-letter file, then write the checkpoint that covers it.
    fn write(&mut self) -> Result<(), CheckpointError> {
        if let Some(writer) = &mut self.dead_letter {
            let io = |source: std::io::Error| CheckpointError::Io {
                path: self.dead_letter_path.display().to_string(),
                source,
            };
            writer.flush().map_err(io)?;
            self.checkpoint.dead_letter.len =
                super::settle_dead_letter(writer.get_mut()).map_err(io)?;
        }
        self.last_write = Some(Instant::now());
        match &self.path {
            Some(path) => self.checkpoint.write_atomic(path),
            None => Ok(()),
        }
    }
}

/// Open the dead-letter file for appending. What is in it already is kept: lines of earlier runs
/// (a fresh run appends, as without a checkpoint) or, on resume, the lines the checkpoint covers
/// (the tail past them was cut off by [`super::open`]).
fn open_dead_letter(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::{Fingerprint, RunSettings};

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
        (Journal::new(cp, Some(path.clone()), Duration::ZERO), path)
    }

    fn line(i: u64) -> Option<Vec<u8>> {
        Some(format!("{{\"i\":{i}}}\n").into_bytes())
    }

    #[test]
    fn dead_letters_wait_for_the_watermark_and_come_out_in_input_order() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, path) = journal(dir.path(), 1);
        j.settled(0, 3, Kind::Rejected, line(3));
        j.settled(0, 1, Kind::Invalid, line(1));
        j.settled(0, 2, Kind::Accepted, None);
        j.advance(&[(0, 0)]).unwrap();
        assert!(
            !dir.path().join("dl.ndjson").exists(),
            "nothing below the watermark yet"
        );
        j.settled(0, 0, Kind::Skipped, None);
        j.advance(&[(0, 2)]).unwrap();
        let cp = Checkpoint::load(&path).unwrap();
        assert_eq!(cp.inputs[0].watermark, 2);
        assert_eq!(cp.counters.read, 2);
        assert_eq!(cp.counters.invalid, 1);
        assert_eq!(cp.dead_letter.len, 8);
        assert_eq!(j.held(), 2);
        j.advance(&[(0, 4)]).unwrap();
        let dl = std::fs::read_to_string(dir.path().join("dl.ndjson")).unwrap();
        assert_eq!(dl, "{\"i\":1}\n{\"i\":3}\n");
        let totals = j.finish(true).unwrap();
        assert!(totals.adds_up());
        assert_eq!((totals.read, totals.accepted, totals.rejected), (4, 1, 1));
        assert!(Checkpoint::load(&path).unwrap().finished);
    }

    #[test]
    fn a_resumed_journal_cuts_nothing_twice_and_ignores_settled_records() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, path) = journal(dir.path(), 2);
        j.settled(1, 0, Kind::Invalid, line(10));
        j.advance(&[(1, 1)]).unwrap();
        j.settled(1, 1, Kind::Invalid, line(11));
        j.advance(&[(1, 2)]).unwrap();
        // A crash after line 11 was written but before its checkpoint: simulate a stale checkpoint.
        let mut stale = j.checkpoint().clone();
        stale.inputs[1].watermark = 1;
        stale.dead_letter.len = 9;
        stale.counters = Counters {
            read: 1,
            invalid: 1,
            ..Counters::default()
        };
        stale.write_atomic(&path).unwrap();
        drop(j);

        let back = crate::checkpoint::open(
            &path,
            true,
            &[dir.path().join("in0.ndjson"), dir.path().join("in1.ndjson")],
            RunSettings::default(),
            &dir.path().join("dl.ndjson"),
        )
        .unwrap();
        let mut j = Journal::new(back, Some(path.clone()), Duration::from_secs(3600));
        j.settled(1, 0, Kind::Invalid, line(10)); // below the watermark: ignored
        j.settled(1, 1, Kind::Invalid, line(11));
        j.settled(0, 0, Kind::Accepted, None);
        j.advance(&[(0, 1), (1, 2)]).unwrap();
        let totals = j.finish(true).unwrap();
        assert_eq!((totals.read, totals.invalid, totals.accepted), (3, 2, 1));
        assert_eq!(j.this_run().read, 2);
        let dl = std::fs::read_to_string(dir.path().join("dl.ndjson")).unwrap();
        assert_eq!(dl, "{\"i\":10}\n{\"i\":11}\n");
    }

    #[test]
    fn a_stopped_run_keeps_only_what_the_watermark_covers() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, path) = journal(dir.path(), 1);
        j.settled(0, 1, Kind::Rejected, line(1));
        let totals = j.finish(false).unwrap();
        assert_eq!(totals.read, 0);
        let cp = Checkpoint::load(&path).unwrap();
        assert!(!cp.finished);
        assert_eq!(cp.inputs[0].watermark, 0);
        assert!(!dir.path().join("dl.ndjson").exists());
    }
}
