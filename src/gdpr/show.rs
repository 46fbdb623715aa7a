//! What a GDPR run prints before it sends: the dry-run listing (NDJSON), the problems found in the
//! lists, and the totals of the first reading.

use crate::report::messages::{record, say};
use std::io::Write;

use anyhow::Result;
use serde_json::json;

use super::GdprAction;
use super::fold::{Noted, Scan};
use super::{action_name, operation};
use crate::track::Mode;

pub(crate) fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// One NDJSON line of the dry-run listing.
pub(crate) fn listing_line(
    out: &mut impl Write,
    noted: &Noted<'_>,
    action: GdprAction,
    mode: Mode,
) -> Result<()> {
    let line = match noted {
        Noted::Person {
            location,
            person,
            warning,
        } => {
            let op = operation(action, person);
            let mut value = json!({
                "source": location.to_string(),
                "identifier": person.display(),
                "kind": person.kind.name(),
                "action": action_name(action),
                "endpoint": op.endpoint(mode).label(),
                "operation": op.body,
            });
            if let (Some(w), Some(map)) = (warning, value.as_object_mut()) {
                map.insert("warning".into(), json!(w));
            }
            value
        }
        Noted::Duplicate {
            location,
            person,
            first,
        } => json!({
            "source": location.to_string(),
            "identifier": person.display(),
            "kind": person.kind.name(),
            "duplicate_of": first.to_string(),
        }),
        Noted::Malformed { location, why } => json!({
            "source": location.to_string(),
            "error": why,
        }),
    };
    writeln!(out, "{line}")?;
    Ok(())
}

/// What a real run prints about an entry before it asks: problems always, the rest unless quiet.
pub(crate) fn problem_line(noted: &Noted<'_>) {
    match noted {
        Noted::Malformed { location, why } => record!("{location}: invalid: {why}"),
        Noted::Person {
            location,
            warning: Some(w),
            ..
        } => say!("{location}: warning: {w}"),
        Noted::Duplicate {
            location, first, ..
        } => say!("{location}: duplicate of {first}: sent once"),
        _ => {}
    }
}

/// The totals of the first pass, for standard error.
pub(crate) fn totals_text(name: &str, scan: &Scan, sha256: &str) -> String {
    let [ids, emails, cio_ids] = scan.by_kind;
    format!(
        "gdpr {name}: {} entr{} read: {} {} ({ids} id{}, {emails} email{}, {cio_ids} cio_id{}), {} \
         duplicate{} folded, {} invalid, {} blank or comment line{}\nlist sha256: {sha256}\n",
        scan.entries,
        if scan.entries == 1 { "y" } else { "ies" },
        scan.people,
        if scan.people == 1 { "person" } else { "people" },
        plural(ids),
        plural(emails),
        plural(cio_ids),
        scan.duplicates,
        plural(scan.duplicates),
        scan.malformed,
        scan.blank,
        plural(scan.blank),
    )
}
