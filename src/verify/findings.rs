//! What a verify found, counted: people checked and matching, each kind of difference with the
//! first few examples, the records read and the requests made; as the human summary (standard
//! error) and the `--report` JSON.

use std::path::Path;

use anyhow::{Context, Result};
use serde_json::{Value, json};

use super::client::Traffic;
use super::compare::Difference;
use super::expect::Seen;
use super::key::PersonKey;
use crate::exit::Exit;

/// Examples kept for the summary and the report.
const EXAMPLES: usize = 5;

/// Records read, by what became of them.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Records {
    pub mapped: u64,
    pub skipped: u64,
    pub invalid: u64,
}

/// The counts.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    pub records: Records,
    pub seen: Seen,
    pub sample: Option<(usize, u64)>,
    pub checked: u64,
    pub matching: u64,
    pub missing: u64,
    pub unexpected: u64,
    pub attribute: u64,
    pub device: u64,
    /// The first difference lines.
    pub examples: Vec<Value>,
    pub traffic: Traffic,
}

impl Findings {
    /// Count one person's differences.
    pub(crate) fn add(&mut self, person: &PersonKey, differences: &[Difference]) {
        self.checked += 1;
        if differences.is_empty() {
            self.matching += 1;
        }
        for d in differences {
            match d {
                Difference::Missing => self.missing += 1,
                Difference::Unexpected { .. } => self.unexpected += 1,
                Difference::Attribute { .. } => self.attribute += 1,
                Difference::Device { .. } => self.device += 1,
            }
            if self.examples.len() < EXAMPLES {
                self.examples.push(d.to_json(person));
            }
        }
    }

    pub(crate) fn differences(&self) -> u64 {
        self.missing + self.unexpected + self.attribute + self.device
    }

    /// 0 when everyone matches, 1 when there are differences.
    pub(crate) fn exit(&self) -> Exit {
        if self.differences() == 0 {
            Exit::Success
        } else {
            Exit::Partial
        }
    }

    /// The summary for standard error.
    pub(crate) fn text(&self, target: &str) -> String {
        let r = &self.records;
        let mut out = format!(
            "cio-replay verify: {} records read ({} mapped, {} skipped, {} invalid: not sent, not expected)\n",
            r.mapped + r.skipped + r.invalid,
            r.mapped,
            r.skipped,
            r.invalid
        );
        let whom = match self.sample {
            Some((size, seed)) => format!(
                "a sample of {} of the {} people the input touches (--sample {size}, --seed {seed})",
                self.checked, self.seen.people
            ),
            None => format!("all {} people the input touches", self.checked),
        };
        out.push_str(&format!("checked {whom} against {target}\n"));
        out.push_str(&format!(
            "  matching: {}\n  missing: {}\n  unexpected (should be gone): {}\n  attribute differences: {}\n  device differences: {}\n",
            self.matching, self.missing, self.unexpected, self.attribute, self.device
        ));
        if !self.examples.is_empty() {
            out.push_str("first differences:\n");
            for e in &self.examples {
                out.push_str(&format!("  {e}\n"));
            }
        }
        if self.seen.anonymous_operations > 0 {
            out.push_str(&format!(
                "{} operations addressed only an anonymous id: the App API cannot look those up\n",
                self.seen.anonymous_operations
            ));
        }
        let t = &self.traffic;
        out.push_str(&format!(
            "App API: {} requests ({} answered 429, {} retries)\n",
            t.requests, t.throttled, t.retries
        ));
        out.push_str(
            "events are not compared: the App API's activity feed covers only the last 30 days",
        );
        out
    }

    /// The `--report` JSON.
    pub(crate) fn json(&self, target: &str) -> Value {
        let r = &self.records;
        json!({
            "command": "verify",
            "app_api": target,
            "records": {"mapped": r.mapped, "skipped": r.skipped, "invalid": r.invalid},
            "people_in_input": self.seen.people,
            "sample": self.sample.map(|(size, seed)| json!({"size": size, "seed": seed})),
            "people_checked": self.checked,
            "matching": self.matching,
            "differences": {
                "total": self.differences(),
                "missing": self.missing,
                "unexpected": self.unexpected,
                "attribute": self.attribute,
                "device": self.device,
            },
            "examples": self.examples,
            "anonymous_operations": self.seen.anonymous_operations,
            "requests": {
                "total": self.traffic.requests,
                "throttled": self.traffic.throttled,
                "retries": self.traffic.retries,
            },
            "events_compared": false,
            "exit": self.exit().code(),
        })
    }

    /// Write the `--report` JSON to `path`.
    pub(crate) fn write(&self, path: &Path, target: &str) -> Result<()> {
        let text = serde_json::to_string_pretty(&self.json(target)).unwrap_or_default();
        std::fs::write(path, text + "\n")
            .with_context(|| format!("--report {}: cannot write it", path.display()))
    }
}
