//! The resume checkpoint: which inputs under which settings, how far each is settled, the counts so
//! far and the length of the ledger's file (dead letters or receipt) that goes with them — loaded,
//! checked, and written atomically.
//!
//! Contract with the sender: a checkpoint is written only after everything it covers is settled
//! (accepted, dead-lettered or skipped) and the ledger's file has been flushed and fsynced up to
//! [`FileMark::len`]. Records of input `i` with index below `inputs[i].watermark` are never sent
//! again; `counters` count exactly those records. On resume the file is cut back to that length, so
//! records past the watermark can be written again without duplicates.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::settings::RunSettings;
use crate::source::fingerprint::{Fingerprint, FingerprintError, fingerprints};

/// What the `format` field of every checkpoint file says.
pub(crate) const FORMAT: &str = "cio-replay checkpoint";
/// The checkpoint layout version this build writes. Version 2 added the settled ranges above the
/// watermark ([`InputProgress::settled`]); version 1 files (without them) are read as they are.
pub(crate) const VERSION: u32 = 2;

/// The oldest layout version this build reads.
const OLDEST_READABLE: u32 = 1;

/// Why a checkpoint cannot be started, resumed or written. Every message names the file at fault
/// and what to do.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// An input cannot be fingerprinted (standard input, an unreadable file).
    #[error(transparent)]
    Input(#[from] FingerprintError),
    #[error(
        "--resume needs a checkpoint, but {path} does not exist: run without --resume to start"
    )]
    Missing { path: String },
    #[error(
        "checkpoint {path} is from an unfinished run: pass --resume to continue it, or delete the file to start over"
    )]
    Exists { path: String },
    #[error("checkpoint {path} cannot be read: {message}")]
    Corrupt { path: String, message: String },
    #[error(
        "checkpoint {path} is not a regular file (a device, a pipe or a folder): name a file for --checkpoint"
    )]
    NotAFile { path: String },
    #[error(
        "checkpoint {path} was made with different settings ({}): resume with the original settings, or delete the checkpoint to start over",
        .changes.join("; ")
    )]
    SettingsChanged { path: String, changes: Vec<String> },
    #[error(
        "checkpoint {path} covers other inputs (it has {}; this run has {}): resume with the same files in the same order",
        .recorded.join(", "), .given.join(", ")
    )]
    InputsChanged {
        path: String,
        recorded: Vec<String>,
        given: Vec<String>,
    },
    #[error(
        "input {file} changed since checkpoint {path} was written ({}): resuming would skip the wrong records; restore the file, or delete the checkpoint to start over",
        .changes.join("; ")
    )]
    InputChanged {
        path: String,
        file: String,
        changes: Vec<String>,
    },
    #[error(
        "{what} {file} is {found} bytes, shorter than the {expected} bytes checkpoint {path} recorded: it was changed or moved; put it back, or delete the checkpoint to start over"
    )]
    FileShrunk {
        path: String,
        /// "dead-letter file" or "receipt".
        what: &'static str,
        file: String,
        expected: u64,
        found: u64,
    },
    /// A file of the run (the checkpoint, or the dead-letter file it covers) could not be read or
    /// written. The OS error is part of the message, not a source, so it is shown once.
    #[error("{path}: {error}")]
    Io { path: String, error: std::io::Error },
    /// The ledger's file (`what`: "dead-letter file", "receipt") could not be written.
    #[error("writing {what} {path}: {error}")]
    Write {
        what: &'static str,
        path: String,
        error: std::io::Error,
    },
}

/// How far one input is settled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputProgress {
    pub fingerprint: Fingerprint,
    /// Every record with an index below this is settled and counted in [`Checkpoint::counters`].
    pub watermark: u64,
    /// The whole input was read and every record in it settled.
    pub finished: bool,
    /// Records above the watermark that are settled too (and counted): sorted, disjoint,
    /// non-adjacent half-open ranges `[start, end)`, all above the watermark. A record waiting for
    /// retries holds the watermark back, but not what settled after it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub settled: Vec<[u64; 2]>,
}

impl InputProgress {
    /// Whether record `index` is settled (finished input, below the watermark, or in a range).
    pub(crate) fn covers(&self, index: u64) -> bool {
        if self.finished || index < self.watermark {
            return true;
        }
        let after = self.settled.partition_point(|r| r[0] <= index);
        after > 0 && index < self.settled[after - 1][1]
    }
}

/// The counts over every settled record below the watermarks (summed over all runs so far).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub read: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub skipped: u64,
    pub invalid: u64,
    /// Retries exhausted (dead-lettered).
    pub failed: u64,
}

impl Counters {
    /// Whether every record read is accounted for.
    #[cfg(test)]
    pub(crate) fn adds_up(&self) -> bool {
        self.accepted + self.rejected + self.skipped + self.invalid + self.failed == self.read
    }
}

/// The ledger's file (dead letters or receipt) and its length when the checkpoint was written:
/// everything up to here belongs to records below the watermarks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMark {
    pub path: String,
    pub len: u64,
}

