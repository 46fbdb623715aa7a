//! CSV records: a header of dotted paths into the event (`traits.email`), optional type suffixes
//! (`:number`, `:bool`, `:json`; strings otherwise), empty cells absent, ragged rows invalid.

use std::io::{BufReader, Read};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::csv_records::{CsvRecords, Next};
use super::{InputError, Location, Record};

const BUFFER_BYTES: usize = 64 * 1024;

/// How a column's cells are typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    String,
    Number,
    Bool,
    Json,
}

/// One header column: its name as written, and the path and type it declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Column {
    pub name: String,
    pub path: Vec<String>,
    pub kind: Kind,
}

/// Parse a header row. Errors name the column and what to do (a configuration error: exit 2).
pub(crate) fn parse_header(names: &[String]) -> Result<Vec<Column>, String> {
    let mut columns = Vec::with_capacity(names.len());
    for (i, raw) in names.iter().enumerate() {
        let name = raw.trim();
        let number = i + 1;
        let (path, kind) = match name.rsplit_once(':') {
            None => (name, Kind::String),
            Some((path, suffix)) => {
                let kind = match suffix {
                    "number" => Kind::Number,
                    "bool" => Kind::Bool,
                    "json" => Kind::Json,
                    "string" => Kind::String,
                    other => {
                        return Err(format!(
                            "column {number} `{name}`: unknown type suffix `:{other}`; use :number, :bool, :json or none"
                        ));
                    }
                };
                (path, kind)
            }
        };
        if path.is_empty() {
            return Err(format!(
                "column {number} has an empty name; name every column with a dotted path such as traits.email"
            ));
        }
        let segments: Vec<String> = path.split('.').map(str::to_owned).collect();
        if segments.iter().any(String::is_empty) {
            return Err(format!(
                "column {number} `{name}`: empty segment in the dotted path; write paths like traits.email"
            ));
        }
        columns.push(Column {
            name: name.to_owned(),
            path: segments,
            kind,
        });
    }
    let mut sorted: Vec<&Column> = columns.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    for pair in sorted.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if b.path.starts_with(&a.path) {
            return Err(format!(
                "columns `{}` and `{}` conflict (the same field, or one inside the other); keep one of them",
                a.name, b.name
            ));
        }
    }
    Ok(columns)
}

/// Reads CSV records from one input, each at most the record limit (see [`super::csv_records`]).
pub(crate) struct CsvReader<R: Read> {
    records: CsvRecords<BufReader<R>>,
    columns: Vec<Column>,
    name: Arc<str>,
    input: usize,
    limit: usize,
    index: u64,
    done: bool,
}

impl<R: Read> CsvReader<R> {
    /// Read and check the header. An input with no header row at all has no records. A record
    /// whose cells pass `limit` bytes (plus one per cell) is an invalid record.
    pub(crate) fn new(read: R, name: Arc<str>, input: usize, limit: usize) -> Result<Self, String> {
        let mut records = CsvRecords::new(BufReader::with_capacity(BUFFER_BYTES, read), limit);
        let mut names = Vec::new();
        match records
            .next()
            .map_err(|e| format!("cannot read the CSV header: {e}"))?
        {
            Next::End => {}
            Next::TooLong { .. } => {
                return Err(format!(
                    "the CSV header is above the {limit}-byte limit for one record; is this a CSV file with a header row?"
                ));
            }
            Next::Record => {
                for (i, cell) in records.iter().enumerate() {
                    let name = std::str::from_utf8(cell).map_err(|_| {
                        format!(
                            "column {} name is not valid UTF-8; re-encode the file as UTF-8",
                            i + 1
                        )
                    })?;
                    names.push(name.to_owned());
                }
            }
        }
        let done = names.is_empty();
        let columns = if done {
            Vec::new()
        } else {
            parse_header(&names)?
        };
        Ok(CsvReader {
            records,
            columns,
            name,
            input,
            limit,
            index: 0,
            done,
        })
    }

    /// The next record, or `None` at the end of the input (or after a read error was reported).
    pub(crate) fn next_record(&mut self) -> Option<Record> {
        if self.done {
            return None;
        }
        match self.records.next() {
            Ok(Next::End) => {
                self.done = true;
                None
            }
            Ok(Next::Record) => {
                let line = self.records.line();
                let (original, event) = self.event();
                Some(self.record(line, original, event))
            }
            Ok(Next::TooLong { prefix }) => {
                let line = self.records.line();
                let error = InputError::Csv {
                    message: format!(
                        "record is above the {}-byte limit for one record (its cells, from this line on); shorten its cells, or close the quote that opens it",
                        self.limit
                    ),
                };
                Some(self.record(line, prefix, Err(error)))
            }
            Err(e) => {
                self.done = true;
                let line = self.records.line();
                let error = InputError::Io {
                    message: e.to_string(),
                };
                Some(self.record(line, String::new(), Err(error)))
            }
        }
    }

