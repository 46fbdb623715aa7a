//! The `--report FILE` of a send: what ran where and how it ended (schema `report_version` 1,
//! README "The report"), the summary's JSON, the delivery's counts and the checkpoint's facts,
//! merged into one document. Written also when the run stops early.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::summary::{RequestPlan, Summary};
use crate::deliver::{Delivered, DeliverySettings};
use crate::exit::{Exit, exit_for_error};
use crate::ledger::Closed;
use crate::ledger::dead_letter::DeadLetters;
use crate::report::delivery::{delivery_json, job_json, merge};

/// The report's schema version: bumped when a field changes meaning or goes.
pub(crate) const REPORT_VERSION: u32 = 1;

/// How a run ended, as the report's `status` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Every record read was settled.
    Complete,
    /// Stopped by Ctrl-C or SIGTERM with records left: resumable.
    Interrupted,
    /// Stopped on purpose before the end: refused credentials, `--max-invalid`, `--limit`.
    Halted,
    /// Stopped by a local error (a file that could not be written).
    Failed,
}

impl Status {
    /// The `status` of a send that ends with `outcome`.
    pub(crate) fn of(outcome: &anyhow::Result<Exit>, report: &Delivered) -> Status {
        match outcome {
            Err(e) if exit_for_error(e) == Exit::LocalError => Status::Failed,
            Err(_) => Status::Halted,
            Ok(Exit::Interrupted) => Status::Interrupted,
            Ok(_) if report.limit_reached.is_some() || report.cut_short => Status::Halted,
            Ok(_) => Status::Complete,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Status::Complete => "complete",
            Status::Interrupted => "interrupted",
            Status::Halted => "halted",
            Status::Failed => "failed",
        }
    }
}

/// What the report says about the run besides its counts.
#[derive(Debug, Clone)]
pub(crate) struct RunFacts {
    pub started_at: DateTime<Utc>,
    pub status: Status,
    pub exit_code: u8,
    /// The inputs as read, with the records this run read from each.
    pub inputs: Vec<(PathBuf, u64)>,
    /// The endpoint's host (and port), never a path or user info.
    pub endpoint: String,
    /// `us`, `eu`, `custom endpoint` or `in-process sandbox`.
    pub region: String,
    /// [`crate::ledger::site_id_hash`] of the site id.
    pub site_id_hash: String,
}

impl RunFacts {
    /// The report's run fields (`report_version` ... `site_id_sha256`), finished at `finished_at`.
    pub(crate) fn to_json(&self, finished_at: DateTime<Utc>) -> Value {
        let inputs: Vec<Value> = self
            .inputs
            .iter()
            .map(|(path, records)| {
                let fingerprint = crate::source::fingerprint::Fingerprint::of(path).ok();
                json!({
                    "path": path.display().to_string(),
                    "size": fingerprint.as_ref().map(|f| f.size),
                    "fingerprint": fingerprint.as_ref().map(|f| f.head_sha256.clone()),
                    "records": records,
                })
            })
            .collect();
        let elapsed = (finished_at - self.started_at).num_milliseconds() as f64 / 1000.0;
        json!({
            "report_version": REPORT_VERSION,
            "tool_version": env!("CARGO_PKG_VERSION"),
            "started_at": self.started_at.to_rfc3339_opts(SecondsFormat::Millis, true),
            "finished_at": finished_at.to_rfc3339_opts(SecondsFormat::Millis, true),
            "elapsed_seconds": elapsed.max(0.0),
            "status": self.status.name(),
            "exit_code": self.exit_code,
            "inputs": inputs,
            "endpoint": self.endpoint,
            "region": self.region,
            "site_id_sha256": self.site_id_hash,
        })
    }
}

/// Write the report of a send that stopped before it sent anything (a Ctrl-C during the pre-scan):
/// the estimate's empty summary for `delivery`, nothing sent.
pub(crate) fn write_nothing_sent(
    path: &Path,
    run: &RunFacts,
    delivery: &DeliverySettings,
) -> Result<()> {
    let summary = Summary::new(RequestPlan::new(delivery), delivery.rate);
    let report = Delivered::nothing_sent(true);
    write_json(path, run, &summary, &report, None, None)
}

/// Write the report of a send to `path` (pretty JSON, one trailing newline): `ledger` is the job's
/// (its dead letters, and with a checkpoint the whole job's counts).
pub(crate) fn write(
    path: &Path,
    run: &RunFacts,
    summary: &Summary,
    report: &Delivered,
    ledger: &Closed<DeadLetters>,
) -> Result<()> {
    let dead = ledger.path().display().to_string();
    let checkpoint = ledger.checkpointed().then(|| job_json(ledger));
    let dead = Some((dead.as_str(), ledger.entries()));
    write_json(path, run, summary, report, dead, checkpoint)
}

fn write_json(
    path: &Path,
    run: &RunFacts,
    summary: &Summary,
    report: &Delivered,
    dead_letters: Option<(&str, u64)>,
    checkpoint: Option<serde_json::Value>,
) -> Result<()> {
    let mut value = summary.to_json();
    merge(&mut value, delivery_json(report, dead_letters));
    if let Some(checkpoint) = checkpoint {
        merge(&mut value, checkpoint);
    }
    merge(&mut value, run.to_json(Utc::now()));
    let mut text = serde_json::to_string_pretty(&value)?;
    text.push('\n');
    std::fs::write(path, text)
        .with_context(|| format!("--report {}: cannot write it", path.display()))
}
