//! People lists, the inputs of GDPR runs: files or standard input, opened by the one opener
//! ([`super::open::given`]: the same checks, gzip or zstd told by content, as for event files);
//! plain text, CSV or NDJSON by extension or `--list-format`; one entry at a time with its
//! `FILE:LINE`, as read. Which person an entry names is the mapping's business (`map::gdpr`).

use std::io::{self, BufRead, BufReader, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::csv_records::{CsvRecords, Next};
use super::open::{Kind, Origin, given};
use super::{Location, parse_event};
use crate::exit::usage;

/// A line longer than this is malformed (no identifier or list entry comes near it).
pub(crate) const MAX_LINE_BYTES: usize = 1 << 20;

/// The CSV columns tried, in this order, when `--column` is not given.
pub(crate) const DEFAULT_COLUMNS: [&str; 4] = ["userId", "id", "email", "cio_id"];

/// What a CSV column holds, as its name says (the column of an entry read from a text line is
/// [`Field::Rule`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    /// A bare identifier (`userId`, `id`, a plain-text line, a `--column`): `cio_` prefix → cio_id,
    /// email-shaped → email, else id.
    Rule,
    /// An `email` column: must look like an address.
    Email,
    /// A `cio_id` column: a cio_id, with or without its `cio_` prefix.
    CioId,
}

/// What one entry of a list holds, as read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Said {
    /// A comment line of a text list, or a blank line of an NDJSON list.
    Blank,
    /// A text line or a CSV cell, and what it holds.
    Text(String, Field),
    /// An NDJSON line's object.
    Object(Map<String, Value>),
    /// An entry that cannot be read; the message says why and what to do.
    Unreadable(String),
}

/// One entry of a list.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// Which list (0-based, in command-line order).
    pub input: usize,
    pub location: Location,
    pub said: Said,
}

/// How a list is read: one identifier per line, a CSV with a column, or NDJSON objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListFormat {
    Text,
    Csv,
    Ndjson,
}

impl ListFormat {
    /// The name `--list-format` gives it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            ListFormat::Text => "text",
            ListFormat::Csv => "csv",
            ListFormat::Ndjson => "ndjson",
        }
    }
}

/// One list to read: a file, or standard input held in memory (it is read twice: once to count and
/// check, once to send).
#[derive(Debug, Clone)]
pub(crate) struct List {
    /// The path as given, or `-`.
    pub name: Arc<str>,
    pub format: ListFormat,
    origin: Origin,
}

/// Check and name every list ([`given`]'s refusals, usage errors); reads standard input (`-` or no
/// file) into memory.
pub(crate) fn open(files: &[PathBuf], format: Option<ListFormat>) -> Result<Vec<List>> {
    let mut lists = Vec::with_capacity(files.len().max(1));
    for given in given(files, Kind::Lists)? {
        let (format, origin) = match given.origin {
            Origin::File(path) => (format.unwrap_or(format_of(&path).0), Origin::File(path)),
            _ => {
                if io::stdin().is_terminal() {
                    return Err(usage(
                        "no list: give a list FILE, or pipe one into standard input (reading a list \
                         typed at the terminal would leave no way to answer the confirmation)",
                    ));
                }
                let mut bytes = Vec::new();
                io::stdin()
                    .lock()
                    .read_to_end(&mut bytes)
                    .map_err(|e| usage(format!("reading the list from standard input: {e}")))?;
                (
                    format.unwrap_or(ListFormat::Text),
                    Origin::Held(bytes.into()),
                )
            }
        };
        lists.push(List {
            name: given.name,
            format,
            origin,
        });
    }
    Ok(lists)
}

/// Refuse a `--column` that a list would ignore: only CSV lists have columns.
pub(crate) fn check_column(lists: &[List], column: Option<&str>) -> Result<()> {
    match (column, lists.iter().find(|l| l.format != ListFormat::Csv)) {
        (Some(c), Some(list)) => Err(usage(format!(
            "--column {c}: {} is a {} list, which has no columns (only CSV lists do): drop \
             --column, or give the list as CSV (--list-format csv)",
            list.name,
            list.format.name()
        ))),
        _ => Ok(()),
    }
}

/// The format an extension names (`.csv`, `.ndjson`/`.jsonl`/`.json`, anything else is text), and
/// whether the name says it is compressed (`.gz`, `.zst`, `.zstd`; the content decides when read).
pub(crate) fn format_of(path: &Path) -> (ListFormat, bool) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let (stem, compressed) = super::open::strip_compression(&name);
    let format = match stem.rsplit_once('.').map(|(_, ext)| ext) {
        Some("csv") => ListFormat::Csv,
        Some("ndjson" | "jsonl" | "json") => ListFormat::Ndjson,
        _ => ListFormat::Text,
    };
    (format, compressed)
}