    /// Build the typed event of the current row.
    fn event(&self) -> (String, Result<Value, InputError>) {
        let raw = || {
            let cells: Vec<_> = self.records.iter().map(String::from_utf8_lossy).collect();
            cells.join(",")
        };
        if self.records.len() != self.columns.len() {
            let error = InputError::Csv {
                message: format!(
                    "row has {} cells but the header has {} columns; quote cells that contain commas",
                    self.records.len(),
                    self.columns.len()
                ),
            };
            return (raw(), Err(error));
        }
        let mut event = Map::new();
        for (cell, column) in self.records.iter().zip(&self.columns) {
            if cell.is_empty() {
                continue;
            }
            let value = match typed(cell, column) {
                Ok(value) => value,
                Err(message) => {
                    let column = column.path.join(".");
                    return (raw(), Err(InputError::Cell { column, message }));
                }
            };
            if let Err(message) = insert(&mut event, &column.path, value) {
                let column = column.path.join(".");
                return (raw(), Err(InputError::Cell { column, message }));
            }
        }
        let event = Value::Object(event);
        (event.to_string(), Ok(event))
    }

    fn record(&mut self, line: u64, original: String, event: Result<Value, InputError>) -> Record {
        let record = Record {
            location: Location {
                part: None,
                file: self.name.clone(),
                line,
            },
            input: self.input,
            index: self.index,
            original,
            event,
        };
        self.index += 1;
        record
    }
}

/// One cell as its column's type.
fn typed(cell: &[u8], column: &Column) -> Result<Value, String> {
    let name = &column.name;
    let text = std::str::from_utf8(cell)
        .map_err(|_| format!("column `{name}` is not valid UTF-8; re-encode the file as UTF-8"))?;
    match column.kind {
        Kind::String => Ok(Value::String(text.to_owned())),
        Kind::Number => match serde_json::from_str::<Value>(text.trim()) {
            Ok(number @ Value::Number(_)) => Ok(number),
            _ => Err(format!(
                "column `{name}`: `{}` is not a number; write digits like 42 or 9.99, or leave the cell empty",
                clip(text)
            )),
        },
        Kind::Bool => match text.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!(
                "column `{name}`: `{}` is not a boolean; write true or false, or leave the cell empty",
                clip(text)
            )),
        },
        Kind::Json => serde_json::from_str::<Value>(text).map_err(|e| {
            format!(
                "column `{name}`: not valid JSON ({e}); write a JSON value or leave the cell empty"
            )
        }),
    }
}

/// Put `value` at `path` inside `event`, creating objects on the way.
fn insert(event: &mut Map<String, Value>, path: &[String], value: Value) -> Result<(), String> {
    let Some((last, parents)) = path.split_last() else {
        return Ok(());
    };
    let mut map = event;
    for key in parents {
        let slot = map
            .entry(key.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        map = match slot {
            Value::Object(inner) => inner,
            _ => return Err(format!("`{key}` is not an object; rename the column")),
        };
    }
    map.insert(last.clone(), value);
    Ok(())
}

/// At most 60 characters of a cell, for messages.
fn clip(text: &str) -> String {
    let mut out: String = text.chars().take(60).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(names: &[&str]) -> Result<Vec<Column>, String> {
        parse_header(&names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn header_rejects_conflicts_suffixes_and_empty_names() {
        assert!(header(&["a", "a.b"]).is_err());
        assert!(header(&["a.b", "x", "a"]).is_err());
        assert!(header(&["a", "a"]).is_err());
        assert!(header(&["a:float"]).is_err());
        assert!(header(&["a", ""]).is_err());
        assert!(header(&["a..b"]).is_err());
        assert!(header(&["a.b", "a.c", "ab"]).is_ok());
    }

    #[test]
    fn rows_are_typed_and_located() {
        let text = "type,traits.age:number,traits.vip:bool,traits.tags:json,traits.note\n\
                    identify,42,true,\"[1,2]\",\"two\nlines\"\n\
                    identify,x,,,\n\
                    identify,1\n";
        let mut reader = CsvReader::new(text.as_bytes(), Arc::from("t.csv"), 0, 1000).unwrap();
        let first = reader.next_record().unwrap();
        assert_eq!(first.location.line, 2);
        assert_eq!(
            first.event.unwrap(),
            serde_json::json!({"type":"identify","traits":{"age":42,"vip":true,"tags":[1,2],"note":"two\nlines"}})
        );
        let second = reader.next_record().unwrap();
        assert_eq!(second.location.line, 4);
        assert_eq!(second.event.unwrap_err().field(), Some("traits.age"));
        let third = reader.next_record().unwrap();
        assert!(matches!(third.event, Err(InputError::Csv { .. })));
        assert!(reader.next_record().is_none());
    }
}
