//! Reading records: files or stdin, NDJSON or CSV, gzip by extension. Every record carries its
//! location from here to the dead-letter file.

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

/// Where a record came from: `FILE:LINE` (for CSV, the line the record starts on).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Location {
    /// The input's display name (the path as given, or `-` for stdin).
    pub file: Arc<str>,
    /// 1-based line number.
    pub line: u64,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
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
    /// as compact JSON. For a line that is not UTF-8, a lossy rendering.
    pub original: String,
    /// The parsed event, or why it could not be read.
    pub event: Result<Value, InputError>,
}

/// Why a record could not be read as an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("not valid UTF-8 at byte {offset}: re-encode the file as UTF-8")]
    InvalidUtf8 { offset: usize },
    #[error("malformed JSON: {message}")]
    Json { message: String },
    #[error("a record must be a JSON object, not {found}")]
    NotAnObject { found: &'static str },
    #[error("line is {bytes} bytes, above the {limit}-byte limit for one record")]
    TooLong { bytes: usize, limit: usize },
    #[error("CSV: {message}")]
    Csv { message: String },
}

/// Parse one NDJSON line (already known to be UTF-8, without BOM or line ending) into an event.
/// This is THE JSON parser for input records; the conformance suite uses it too.
pub fn parse_event(text: &str) -> Result<Value, InputError> {
    let value: Value = serde_json::from_str(text).map_err(|e| InputError::Json {
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
