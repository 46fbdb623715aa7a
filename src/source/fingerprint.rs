//! An input's fingerprint (path as given, size, SHA-256 of its first 64 KiB), so that a resume
//! against a file that changed since the checkpoint is refused.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Why an input cannot be fingerprinted.
#[derive(Debug, thiserror::Error)]
pub enum FingerprintError {
    #[error(
        "standard input cannot be resumed (it cannot be read again): save it to a file and give that file, or drop --checkpoint"
    )]
    Stdin,
    #[error("{path}: {error}")]
    Input { path: String, error: std::io::Error },
}

/// How many leading bytes of an input the fingerprint hashes.
pub(crate) const HEAD_BYTES: u64 = 64 * 1024;

/// What identifies one input file between runs. A `.gz` input is fingerprinted as the compressed
/// file it is on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// The path exactly as given on the command line.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 (hex) of the first [`HEAD_BYTES`] bytes (the whole file when smaller).
    pub head_sha256: String,
}

impl Fingerprint {
    /// Fingerprint the input at `path`. Standard input (`-`) cannot be fingerprinted, so a run
    /// reading it cannot keep a checkpoint.
    pub(crate) fn of(path: &Path) -> Result<Fingerprint, FingerprintError> {
        let shown = path.display().to_string();
        if shown == "-" {
            return Err(FingerprintError::Stdin);
        }
        let io_err = |source: std::io::Error| FingerprintError::Input {
            path: shown.clone(),
            error: source,
        };
        let file = File::open(path).map_err(io_err)?;
        let meta = file.metadata().map_err(io_err)?;
        if meta.is_dir() {
            return Err(FingerprintError::Input {
                path: shown.clone(),
                error: std::io::Error::other("is a directory, not a file"),
            });
        }
        let mut hasher = Sha256::new();
        let mut head = Vec::with_capacity(HEAD_BYTES.min(meta.len()) as usize);
        file.take(HEAD_BYTES)
            .read_to_end(&mut head)
            .map_err(io_err)?;
        hasher.update(&head);
        Ok(Fingerprint {
            path: shown,
            size: meta.len(),
            head_sha256: hex(&hasher.finalize()),
        })
    }

    /// What differs between this (recorded) fingerprint and `now`, in words; empty when the same.
    pub(crate) fn differences(&self, now: &Fingerprint) -> Vec<String> {
        let mut changes = Vec::new();
        if self.path != now.path {
            changes.push(format!("path was {:?}, now {:?}", self.path, now.path));
        }
        if self.size != now.size {
            changes.push(format!(
                "size was {} bytes, now {} bytes",
                self.size, now.size
            ));
        }
        if self.head_sha256 != now.head_sha256 {
            changes.push(format!(
                "content of the first {} KiB differs (SHA-256 was {}, now {})",
                HEAD_BYTES / 1024,
                short(&self.head_sha256),
                short(&now.head_sha256)
            ));
        }
        changes
    }
}

/// The fingerprints of the inputs, in order; none (no files) means standard input.
pub fn fingerprints(files: &[std::path::PathBuf]) -> Result<Vec<Fingerprint>, FingerprintError> {
    if files.is_empty() {
        return Err(FingerprintError::Stdin);
    }
    files.iter().map(|f| Fingerprint::of(f)).collect()
}

/// Lower-case hex of some bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_file_same_fingerprint_and_changes_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.ndjson");
        std::fs::write(&path, b"{\"type\":\"track\"}\n").unwrap();
        let first = Fingerprint::of(&path).unwrap();
        assert_eq!(first, Fingerprint::of(&path).unwrap());
        assert!(first.differences(&first).is_empty());

        std::fs::write(&path, b"{\"type\":\"page\"}\n").unwrap();
        let changed = Fingerprint::of(&path).unwrap();
        let diff = first.differences(&changed);
        assert_eq!(diff.len(), 2, "{diff:?}");
        assert!(
            diff[0].contains("size was 17 bytes, now 16 bytes"),
            "{diff:?}"
        );
        assert!(diff[1].contains("first 64 KiB differs"), "{diff:?}");
    }

    #[test]
    fn only_the_head_is_hashed_but_the_size_catches_appends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.ndjson");
        let mut body = vec![b'x'; HEAD_BYTES as usize + 10];
        std::fs::write(&path, &body).unwrap();
        let first = Fingerprint::of(&path).unwrap();
        body[HEAD_BYTES as usize + 5] = b'y';
        std::fs::write(&path, &body).unwrap();
        assert_eq!(first, Fingerprint::of(&path).unwrap());
        body.push(b'\n');
        std::fs::write(&path, &body).unwrap();
        let diff = first.differences(&Fingerprint::of(&path).unwrap());
        assert_eq!(diff.len(), 1, "{diff:?}");
    }

    #[test]
    fn stdin_missing_files_and_directories_are_refused() {
        assert!(matches!(
            Fingerprint::of(Path::new("-")),
            Err(FingerprintError::Stdin)
        ));
        let dir = tempfile::tempdir().unwrap();
        let missing = Fingerprint::of(&dir.path().join("nope.ndjson")).unwrap_err();
        assert!(missing.to_string().contains("nope.ndjson"), "{missing}");
        let is_dir = Fingerprint::of(dir.path()).unwrap_err();
        assert!(is_dir.to_string().contains("directory"), "{is_dir}");
    }
}
