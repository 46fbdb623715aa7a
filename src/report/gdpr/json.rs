//! `gdpr --report FILE`: the final summary as JSON — counts (whole job with a checkpoint), the
//! lists' SHA-256, the tool version, the workspace and the receipt's path, with the run fields
//! every report has (README "The report"). Never the API key.

use std::path::Path;

use anyhow::{Context, Result};
use serde_json::{Value, json};

use super::{About, Sent};
use crate::ledger::receipt::{Receipt, rfc3339};
use crate::ledger::{Closed, Counters};
use crate::report::delivery::merge;
use crate::report::run_report::RunFacts;

/// What the report says about the checkpoint, when there is one.
struct CheckpointFacts<'a> {
    path: &'a Path,
    resumed: bool,
    finished: bool,
    earlier: Counters,
}

/// The report's JSON.
fn json(about: &About<'_>, sent: &Sent, checkpoint: Option<&CheckpointFacts<'_>>) -> Value {
    let (scan, counts, stats) = (&about.listed.scan, &sent.counts, &sent.report.stats);
    let trailer = &sent.trailer;
    json!({
        "command": "gdpr",
        "action": trailer.action,
        "tool_version": env!("CARGO_PKG_VERSION"),
        "lists": trailer.lists,
        "list_sha256": trailer.sha256,
        "list_bytes": trailer.list_bytes,
        "workspace": {
            "site_id": trailer.site_id,
            "host": trailer.host,
            "region": about.workspace.region,
        },
        "receipt": sent.receipt.display().to_string(),
        "entries": scan.entries,
        "people": scan.people,
        "duplicates": scan.duplicates,
        "blank_or_comment": scan.blank,
        "malformed": scan.malformed,
        "outcomes": {
            "accepted": counts.accepted,
            "rejected": counts.rejected,
            "failed": counts.failed,
            "invalid": counts.invalid,
        },
        "this_run": {
            "operations": stats.operations,
            "requests": stats.requests,
            "retries": stats.retries,
        },
        "started": rfc3339(trailer.started),
        "finished": rfc3339(trailer.finished),
        "ending": trailer.ending,
        "status": trailer.status,
        "checkpoint": checkpoint.map(|c| json!({
            "path": c.path.display().to_string(),
            "resumed": c.resumed,
            "finished": c.finished,
            "earlier_runs": c.earlier,
        })),
    })
}

/// Write the report of a run (`facts`: its run fields; `checkpoint`: the job's checkpoint, which
/// `ledger` kept) to `path`: pretty JSON and a newline.
pub(crate) fn write(
    path: &Path,
    about: &About<'_>,
    sent: &Sent,
    (checkpoint, ledger): (Option<&Path>, &Closed<Receipt>),
    facts: &RunFacts,
) -> Result<()> {
    let checkpoint = checkpoint.map(|path| CheckpointFacts {
        path,
        resumed: ledger.resumed(),
        finished: sent.complete(),
        earlier: ledger.earlier(),
    });
    let mut value = json(about, sent, checkpoint.as_ref());
    merge(&mut value, facts.to_json(sent.trailer.finished));
    let mut text = serde_json::to_string_pretty(&value)?;
    text.push('\n');
    std::fs::write(path, text)
        .with_context(|| format!("--report {}: cannot write it", path.display()))
}
