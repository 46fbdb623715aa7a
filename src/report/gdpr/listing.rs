//! What a GDPR run prints before it sends: the dry-run listing (NDJSON on standard output) or the
//! problems found in the lists, as the first pass reads them, and the totals of that reading.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use anyhow::Result;
use serde_json::json;

use super::plural;
use crate::exit::Exit;
use crate::map::gdpr::{GdprAction, action_name, operation};
use crate::report::messages::{record, say};
use crate::source::list::ListFormat;
use crate::stream::people::{Listed, Noted};
use crate::track::Mode;

/// Read the lists of `paths` once ([`Listed::read`]): with `dry_run`, every entry as a line of the
/// listing on standard output (the operation `action` would send in `mode`); else the problems on
/// standard error.
pub(crate) fn read_lists(
    paths: &[PathBuf],
    format: Option<ListFormat>,
    column: Option<String>,
    (dry_run, action, mode): (bool, GdprAction, Mode),
) -> Result<Listed> {
    if !dry_run {
        return Listed::read(paths, format, column, |noted| {
            problem_line(&noted);
            Ok(())
        });
    }
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let listed = Listed::read(paths, format, column, |noted| {
        listing_line(&mut out, &noted, action, mode)
    })?;
    out.flush()?;
    Ok(listed)
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

/// The end of a run that sends nothing (a dry run, or lists with no one on them): the totals and
/// why nothing was sent; the exit says whether entries could not be used.
pub(crate) fn nothing_to_send(action: GdprAction, listed: &Listed, dry_run: bool) -> Exit {
    let scan = &listed.scan;
    say!("{}", totals_text(action_name(action), listed));
    if dry_run {
        say!(
            "dry run: nothing was sent ({} operation{} would be sent)",
            scan.people,
            plural(scan.people)
        );
    } else {
        say!("no people on the list: nothing to send, no receipt written");
    }
    if scan.malformed > 0 {
        Exit::Partial
    } else {
        Exit::Success
    }
}

/// The totals of the first pass, for standard error.
pub(crate) fn totals_text(name: &str, listed: &Listed) -> String {
    let (scan, sha256) = (&listed.scan, &listed.digest.0);
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
