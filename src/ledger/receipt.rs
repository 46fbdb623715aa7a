//! The receipt of a GDPR run: a CSV file with one row per distinct person (and one per unusable
//! entry) saying what was done, in list order, then a trailer of `#` rows with the totals, the
//! SHA-256 of the lists and the workspace. Proof for the privacy team; it never holds the API key.
//! The ledger's sink of `gdpr`: the journal writes its rows.

use std::io;
use std::path::{Path, PathBuf};

use anyhow::Result;
use chrono::{DateTime, SecondsFormat, Utc};

use super::book::Closed;
use super::checkpoint::Counters;
use super::sink::{Entry, Kind, Release, Sink};
use crate::deliver::{Settled, Settlement};
use crate::map::gdpr::{GdprAction, Person, action_name};
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

/// One row as CSV bytes (with its line end).
fn encode(row: &[&str]) -> io::Result<Vec<u8>> {
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    writer.write_record(row)?;
    writer
        .into_inner()
        .map_err(|e| io::Error::other(e.to_string()))
}

/// One row of the receipt: a person's, or, without a person, an unusable entry's (outcome
/// `invalid`, no identifier, kind or status).
struct Row<'a> {
    person: Option<&'a Person>,
    action: &'a str,
    outcome: RowOutcome,
    status: Option<String>,
    reason: String,
    time: DateTime<Utc>,
    source: &'a Location,
}

impl<'a> Row<'a> {
    /// What the row counts as.
    fn outcome(&self) -> RowOutcome {
        match self.person {
            Some(_) => self.outcome,
            None => RowOutcome::Invalid,
        }
    }

    /// The cells: identifier, kind, action, outcome, status, reason, time, source.
    fn cells(&self) -> [String; 8] {
        let (shown, kind, status) = match self.person {
            Some(p) => (
                p.display(),
                p.kind.name(),
                self.status.as_deref().unwrap_or_default(),
            ),
            None => (String::new(), "", ""),
        };
        [
            shown,
            kind.to_owned(),
            self.action.to_owned(),
            self.outcome().name().to_owned(),
            status.to_owned(),
            self.reason.clone(),
            rfc3339(self.time),
            self.source.to_string(),
        ]
    }

    /// The row as CSV bytes.
    fn encode(&self) -> io::Result<Vec<u8>> {
        encode(&self.cells().each_ref().map(String::as_str))
    }

    /// The row of a settled record: a person's (the one its operation addresses), or an unusable
    /// entry's (no operation).
    fn of(settlement: &'a Settlement, action: &'a str, person: Option<&'a Person>) -> Row<'a> {
        let (outcome, status, reason) = match &settlement.result {
            _ if person.is_none() => (RowOutcome::Invalid, None, settlement.result.reason().into()),
            Settled::Accepted => (RowOutcome::Accepted, Some("2xx".to_string()), String::new()),
            Settled::Rejected { status, reason } => (
                RowOutcome::Rejected,
                status.map(|s| s.to_string()),
                reason.clone(),
            ),
            Settled::Failed { status, reason } => (
                RowOutcome::Failed,
                status.map(|s| s.to_string()),
                reason.clone(),
            ),
            Settled::Invalid { reason } | Settled::Skipped { reason } => {
                (RowOutcome::Failed, None, format!("not sent: {reason}"))
            }
        };
        Row {
            person,
            action,
            outcome,
            status,
            reason,
            time: Utc::now(),
            source: &settlement.record.location,
        }
    }
}

/// The rows of a receipt, by outcome.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Totals {
    pub accepted: u64,
    pub rejected: u64,
    pub failed: u64,
    pub invalid: u64,
}

