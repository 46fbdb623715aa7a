//! The receipt: a CSV file with one row per distinct person (and one per unusable entry) saying
//! what was done, then a trailer of `#` rows with the totals, the SHA-256 of the list and the
//! workspace. Proof for the privacy team; it never holds the API key.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{DateTime, SecondsFormat, Utc};

use super::Person;
use crate::source::Location;

/// The columns, in order.
pub(crate) const HEADER: [&str; 8] = [
    "identifier",
    "kind",
    "action",
    "outcome",
    "http_status",
    "reason",
    "time",
    "source",
];

/// What became of one person (or entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowOutcome {
    /// Customer.io accepted the operation (also for someone already deleted or suppressed).
    Accepted,
    /// Customer.io refused the operation (a 4xx or a 207 error for it); not retried.
    Rejected,
    /// Not delivered: retries ran out, the network failed or the run stopped before it was sent.
    Failed,
    /// The list entry could not be used; nothing was sent for it.
    Invalid,
}

impl RowOutcome {
    pub(crate) fn name(self) -> &'static str {
        match self {
            RowOutcome::Accepted => "accepted",
            RowOutcome::Rejected => "rejected",
            RowOutcome::Failed => "failed",
            RowOutcome::Invalid => "invalid",
        }
    }
}

/// The default receipt name: `gdpr-<action>-<YYYYMMDDTHHMMSSZ>.csv`.
pub(crate) fn default_path(action: &str, now: DateTime<Utc>) -> PathBuf {
    PathBuf::from(format!(
        "gdpr-{action}-{}.csv",
        now.format("%Y%m%dT%H%M%SZ")
    ))
}

/// An RFC 3339 UTC time with seconds, as the receipt writes it.
pub(crate) fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Refuse a receipt path that exists already (a receipt is never overwritten) or whose folder is
/// missing; called before the confirmation so that a bad path stops the run before anything is sent.
pub(crate) fn check_path(path: &Path) -> Result<()> {
    if path.exists() {
        anyhow::bail!(
            "receipt {} exists already: receipts are never overwritten; choose another --receipt FILE",
            path.display()
        );
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(parent) = parent
        && !parent.is_dir()
    {
        anyhow::bail!(
            "receipt {}: folder {} does not exist",
            path.display(),
            parent.display()
        );
    }
    Ok(())
}

/// One row as CSV bytes (with its line end), for rows that wait in the checkpoint journal.
pub(crate) fn encode(row: &[&str]) -> Result<Vec<u8>> {
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    writer.write_record(row)?;
    writer
        .into_inner()
        .map_err(|e| anyhow::anyhow!("encoding a receipt row: {e}"))
}

/// One row of the receipt: a person's, or, without a person, an unusable entry's (outcome
/// `invalid`, no identifier, kind or status).
pub(crate) struct Row<'a> {
    pub person: Option<&'a Person>,
    pub action: &'a str,
    pub outcome: RowOutcome,
    pub status: Option<&'a str>,
    pub reason: &'a str,
    pub time: DateTime<Utc>,
    pub source: &'a Location,
}

impl Row<'_> {
    /// What the row counts as.
    pub(crate) fn outcome(&self) -> RowOutcome {
        match self.person {
            Some(_) => self.outcome,
            None => RowOutcome::Invalid,
        }
    }

    /// The cells: identifier, kind, action, outcome, status, reason, time, source.
    fn cells(&self) -> [String; 8] {
        let (shown, kind, status) = match self.person {
            Some(p) => (p.display(), p.kind.name(), self.status.unwrap_or_default()),
            None => (String::new(), "", ""),
        };
        [
            shown,
            kind.to_owned(),
            self.action.to_owned(),
            self.outcome().name().to_owned(),
            status.to_owned(),
            self.reason.to_owned(),
            rfc3339(self.time),
            self.source.to_string(),
        ]
    }

    /// The row as CSV bytes, for rows that wait in the checkpoint journal.
    pub(crate) fn encode(&self) -> Result<Vec<u8>> {
        encode(&self.cells().each_ref().map(String::as_str))
    }
}

/// Counts of the rows written so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    pub accepted: u64,
    pub rejected: u64,
    pub failed: u64,
    pub invalid: u64,
}

impl Counts {
    /// Count one row.
    pub(crate) fn add(&mut self, outcome: RowOutcome) {
        match outcome {
            RowOutcome::Accepted => self.accepted += 1,
            RowOutcome::Rejected => self.rejected += 1,
            RowOutcome::Failed => self.failed += 1,
            RowOutcome::Invalid => self.invalid += 1,
        }
    }

    /// People with a row (invalid entries are not people).
    pub(crate) fn people(&self) -> u64 {
        self.accepted + self.rejected + self.failed
    }
}

