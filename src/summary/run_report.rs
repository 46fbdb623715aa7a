//! The `--report FILE` of a send: the summary's JSON, the delivery's counts and the checkpoint's
//! facts merged into one document.

use std::path::Path;

use anyhow::{Context, Result};

use super::Summary;
use crate::send::DeliveryReport;
use crate::send::report::{delivery_json, merge};

/// Write the report of a send to `path` (pretty JSON, one trailing newline).
pub fn write(
    path: &Path,
    summary: &Summary,
    report: &DeliveryReport,
    dead_letters: Option<(&str, u64)>,
    checkpoint: Option<serde_json::Value>,
) -> Result<()> {
    let mut value = summary.to_json();
    merge(&mut value, delivery_json(report, dead_letters));
    if let Some(checkpoint) = checkpoint {
        merge(&mut value, checkpoint);
    }
    let mut text = serde_json::to_string_pretty(&value)?;
    text.push('\n');
    std::fs::write(path, text)
        .with_context(|| format!("--report {}: cannot write it", path.display()))
}