impl Totals {
    /// The rows a ledger counted: unusable entries (and, were there any, skipped records) are
    /// invalid.
    pub(crate) fn of(counters: Counters) -> Totals {
        Totals {
            accepted: counters.accepted,
            rejected: counters.rejected,
            failed: counters.failed,
            invalid: counters.invalid + counters.skipped,
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

/// The receipt of a run that does `action`, at `path`.
#[derive(Debug)]
pub(crate) struct Receipt {
    path: PathBuf,
    action: &'static str,
}

impl Receipt {
    pub(crate) fn new(path: PathBuf, action: GdprAction) -> Receipt {
        Receipt {
            path,
            action: action_name(action),
        }
    }

    /// The person a settlement is about (none for an unusable entry: it has no operation).
    fn person(settlement: &Settlement) -> Option<Person> {
        settlement.action?;
        let body = serde_json::from_str(&settlement.record.original).ok()?;
        Person::of_operation(&body)
    }
}

impl Sink for Receipt {
    const WHAT: &'static str = "receipt";
    const FLAG: &'static str = "receipt";

    fn path(&self) -> &Path {
        &self.path
    }

    fn header() -> Option<Vec<u8>> {
        encode(&HEADER).ok()
    }

    /// In list order: what the checkpoint covers is what the file holds.
    fn release(&self) -> Release {
        Release::AtWatermark
    }

    /// The row, counted as its outcome says (a person not sent is failed, whatever stopped it).
    fn entry(&self, settlement: &Settlement) -> io::Result<Entry> {
        let person = Receipt::person(settlement);
        let row = Row::of(settlement, self.action, person.as_ref());
        let kind = match row.outcome() {
            RowOutcome::Accepted => Kind::Accepted,
            RowOutcome::Rejected => Kind::Rejected,
            RowOutcome::Failed => Kind::Failed,
            RowOutcome::Invalid => Kind::Invalid,
        };
        Ok(Entry {
            kind,
            bytes: Some(row.encode()?),
        })
    }

    fn lists_unsent(&self) -> bool {
        true
    }
}

/// End the receipt of the job `ledger` closed: its trailer, with the job's counts (returned), then
/// the job marked finished when it is `complete`. A receipt is complete only with its trailer.
pub(crate) fn complete(
    ledger: &mut Closed<Receipt>,
    trailer: &Trailer,
    complete: bool,
) -> Result<Totals> {
    let counts = Totals::of(ledger.totals());
    ledger.append(&trailer_rows(trailer, counts)?)?;
    ledger.finish(complete)?;
    Ok(counts)
}

/// The trailer's `#` rows: the totals `c` and what `trailer` says.
fn trailer_rows(trailer: &Trailer, c: Totals) -> io::Result<Vec<u8>> {
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
    let mut bytes = Vec::new();
    for (key, value) in rows {
        bytes.extend(encode(&[key, value.as_str()])?);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::map::gdpr::{IdKind, operation};
    use crate::stream::RecordInfo;
    use crate::track::Action;

    fn settlement(person: Option<&Person>, result: Settled) -> Settlement {
        let location = Location {
            file: "forget.txt".into(),
            line: 7,
            part: None,
        };
        let text = person.map_or(String::new(), |p| {
            operation(GdprAction::Suppress, p).body.to_string()
        });
        Settlement {
            record: RecordInfo::built(location, 0, 3, text),
            action: person.map(|_| Action::SuppressPerson),
            result,
        }
    }

    /// The cells of the row a settlement leaves, without its time, and how it counts.
    fn row(receipt: &Receipt, s: &Settlement) -> (Vec<String>, Kind) {
        let entry = receipt.entry(s).unwrap();
        let bytes = entry.bytes.expect("every record has a row");
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(&bytes[..]);
        let record = reader.records().next().unwrap().unwrap();
        let mut cells: Vec<String> = record.iter().map(String::from).collect();
        assert!(cells[6].ends_with('Z'), "{cells:?}");
        cells.remove(6);
        (cells, entry.kind)
    }

    #[test]
    fn every_settlement_is_one_row_of_the_person_its_operation_addresses() {
        let receipt = Receipt::new("r.csv".into(), GdprAction::Suppress);
        let ada = Person::new(IdKind::CioId, "a3000001");
        let cases = [
            (
                settlement(Some(&ada), Settled::Accepted),
                "cio_a3000001,cio_id,suppress,accepted,2xx,,forget.txt:7",
                Kind::Accepted,
            ),
            (
                settlement(
                    Some(&ada),
                    Settled::Rejected {
                        status: Some(400),
                        reason: "bad".into(),
                    },
                ),
                "cio_a3000001,cio_id,suppress,rejected,400,bad,forget.txt:7",
                Kind::Rejected,
            ),
            (
                settlement(
                    Some(&ada),
                    Settled::Failed {
                        status: None,
                        reason: "not sent: interrupted (Ctrl-C)".into(),
                    },
                ),
                "cio_a3000001,cio_id,suppress,failed,,not sent: interrupted (Ctrl-C),forget.txt:7",
                Kind::Failed,
            ),
            (
                settlement(
                    None,
                    Settled::Invalid {
                        reason: "id is 151 bytes".into(),
                    },
                ),
                ",,suppress,invalid,,id is 151 bytes,forget.txt:7",
                Kind::Invalid,
            ),
        ];
        for (s, expected, kind) in cases {
            let (cells, got) = row(&receipt, &s);
            assert_eq!(cells.join(","), expected);
            assert_eq!(got, kind, "{expected}");
        }
        assert_eq!(
            Receipt::header().unwrap(),
            b"identifier,kind,action,outcome,http_status,reason,time,source\n"
        );
        assert!(receipt.lists_unsent() && receipt.release() == Release::AtWatermark);
    }

    #[test]
    fn the_trailer_counts_what_the_ledger_counted() {
        let counters = Counters {
            read: 9,
            accepted: 5,
            rejected: 1,
            skipped: 1,
            invalid: 1,
            failed: 1,
        };
        let totals = Totals::of(counters);
        assert_eq!((totals.people(), totals.invalid), (7, 2));
    }
}