/// Everything the trailer says besides the counts.
#[derive(Debug, Clone)]
pub(crate) struct Trailer {
    pub action: String,
    /// The lists, in order, as given.
    pub lists: Vec<String>,
    /// Hex SHA-256 of all lists' bytes as stored, concatenated in order.
    pub sha256: String,
    pub list_bytes: u64,
    pub entries: u64,
    pub duplicates: u64,
    pub blank: u64,
    pub site_id: String,
    pub host: String,
    pub started: DateTime<Utc>,
    pub finished: DateTime<Utc>,
    /// One line on how the run ended (all sent, interrupted, stopped by a 401...).
    pub ending: String,
    /// `complete` when every person was handled, `interrupted` when the job is unfinished.
    pub status: &'static str,
}

/// An open receipt.
pub(crate) struct Receipt {
    path: PathBuf,
    writer: csv::Writer<File>,
    counts: Counts,
}

impl Receipt {
    /// Create the receipt (never overwriting one) and write its header.
    pub(crate) fn create(path: &Path) -> Result<Receipt> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .with_context(|| format!("creating receipt {}", path.display()))?;
        let mut writer = csv::WriterBuilder::new().flexible(true).from_writer(file);
        writer
            .write_record(HEADER)
            .with_context(|| format!("writing receipt {}", path.display()))?;
        writer.flush()?;
        Ok(Receipt {
            path: path.to_path_buf(),
            writer,
            counts: Counts::default(),
        })
    }

    /// Start the receipt of a checkpointed job: create it (never overwriting one), write the
    /// header, fsync, and return its length (where the job's rows begin).
    pub(crate) fn create_header(path: &Path) -> Result<u64> {
        let receipt = Receipt::create(path)?;
        let file = receipt
            .writer
            .into_inner()
            .map_err(|e| io::Error::other(e.to_string()))?;
        file.sync_all()
            .with_context(|| format!("writing receipt {}", path.display()))?;
        Ok(file.metadata()?.len())
    }

    /// Open an existing receipt to append the last rows and the trailer of a checkpointed job;
    /// `counts` are those of the rows already in it.
    pub(crate) fn append(path: &Path, counts: Counts) -> Result<Receipt> {
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .with_context(|| format!("opening receipt {}", path.display()))?;
        let writer = csv::WriterBuilder::new().flexible(true).from_writer(file);
        Ok(Receipt {
            path: path.to_path_buf(),
            writer,
            counts,
        })
    }

    /// Append rows already encoded by [`encode`] (counted by the caller in `counts`).
    pub(crate) fn raw(&mut self, bytes: &[u8]) -> Result<()> {
        use std::io::Write as _;
        self.writer.flush()?;
        let mut file: &File = self.writer.get_ref();
        file.write_all(bytes)
            .with_context(|| format!("writing receipt {}", self.path.display()))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Replace the counts the trailer will show (a checkpointed job's whole-job counts).
    pub(crate) fn set_counts(&mut self, counts: Counts) {
        self.counts = counts;
    }

    /// Count and write one row.
    pub(crate) fn row(&mut self, row: &Row<'_>) -> Result<()> {
        self.counts.add(row.outcome());
        self.write(&row.cells().each_ref().map(String::as_str))
    }

    fn write(&mut self, row: &[&str]) -> Result<()> {
        self.writer
            .write_record(row)
            .with_context(|| format!("writing receipt {}", self.path.display()))
    }

    /// Write the trailer and close; the receipt is complete only with its trailer.
    pub(crate) fn finish(mut self, trailer: &Trailer) -> Result<Counts> {
        let c = self.counts;
        let rows: Vec<(&str, String)> = vec![
            ("# receipt", "cio-replay gdpr".into()),
            ("# tool_version", env!("CARGO_PKG_VERSION").into()),
            ("# action", trailer.action.clone()),
            ("# workspace_site_id", trailer.site_id.clone()),
            ("# workspace_host", trailer.host.clone()),
            ("# lists", trailer.lists.join(" ")),
            ("# list_sha256", trailer.sha256.clone()),
            ("# list_bytes", trailer.list_bytes.to_string()),
            ("# entries", trailer.entries.to_string()),
            ("# people", c.people().to_string()),
            ("# accepted", c.accepted.to_string()),
            ("# rejected", c.rejected.to_string()),
            ("# failed", c.failed.to_string()),
            ("# invalid", c.invalid.to_string()),
            ("# duplicates", trailer.duplicates.to_string()),
            ("# blank_or_comment", trailer.blank.to_string()),
            ("# started", rfc3339(trailer.started)),
            ("# finished", rfc3339(trailer.finished)),
            ("# ending", trailer.ending.clone()),
            ("# status", trailer.status.to_string()),
        ];
        for (key, value) in rows {
            self.write(&[key, value.as_str()])?;
        }
        self.writer
            .flush()
            .with_context(|| format!("writing receipt {}", self.path.display()))?;
        let file = self
            .writer
            .into_inner()
            .map_err(|e| io::Error::other(e.to_string()))?;
        file.sync_all()
            .with_context(|| format!("writing receipt {}", self.path.display()))?;
        Ok(c)
    }

    /// Flush what has been written (after each delivered batch, so a crash keeps the rows).
    pub(crate) fn flush(&mut self) -> Result<()> {
        self.writer.flush()?;
        Ok(())
    }
}