impl List {
    /// Feed the list's bytes as stored into `hasher`; returns how many there were.
    pub(crate) fn hash_into(&self, hasher: &mut Sha256) -> Result<u64> {
        let mut raw = self
            .origin
            .stored()
            .with_context(|| format!("{}: cannot open the list", self.name))?;
        let mut buf = vec![0u8; 64 * 1024];
        let mut total = 0u64;
        loop {
            let n = match raw.read(&mut buf) {
                Ok(0) => return Ok(total),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(e).with_context(|| format!("{}: reading the list", self.name));
                }
            };
            hasher.update(&buf[..n]);
            total += n as u64;
        }
    }

    fn reader(&self) -> Result<Box<dyn BufRead>> {
        let stored = self
            .origin
            .stored()
            .with_context(|| format!("{}: cannot open the list", self.name))?;
        let (_, decoded) = super::compression::decoded(stored, Arc::new(AtomicU64::new(0)))
            .with_context(|| format!("{}: reading the list", self.name))?;
        Ok(Box::new(BufReader::with_capacity(64 * 1024, decoded)))
    }

    /// The entries of this list, in order. `input` is its 0-based position on the command line.
    /// An entry that cannot be read is an `Entry` with [`Said::Unreadable`]; only I/O failures
    /// (and a CSV without the column) are errors.
    pub(crate) fn entries(&self, input: usize, column: Option<&str>) -> Result<Entries> {
        let reader = self.reader()?;
        let inner = match self.format {
            ListFormat::Text | ListFormat::Ndjson => Inner::Lines(Lines {
                reader,
                line: 0,
                buf: Vec::new(),
            }),
            ListFormat::Csv => {
                let mut records = CsvRecords::new(reader, MAX_LINE_BYTES);
                let headers: Vec<Vec<u8>> = match records
                    .next()
                    .with_context(|| format!("{}: reading the list", self.name))?
                {
                    Next::Record => records.iter().map(<[u8]>::to_vec).collect(),
                    Next::End => Vec::new(),
                    Next::TooLong { .. } => bail!(
                        "{}: the CSV header is above the {MAX_LINE_BYTES}-byte limit; is this a CSV list with a header row?",
                        self.name
                    ),
                };
                match pick_column(&headers, column) {
                    Ok(Some((index, field))) => Inner::Csv {
                        records,
                        index,
                        field,
                        columns: headers.len(),
                    },
                    // An empty file has no header and no entries.
                    Ok(None) => Inner::Done,
                    Err(why) => bail!("{}: {why}", self.name),
                }
            }
        };
        Ok(Entries {
            name: Arc::clone(&self.name),
            input,
            format: self.format,
            inner,
        })
    }
}

/// The column to read and how its values are taken; `None` for a file without any header.
fn pick_column(
    headers: &[Vec<u8>],
    column: Option<&str>,
) -> std::result::Result<Option<(usize, Field)>, String> {
    let names: Vec<String> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let h = String::from_utf8_lossy(h);
            let h = if i == 0 {
                h.trim_start_matches('\u{feff}')
            } else {
                &h
            };
            h.trim().to_string()
        })
        .collect();
    if names.is_empty() || (names.len() == 1 && names[0].is_empty()) {
        return Ok(None);
    }
    let find = |wanted: &str| {
        names
            .iter()
            .position(|n| n == wanted)
            .or_else(|| names.iter().position(|n| n.eq_ignore_ascii_case(wanted)))
    };
    let index = match column {
        Some(wanted) => find(wanted).ok_or_else(|| {
            format!("no column named {wanted:?} (the header has: {})", names.join(", "))
        })?,
        None => DEFAULT_COLUMNS.iter().find_map(|c| find(c)).ok_or_else(|| {
            format!(
                "no column named userId, id, email or cio_id (the header has: {}); name the column \
                 with --column NAME (a header row is required)",
                names.join(", ")
            )
        })?,
    };
    let field = match names[index].to_ascii_lowercase().as_str() {
        "email" => Field::Email,
        "cio_id" => Field::CioId,
        _ => Field::Rule,
    };
    Ok(Some((index, field)))
}

/// The entries of one list.
pub(crate) struct Entries {
    name: Arc<str>,
    input: usize,
    format: ListFormat,
    inner: Inner,
}

enum Inner {
    Lines(Lines),
    Csv {
        records: CsvRecords<Box<dyn BufRead>>,
        index: usize,
        field: Field,
        /// Cells in the header: every row must have as many.
        columns: usize,
    },
    Done,
}