/// One checkpoint file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub format: String,
    pub version: u32,
    /// The cio-replay version that wrote it (informational).
    pub tool_version: String,
    /// When it was written (UTC, RFC 3339; informational).
    pub written_at: String,
    pub settings: RunSettings,
    pub inputs: Vec<InputProgress>,
    pub counters: Counters,
    /// The ledger's file (kept under the name `dead_letter` that every checkpoint has had).
    #[serde(rename = "dead_letter")]
    pub file: FileMark,
    /// The run that wrote it got to the end of every input.
    pub finished: bool,
}

impl Checkpoint {
    /// A checkpoint for a fresh run: nothing settled yet.
    pub fn fresh(settings: RunSettings, inputs: Vec<Fingerprint>, file: &Path) -> Checkpoint {
        Checkpoint {
            format: FORMAT.into(),
            version: VERSION,
            tool_version: env!("CARGO_PKG_VERSION").into(),
            written_at: now(),
            settings,
            inputs: inputs
                .into_iter()
                .map(|fingerprint| InputProgress {
                    fingerprint,
                    watermark: 0,
                    finished: false,
                    settled: Vec::new(),
                })
                .collect(),
            counters: Counters::default(),
            // Lines already in a dead-letter file (an earlier, unrelated run appended them) are
            // kept; a resume cuts back to no less than this.
            file: FileMark {
                path: file.display().to_string(),
                len: std::fs::metadata(file).map_or(0, |m| m.len()),
            },
            finished: false,
        }
    }

    /// Read and parse a checkpoint file.
    pub(crate) fn load(path: &Path) -> Result<Checkpoint, CheckpointError> {
        refuse_non_file(path)?;
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                CheckpointError::Missing {
                    path: shown.clone(),
                }
            } else {
                CheckpointError::Io {
                    path: shown.clone(),
                    error: source,
                }
            }
        })?;
        let corrupt = |message: String| CheckpointError::Corrupt {
            path: shown.clone(),
            message,
        };
        let checkpoint: Checkpoint = serde_json::from_str(&text).map_err(|e| {
            corrupt(format!(
                "{e} (is it a cio-replay checkpoint? a crash cannot cause this, the file is only replaced whole)"
            ))
        })?;
        if checkpoint.format != FORMAT {
            return Err(corrupt(format!(
                "format is {:?}, not {FORMAT:?}",
                checkpoint.format
            )));
        }
        if !(OLDEST_READABLE..=VERSION).contains(&checkpoint.version) {
            return Err(corrupt(format!(
                "layout version {} (written by cio-replay {}), this cio-replay reads version {VERSION}",
                checkpoint.version, checkpoint.tool_version
            )));
        }
        Ok(checkpoint)
    }

    /// Refuse to resume unless the settings, the list of inputs and every input's fingerprint
    /// are what this checkpoint recorded. `path` is the checkpoint file, for the messages.
    pub(crate) fn check_resumable(
        &self,
        path: &Path,
        settings: &RunSettings,
        inputs: &[Fingerprint],
    ) -> Result<(), CheckpointError> {
        let shown = path.display().to_string();
        let changes = self.settings.differences(settings);
        if !changes.is_empty() {
            return Err(CheckpointError::SettingsChanged {
                path: shown,
                changes,
            });
        }
        let recorded: Vec<String> = self
            .inputs
            .iter()
            .map(|i| i.fingerprint.path.clone())
            .collect();
        let given: Vec<String> = inputs.iter().map(|f| f.path.clone()).collect();
        if recorded != given {
            return Err(CheckpointError::InputsChanged {
                path: shown,
                recorded,
                given,
            });
        }
        for (progress, now) in self.inputs.iter().zip(inputs) {
            let changes = progress.fingerprint.differences(now);
            if !changes.is_empty() {
                return Err(CheckpointError::InputChanged {
                    path: shown,
                    file: now.path.clone(),
                    changes,
                });
            }
        }
        Ok(())
    }

    /// The watermark of input `input` (0 for an input this checkpoint does not know).
    #[cfg(test)]
    pub(crate) fn watermark(&self, input: usize) -> u64 {
        self.inputs.get(input).map_or(0, |i| i.watermark)
    }

    /// Whether record `index` of input `input` was settled by an earlier run (skip it).
    pub(crate) fn is_settled(&self, input: usize, index: u64) -> bool {
        self.inputs.get(input).is_some_and(|i| i.covers(index))
    }

    /// Write this checkpoint to `path` atomically: a temporary file in the same directory, fsynced,
    /// renamed over `path`, then the directory fsynced. A crash leaves the old or the new file,
    /// never a mix.
    pub fn write_atomic(&mut self, path: &Path) -> Result<(), CheckpointError> {
        self.written_at = now();
        let io = |source: std::io::Error| CheckpointError::Io {
            path: path.display().to_string(),
            error: source,
        };
        let mut text = serde_json::to_vec_pretty(self).map_err(|e| io(std::io::Error::other(e)))?;
        text.push(b'\n');
        let dir = parent_dir(path);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "checkpoint".into());
        let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let result = (|| {
            let mut file = File::create(&temp)?;
            file.write_all(&text)?;
            file.sync_all()?;
            drop(file);
            std::fs::rename(&temp, path)?;
            sync_dir(&dir)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        result.map_err(io)
    }
}

