//! Reading inputs: event files (NDJSON, JSON arrays, CSV, Parquet) and GDPR people lists, from
//! files, folders or stdin, gzip or zstd by content. Every record carries its location from here
//! to the dead-letter file or the receipt.
//!
//! - [`open`]: the one opener: check every input up front (missing, unreadable, a folder, an
//!   unknown format, a bad CSV header are usage errors), then open each lazily, decoded by
//!   content, its bytes counted.
//! - [`list`]: people lists (text, CSV with a column, NDJSON), one entry at a time.
//! - [`fingerprint`]: what identifies an input file between runs (size, hash of its head).
//! - `walk`: folders walked (sorted, known extensions, no hidden entries) and `--files-from` lists
//!   read into the list of files.
//! - `compression`: gzip and zstd told by their magic bytes; decoding errors name their offsets.
//! - [`ndjson`]: one JSON object per line; blank lines ignored; a UTF-8 BOM and CRLF tolerated;
//!   invalid UTF-8, malformed JSON, non-objects and lines above [`MAX_LINE_BYTES`] are invalid records.
//! - `json_array`: one top-level array of objects, split element by element in flat memory.
//! - [`csv`]: dotted-path headers with `:number` / `:bool` / `:json` suffixes; a record above
//!   [`MAX_LINE_BYTES`] is an invalid record, found in flat memory by `csv_records`.
//! - [`value`]: the JSON parser, building objects at their exact size.
//!
//! Dead-letter read-back: an NDJSON line shaped `{"dead_letter": {...}, "event": {...}}` (what `send`
//! writes for invalid and rejected records) is read as its `event`, so a fixed dead-letter file can be
//! sent again directly. A line `{"dead_letter": {...}, "raw": "<text>"}` (written for a record
//! that could not be read) is read as if `<text>` were the line, so a fixed `raw` is picked up too;
//! one `{"dead_letter": {...}, "raw_base64": "<base64>"}` (a line that was not UTF-8) as if the
//! decoded bytes were the line: still not UTF-8, it is the same invalid record again, never a
//! U+FFFD replacement. In all three the record's `original` stays the whole dead-letter line: the
//! dead-letter writer takes the event (or text, or bytes) out of it, and its first `source`.

pub(crate) mod compression;
pub(crate) mod csv;
pub(crate) mod csv_records;
pub mod fingerprint;
pub(crate) mod json_array;
pub(crate) mod list;
pub(crate) mod ndjson;
pub(crate) mod open;
pub(crate) mod parquet;
pub(crate) mod value;
pub(crate) mod walk;

pub(crate) use open::{Inputs, Progress};
pub(crate) use walk::expand;

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use serde_json::Value;

/// How an input file is read, when its extension does not say (or to override it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// One JSON object per line.
    Ndjson,
    /// JSON: one top-level array of objects when the first byte that is not whitespace is `[`,
    /// else NDJSON (what `.json` files are).
    Json,
    Csv,
    /// Parquet (a file, not stdin): each row one record.
    Parquet,
}

/// Where a record came from: `FILE:LINE` (for CSV, the line the record starts on), `FILE:LINE#K`
/// for the `K`-th of several records a transform made of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Location {
    /// The input's display name (the path as given, or `-` for stdin).
    pub file: Arc<str>,
    /// 1-based line number.
    pub line: u64,
    /// Which of the records a transform made of this one (1-based), when it made several.
    pub part: Option<u32>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)?;
        match self.part {
            Some(part) => write!(f, "#{part}"),
            None => Ok(()),
        }
    }
}

/// One record read from an input.
#[derive(Debug, Clone)]
pub struct Record {
    pub location: Location,
    /// Which input (0-based, in the order given on the command line).
    pub input: usize,
    /// 0-based number of the record within its input (blank lines are not records).
    pub index: u64,
    /// The original text: the NDJSON line (without BOM and line ending), or for CSV the typed event
    /// as compact JSON. For a line that is not UTF-8, a lossy rendering (its exact bytes are in
    /// the [`InputError::InvalidUtf8`]).
    pub original: String,
    /// The parsed event, or why it could not be read.
    pub event: Result<Value, InputError>,
}

impl Record {
    /// Whether this record stands for a read error that cut its input short.
    pub(crate) fn is_read_error(&self) -> bool {
        matches!(self.event, Err(InputError::Io { .. }))
    }
}

