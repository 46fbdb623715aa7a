//! One run at a time on a job's files: an exclusive OS lock on the sidecar `<file>.lock`, held
//! for the whole run.
//!
//! The lock is not on the file itself: a checkpoint is replaced by rename at every write, and a
//! lock on a file that gets renamed over guards nothing. The sidecar is never renamed or removed
//! (removing it when a run ends would let two later runs lock two different files of that name).
//! The lock belongs to the open file, so the operating system drops it when the process ends,
//! however it ends (`kill -9` included): a sidecar left behind never blocks a later run.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::exit::{Exit, Fatal};

/// A lock held by this run; dropping it releases it.
#[derive(Debug)]
pub(crate) struct Held {
    _file: File,
}

/// Why a lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LockError {
    #[error(
        "{what} {file} is in use: another cio-replay run{holder} holds its lock {lock}; wait for that run to end (or stop it), then run this again"
    )]
    Busy {
        what: String,
        file: String,
        lock: String,
        /// ` (process N)` when the holder wrote its id, else empty.
        holder: String,
    },
    #[error("{what} {file}: cannot lock it through {lock}: {source}")]
    Io {
        what: String,
        file: String,
        lock: String,
        source: std::io::Error,
    },
}

/// The sidecar lock file of `file`: its path with `.lock` appended.
pub(crate) fn lock_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Lock `file` (`what` names it in messages: "checkpoint", "receipt") for as long as the returned
/// guard lives, or refuse at once when another run holds it: a usage error (exit 2) naming the
/// file and saying that another run holds it.
pub(crate) fn hold(file: &Path, what: &str) -> anyhow::Result<Held> {
    try_hold(file, what).map_err(|e| Fatal::new(Exit::Usage, e.to_string()).into())
}

/// [`hold`] the checkpoint of a run that has one (`--checkpoint FILE`), which must be a regular
/// file or none yet (its lock file would sit beside a device, and the device be replaced).
pub(crate) fn checkpoint(path: Option<&Path>) -> anyhow::Result<Option<Held>> {
    let Some(path) = path else {
        return Ok(None);
    };
    super::checkpoint::refuse_non_file(path)
        .map_err(|refusal| Fatal::new(Exit::Usage, refusal.to_string()))?;
    hold(path, "checkpoint").map(Some)
}

fn try_hold(file: &Path, what: &str) -> Result<Held, LockError> {
    let lock = lock_path(file);
    let io = |source: std::io::Error| LockError::Io {
        what: what.to_string(),
        file: file.display().to_string(),
        lock: lock.display().to_string(),
        source,
    };
    let mut handle = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock)
        .map_err(io)?;
    // Fully qualified: newer std has an inherent `File::try_lock` with another error type.
    match fs4::FileExt::try_lock(&handle) {
        Ok(()) => {}
        Err(fs4::TryLockError::WouldBlock) => {
            return Err(LockError::Busy {
                what: what.to_string(),
                file: file.display().to_string(),
                lock: lock.display().to_string(),
                holder: holder(&mut handle),
            });
        }
        Err(fs4::TryLockError::Error(e)) => return Err(io(e)),
    }
    // Say who holds it, for the message a second run prints (best effort: the lock is what counts).
    let _ = handle
        .set_len(0)
        .and_then(|()| handle.rewind())
        .and_then(|()| writeln!(handle, "{}", std::process::id()));
    Ok(Held { _file: handle })
}

/// ` (process N)` from the lock file, when the run holding it wrote its id.
fn holder(handle: &mut File) -> String {
    let mut text = String::new();
    // Readable where locks are advisory (Unix); elsewhere the holder is not named.
    if handle.read_to_string(&mut text).is_err() {
        return String::new();
    }
    match text.trim().parse::<u32>() {
        Ok(pid) => format!(" (process {pid})"),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_hold_is_refused_naming_the_file_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let checkpoint = dir.path().join("run.ckpt");
        let first = try_hold(&checkpoint, "checkpoint").expect("first lock");
        assert!(lock_path(&checkpoint).exists());
        let err = try_hold(&checkpoint, "checkpoint").expect_err("held already");
        assert!(matches!(err, LockError::Busy { .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains(&checkpoint.display().to_string()), "{text}");
        assert!(text.contains("another cio-replay run"), "{text}");
        #[cfg(unix)]
        assert!(
            text.contains(&format!("(process {})", std::process::id())),
            "{text}"
        );
        drop(first);
        let again = try_hold(&checkpoint, "checkpoint").expect("free again");
        drop(again);
    }

    #[test]
    fn the_refusal_is_a_usage_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let receipt = dir.path().join("job.csv");
        let _held = hold(&receipt, "receipt").expect("first lock");
        let err = hold(&receipt, "receipt").expect_err("held already");
        assert_eq!(crate::exit::exit_for_error(&err), Exit::Usage);
        assert!(err.to_string().starts_with("receipt "), "{err}");
    }

    #[test]
    fn the_lock_file_sits_next_to_the_file() {
        assert_eq!(
            lock_path(Path::new("dir/run.ckpt")),
            PathBuf::from("dir/run.ckpt.lock")
        );
    }
}
