//! What a GDPR run prints before it sends: the dry-run listing (NDJSON on standard output) or the
//! problems found in the lists, as the first pass reads them, and the totals of that reading.

use std::io::{self, BufWriter, Write};

use anyhow::Result;
use serde_json::json;

use super::plural;
use crate::exit::usage;
use crate::map::gdpr::{GdprAction, action_name, operation};
use crate::report::messages::{record, say};
use crate::source::list::List;
use crate::stream::people::{Noted, Scan, scan};
use crate::track::Mode;

/// The first pass over `lists`: with `dry_run`, every entry as a line of the listing on standard
/// output (the operation `action` would send in `mode`); else the problems on standard error.
/// A list that cannot be read is a usage error (nothing was sent).
pub(crate) fn first_pass(
    lists: &[List],
    column: Option<&str>,
    dry_run: bool,
    action: GdprAction,
    mode: Mode,
) -> Result<Scan> {
    let usage_of = |e: anyhow::Error| usage(format!("{e:#}"));
    if !dry_run {
        return scan(lists, column, |noted| {
            problem_line(&noted);
            Ok(())
        })
        .map_err(usage_of);
    }
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let scan = scan(lists, column, |noted| {
        listing_line(&mut out, &noted, action, mode)
    })
    .map_err(usage_of)?;
    out.flush()?;
    Ok(scan)
}

/// One NDJSON line of the dry-run listing.
fn listing_line(
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
fn problem_line(noted: &Noted<'_>) {
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