/// A record as read, its JSON not yet parsed: parsing is the costliest step of a record, so the
/// pipeline's workers do it ([`Unparsed::parse`]) while one thread only reads lines.
#[derive(Debug)]
pub(crate) struct Unparsed {
    pub location: Location,
    pub input: usize,
    pub index: u64,
    body: Body,
}

#[derive(Debug)]
enum Body {
    /// An NDJSON line: UTF-8, without BOM or line ending, within the line limit.
    Line(String),
    /// Already read (CSV records) or not readable.
    Read(String, Result<Value, InputError>),
    /// A Parquet row, still to be made an event and written as text.
    Row(Box<parquet::ParquetRow>),
}

impl Unparsed {
    /// An NDJSON line to parse.
    pub(crate) fn line(location: Location, input: usize, index: u64, text: String) -> Unparsed {
        Unparsed {
            location,
            input,
            index,
            body: Body::Line(text),
        }
    }

    /// A record whose event is already known (parsed, or why it could not be read).
    pub(crate) fn read(record: Record) -> Unparsed {
        Unparsed {
            location: record.location,
            input: record.input,
            index: record.index,
            body: Body::Read(record.original, record.event),
        }
    }

    /// A Parquet row: the worker that parses it makes it an event and its text (a text above
    /// the row's byte limit makes it an invalid record).
    pub(crate) fn row(
        location: Location,
        input: usize,
        index: u64,
        row: parquet::ParquetRow,
    ) -> Unparsed {
        Unparsed {
            location,
            input,
            index,
            body: Body::Row(Box::new(row)),
        }
    }

    /// The length of the text still to parse (0 when read already): what a chunk of records holds.
    pub(crate) fn text_len(&self) -> usize {
        match &self.body {
            Body::Line(text) => text.len(),
            Body::Read(original, _) => original.len(),
            Body::Row(row) => row.text_len(),
        }
    }

    /// Parse the line into its event (a dead letter read back is unwrapped: see the module doc).
    pub(crate) fn parse(self) -> Record {
        let (original, event) = match self.body {
            Body::Read(original, event) => (original, event),
            Body::Line(text) => parse_line(text),
            Body::Row(row) => {
                let max_bytes = row.max_bytes();
                let event = match row.into_event() {
                    Ok(event) => event,
                    Err(error) => {
                        return self::Record {
                            location: self.location,
                            input: self.input,
                            index: self.index,
                            original: String::new(),
                            event: Err(error),
                        };
                    }
                };
                let original = event.to_string();
                match original.len() > max_bytes {
                    true => {
                        let bytes = original.len();
                        let mut prefix = original;
                        let mut cut = max_bytes.min(csv_records::PREFIX_BYTES);
                        while !prefix.is_char_boundary(cut) {
                            cut -= 1;
                        }
                        prefix.truncate(cut);
                        prefix.push('…');
                        let error = InputError::RowTooLong {
                            bytes,
                            limit: max_bytes,
                        };
                        (prefix, Err(error))
                    }
                    false => (original, Ok(event)),
                }
            }
        };
        Record {
            location: self.location,
            input: self.input,
            index: self.index,
            original,
            event,
        }
    }
}

/// An NDJSON line's original text and event. A dead letter read back keeps the whole line as its
/// original: the dead-letter writer takes the event out of it verbatim. One whose record was
/// unreadable carries the original text in `raw` (or its bytes in `raw_base64`), which is read as
/// the line it was.
fn parse_line(text: String) -> (String, Result<Value, InputError>) {
    match parse_event(&text) {
        Ok(event) if event.get("dead_letter").is_some() => match dead_letter_line(&event) {
            Some(DeadLine::Raw(raw)) => {
                let event = parse_event(raw);
                (text, event)
            }
            Some(DeadLine::Base64(encoded)) => {
                let event = match base64::engine::general_purpose::STANDARD.decode(encoded) {
                    Ok(bytes) => match String::from_utf8(bytes) {
                        Ok(line) => parse_event(&line),
                        Err(e) => Err(InputError::InvalidUtf8 {
                            offset: e.utf8_error().valid_up_to(),
                            bytes: Arc::from(e.into_bytes()),
                        }),
                    },
                    Err(e) => Err(InputError::DeadLetter {
                        message: format!("raw_base64 is not base64 ({e})"),
                    }),
                };
                (text, event)
            }
            None => (text, Ok(unwrap_dead_letter(event))),
        },
        result => (text, result),
    }
}