/// Refuse a checkpoint path that holds something other than a regular file: a checkpoint is
/// replaced by rename, and a device, a pipe or a folder there would be read without end or
/// replaced by a file (nothing at the path is fine: a fresh job writes it).
pub(crate) fn refuse_non_file(path: &Path) -> Result<(), CheckpointError> {
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => Err(CheckpointError::NotAFile {
            path: path.display().to_string(),
        }),
        _ => Ok(()),
    }
}

/// Start or resume a run that keeps a checkpoint at `path`, its ledger's file (dead letters or a
/// receipt, `what` names it) at `file`: [`start`] or [`resume`], then on resume [`cut_back`].
#[cfg(test)]
pub(crate) fn open(
    path: &Path,
    resume: bool,
    files: &[PathBuf],
    settings: RunSettings,
    file: &Path,
    what: &'static str,
) -> Result<Checkpoint, CheckpointError> {
    if !resume {
        return start(path, files, settings, file);
    }
    let checkpoint = self::resume(path, files, &settings)?;
    cut_back(path, &checkpoint.file, file, what)?;
    Ok(checkpoint)
}

/// A fresh checkpoint for a run over `files` that will keep it at `path`, its ledger's file at
/// `file`: refused when `path` holds an unfinished run's checkpoint (the user most likely forgot
/// `--resume`); a finished one is replaced. Nothing is written yet. Standard input among the
/// inputs makes this fail: it cannot be read again.
pub(crate) fn start(
    path: &Path,
    files: &[PathBuf],
    settings: RunSettings,
    file: &Path,
) -> Result<Checkpoint, CheckpointError> {
    let fingerprints = fingerprints(files)?;
    match Checkpoint::load(path) {
        Err(CheckpointError::Missing { .. }) => {}
        Ok(old) if old.finished => {}
        Ok(_) | Err(CheckpointError::Corrupt { .. }) => {
            return Err(CheckpointError::Exists {
                path: path.display().to_string(),
            });
        }
        Err(other) => return Err(other),
    }
    Ok(Checkpoint::fresh(settings, fingerprints, file))
}

/// The checkpoint at `path` (which must exist), checked against this run's settings and inputs:
/// what a resume continues. Nothing is changed yet (see [`cut_back`]).
pub(crate) fn resume(
    path: &Path,
    files: &[PathBuf],
    settings: &RunSettings,
) -> Result<Checkpoint, CheckpointError> {
    let fingerprints = fingerprints(files)?;
    let checkpoint = Checkpoint::load(path)?;
    checkpoint.check_resumable(path, settings, &fingerprints)?;
    Ok(checkpoint)
}

/// The length of the ledger's `file` now; refused when it is shorter than the checkpoint recorded
/// (`what` names the file in the message).
pub(crate) fn check_length(
    checkpoint: &Path,
    mark: &FileMark,
    file: &Path,
    what: &'static str,
) -> Result<u64, CheckpointError> {
    let found = match std::fs::metadata(file) {
        Ok(meta) => meta.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(error) => {
            return Err(CheckpointError::Io {
                path: file.display().to_string(),
                error,
            });
        }
    };
    if found < mark.len {
        return Err(CheckpointError::FileShrunk {
            path: checkpoint.display().to_string(),
            what,
            file: file.display().to_string(),
            expected: mark.len,
            found,
        });
    }
    Ok(found)
}

/// Cut the ledger's file back to the length the checkpoint recorded (what a stopped or crashed
/// run wrote past it is written again); refuse a file shorter than that (`what` names it).
pub(crate) fn cut_back(
    checkpoint: &Path,
    mark: &FileMark,
    file: &Path,
    what: &'static str,
) -> Result<(), CheckpointError> {
    let found = check_length(checkpoint, mark, file, what)?;
    if found > mark.len {
        let io = |error: std::io::Error| CheckpointError::Io {
            path: file.display().to_string(),
            error,
        };
        let handle = OpenOptions::new().write(true).open(file).map_err(io)?;
        handle.set_len(mark.len).map_err(io)?;
        handle.sync_all().map_err(io)?;
    }
    Ok(())
}

/// Flush and fsync the ledger's file and return its length: call before writing a checkpoint
/// that covers its entries.
pub(crate) fn settle_file(file: &mut File) -> std::io::Result<u64> {
    file.flush()?;
    file.sync_data()?;
    Ok(file.metadata()?.len())
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    // Directories can be opened and fsynced on Unix; elsewhere the rename is the best we get.
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