struct Lines {
    reader: Box<dyn BufRead>,
    line: u64,
    buf: Vec<u8>,
}

impl Lines {
    /// The next line without its ending; `Err(len)` when it is over [`MAX_LINE_BYTES`].
    fn next(&mut self) -> io::Result<Option<std::result::Result<&[u8], usize>>> {
        self.buf.clear();
        let mut len = 0usize;
        let mut any = false;
        loop {
            let chunk = match self.reader.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                break;
            }
            any = true;
            let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            len += take;
            if len <= MAX_LINE_BYTES + 2 {
                self.buf.extend_from_slice(&chunk[..take]);
            }
            self.reader.consume(take);
            if done {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        self.line += 1;
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
            len -= 1;
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
                len -= 1;
            }
        }
        if len > MAX_LINE_BYTES {
            return Ok(Some(Err(len)));
        }
        let mut text = &self.buf[..];
        if self.line == 1 {
            text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
        }
        Ok(Some(Ok(text)))
    }
}

impl Iterator for Entries {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Result<Entry>> {
        let (line, said) = match &mut self.inner {
            Inner::Done => return None,
            Inner::Lines(lines) => match lines.next() {
                Err(e) => {
                    self.inner = Inner::Done;
                    return Some(Err(
                        anyhow::Error::new(e).context(format!("{}: reading the list", self.name))
                    ));
                }
                Ok(None) => {
                    self.inner = Inner::Done;
                    return None;
                }
                Ok(Some(Err(len))) => (
                    lines.line,
                    Said::Unreadable(format!(
                        "line is {len} bytes, above the {MAX_LINE_BYTES}-byte limit for one entry"
                    )),
                ),
                Ok(Some(Ok(bytes))) => {
                    let said = line_entry(bytes, self.format);
                    (lines.line, said)
                }
            },
            Inner::Csv {
                records,
                index,
                field,
                columns,
            } => match records.next() {
                Ok(Next::End) => {
                    self.inner = Inner::Done;
                    return None;
                }
                Ok(Next::Record) if records.len() != *columns => (
                    records.line(),
                    Said::Unreadable(format!(
                        "CSV row has {} fields but the header has {columns}: fix the row \
                         (quote cells that hold commas)",
                        records.len()
                    )),
                ),
                Ok(Next::Record) => {
                    let cell = records.get(*index).unwrap_or_default();
                    let said = match std::str::from_utf8(cell) {
                        Ok(text) => Said::Text(text.to_owned(), *field),
                        Err(e) => not_utf8(e),
                    };
                    (records.line(), said)
                }
                Ok(Next::TooLong { .. }) => (
                    records.line(),
                    Said::Unreadable(format!(
                        "CSV row is above the {MAX_LINE_BYTES}-byte limit for one entry (its cells, \
                         from this line on): fix the row, or close the quote that opens it"
                    )),
                ),
                Err(e) => {
                    self.inner = Inner::Done;
                    return Some(Err(
                        anyhow::Error::new(e).context(format!("{}: reading the list", self.name))
                    ));
                }
            },
        };
        Some(Ok(Entry {
            input: self.input,
            location: Location {
                part: None,
                file: Arc::clone(&self.name),
                line,
            },
            said,
        }))
    }
}

fn not_utf8(e: std::str::Utf8Error) -> Said {
    Said::Unreadable(format!(
        "not valid UTF-8 at byte {}: re-encode the list as UTF-8",
        e.valid_up_to()
    ))
}

/// One line of a text or NDJSON list. Text: a line whose first non-blank character is `#` is a
/// comment.
fn line_entry(bytes: &[u8], format: ListFormat) -> Said {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => return not_utf8(e),
    };
    match format {
        ListFormat::Ndjson => {
            if text.trim().is_empty() {
                return Said::Blank;
            }
            match parse_event(text) {
                Ok(Value::Object(object)) => Said::Object(object),
                Ok(_) => Said::Unreadable("a line must be a JSON object".into()),
                Err(e) => Said::Unreadable(e.to_string()),
            }
        }
        _ if text.trim_start().starts_with('#') => Said::Blank,
        _ => Said::Text(text.to_owned(), Field::Rule),
    }
}

/// Hex SHA-256 of all lists' bytes as stored, concatenated in order, and their total size.
pub(crate) fn digest(lists: &[List]) -> Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut bytes = 0;
    for list in lists {
        bytes += list.hash_into(&mut hasher)?;
    }
    Ok((super::fingerprint::hex(&hasher.finalize()), bytes))
}