/// The line a dead letter written for an unreadable record stands for.
enum DeadLine<'a> {
    /// `{"dead_letter": {...}, "raw": "<the line>"}`
    Raw(&'a str),
    /// `{"dead_letter": {...}, "raw_base64": "<the line's bytes>"}` (a line that was not UTF-8)
    Base64(&'a str),
}

fn dead_letter_line(event: &Value) -> Option<DeadLine<'_>> {
    let map = event.as_object()?;
    if map.len() != 2 || !map.get("dead_letter")?.is_object() {
        return None;
    }
    match (map.get("raw"), map.get("raw_base64")) {
        (Some(Value::String(raw)), None) => Some(DeadLine::Raw(raw)),
        (None, Some(Value::String(encoded))) => Some(DeadLine::Base64(encoded)),
        _ => None,
    }
}

/// Why a record could not be read as an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// `bytes`: the line (or array element) exactly as read, for its dead letter.
    #[error("not valid UTF-8 at byte {offset}: re-encode the file as UTF-8")]
    InvalidUtf8 { offset: usize, bytes: Arc<[u8]> },
    /// A dead-letter line read back whose record cannot be recovered from it.
    #[error("dead letter: {message}; fix the line or remove it")]
    DeadLetter { message: String },
    #[error("malformed JSON: {message}; fix the line or remove it")]
    Json { message: String },
    #[error("a record must be a JSON object, not {found}; put one event object on each line")]
    NotAnObject { found: &'static str },
    #[error(
        "line is {bytes} bytes, above the {limit}-byte limit for one record; shorten or split it"
    )]
    TooLong { bytes: usize, limit: usize },
    #[error("array element is not an object but {found}; each element must be one event object")]
    ElementNotAnObject { found: &'static str },
    #[error(
        "array element is {bytes} bytes (without whitespace), above the {limit}-byte limit for one record; shorten or split it"
    )]
    ElementTooLong { bytes: usize, limit: usize },
    #[error(
        "row is {bytes} bytes as JSON, above the {limit}-byte limit for one record; shorten its cells"
    )]
    RowTooLong { bytes: usize, limit: usize },
    /// A Parquet row whose values could not be made JSON.
    #[error("{message}; the file may be corrupt, re-export it")]
    Convert { message: String },
    #[error("CSV: {message}")]
    Csv { message: String },
    /// A CSV cell that does not parse as its column's type.
    #[error("{message}")]
    Cell { column: String, message: String },
    /// Reading failed (I/O, decompression, or a JSON array that cannot be split any further); the
    /// rest of that input is not read.
    #[error(
        "read error: {message}; the rest of this input was not read, fix or re-export the file"
    )]
    Io { message: String },
}

impl InputError {
    /// The event field at fault, as a dotted path, when there is one (CSV cells).
    pub(crate) fn field(&self) -> Option<&str> {
        match self {
            InputError::Cell { column, .. } => Some(column),
            _ => None,
        }
    }
}

/// The longest NDJSON line read as a record (1 MiB), and the most cell bytes (plus one per cell) of
/// one CSV record; a longer one is an invalid record and is skipped without being buffered. Customer.io takes at most 32,000 bytes per operation, so no
/// valid record comes near it, and it bounds the memory one record can take while it is parsed
/// (up to about 50 times the line for lines made of very many tiny values; docs/reliability.md).
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

/// Unwrap a dead-letter line (`{"dead_letter": {...}, "event": {<object>}}`) to its event; any other
/// event is returned as it is.
pub(crate) fn unwrap_dead_letter(event: Value) -> Value {
    match event {
        Value::Object(mut map)
            if map.len() == 2
                && map.get("dead_letter").is_some_and(Value::is_object)
                && map.get("event").is_some_and(Value::is_object) =>
        {
            map.remove("event").unwrap_or(Value::Null)
        }
        other => other,
    }
}

/// Parse one NDJSON line (already known to be UTF-8, without BOM or line ending) into an event.
/// This is THE JSON parser for input records; the conformance suite uses it too.
pub fn parse_event(text: &str) -> Result<Value, InputError> {
    let value = value::from_str(text).map_err(|e| InputError::Json {
        message: e.to_string(),
    })?;
    match value {
        Value::Object(_) => Ok(value),
        Value::Array(_) => Err(InputError::NotAnObject { found: "an array" }),
        Value::String(_) => Err(InputError::NotAnObject { found: "a string" }),
        Value::Number(_) => Err(InputError::NotAnObject { found: "a number" }),
        Value::Bool(_) => Err(InputError::NotAnObject { found: "a boolean" }),
        Value::Null => Err(InputError::NotAnObject { found: "null" }),
    }
}
