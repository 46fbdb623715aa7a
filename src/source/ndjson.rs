//! NDJSON records: one JSON object per line, read with one reused byte buffer so that invalid
//! UTF-8 or an over-long line is one invalid record, never a crash or an unbounded allocation.

use std::io::{BufRead, ErrorKind};
use std::sync::Arc;

use super::{InputError, Location, Record, Unparsed};

const BOM: &[u8] = b"\xEF\xBB\xBF";
/// Above this capacity the line buffer is shrunk back after use, so one long line does not keep
/// its memory for the rest of the run.
const KEEP_CAPACITY: usize = 1024 * 1024;

/// Reads NDJSON records from one input.
pub(crate) struct NdjsonReader<R> {
    reader: R,
    name: Arc<str>,
    input: usize,
    max_line_bytes: usize,
    line: u64,
    index: u64,
    buf: Vec<u8>,
    done: bool,
}

/// One physical line as read: its bytes (cleared when over the limit), its full length, and whether
/// it ended the input with a read error.
enum Line {
    Eof,
    Text { total: usize, overflow: bool },
    Failed(String),
}

impl<R: BufRead> NdjsonReader<R> {
    pub(crate) fn new(reader: R, name: Arc<str>, input: usize, max_line_bytes: usize) -> Self {
        NdjsonReader {
            reader,
            name,
            input,
            max_line_bytes,
            line: 0,
            index: 0,
            buf: Vec::with_capacity(8 * 1024),
            done: false,
        }
    }

    /// The next record, its line not yet parsed, or `None` at the end of the input (or after a read
    /// error was reported).
    pub(crate) fn next_record(&mut self) -> Option<Unparsed> {
        if self.done {
            return None;
        }
        loop {
            if self.buf.capacity() > KEEP_CAPACITY {
                self.buf = Vec::with_capacity(8 * 1024);
            }
            self.buf.clear();
            match self.read_line() {
                Line::Eof => {
                    self.done = true;
                    return None;
                }
                Line::Failed(message) => {
                    self.done = true;
                    self.line += 1;
                    return Some(self.record(String::new(), Err(InputError::Io { message })));
                }
                Line::Text { total, overflow } => {
                    self.line += 1;
                    if let Some(record) = self.finish_line(total, overflow) {
                        return Some(record);
                    }
                }
            }
        }
    }

    /// Read up to and including the next `\n` into `buf`, keeping at most the limit (plus the line
    /// ending) in memory.
    fn read_line(&mut self) -> Line {
        let keep = self.max_line_bytes.saturating_add(3);
        let mut total = 0usize;
        let mut overflow = false;
        let mut any = false;
        let mut ended = false;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Line::Failed(e.to_string()),
            };
            if available.is_empty() {
                break;
            }
            any = true;
            let (len, newline) = match memchr::memchr(b'\n', available) {
                Some(i) => (i + 1, true),
                None => (available.len(), false),
            };
            total = total.saturating_add(len);
            if !overflow {
                if self.buf.len() + len > keep {
                    overflow = true;
                    self.buf = Vec::new();
                } else {
                    self.buf.extend_from_slice(&available[..len]);
                }
            }
            self.reader.consume(len);
            if newline {
                ended = true;
                break;
            }
        }
        if any {
            let total = total - usize::from(ended);
            Line::Text { total, overflow }
        } else {
            Line::Eof
        }
    }

    /// Turn the line in `buf` into a record; `None` for a blank line.
    fn finish_line(&mut self, total: usize, overflow: bool) -> Option<Unparsed> {
        if overflow {
            let error = InputError::TooLong {
                bytes: total,
                limit: self.max_line_bytes,
            };
            return Some(self.record(String::new(), Err(error)));
        }
        let mut text: &[u8] = &self.buf;
        if let Some(rest) = text.strip_suffix(b"\n") {
            text = rest;
        }
        if let Some(rest) = text.strip_suffix(b"\r") {
            text = rest;
        }
        if self.line == 1
            && let Some(rest) = text.strip_prefix(BOM)
        {
            text = rest;
        }
        if text.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        if text.len() > self.max_line_bytes {
            let error = InputError::TooLong {
                bytes: text.len(),
                limit: self.max_line_bytes,
            };
            return Some(self.record(String::new(), Err(error)));
        }
        match std::str::from_utf8(text) {
            Err(e) => {
                let original = String::from_utf8_lossy(text).into_owned();
                let error = InputError::InvalidUtf8 {
                    offset: e.valid_up_to(),
                    bytes: Arc::from(text),
                };
                Some(self.record(original, Err(error)))
            }
            Ok(s) => {
                let line = Unparsed::line(self.location(), self.input, self.index, s.to_owned());
                self.index += 1;
                Some(line)
            }
        }
    }

    fn location(&self) -> Location {
        Location {
            part: None,
            file: self.name.clone(),
            line: self.line,
        }
    }

    /// An unreadable line (its error) as a record.
    fn record(
        &mut self,
        original: String,
        error: Result<serde_json::Value, InputError>,
    ) -> Unparsed {
        let record = Record {
            location: self.location(),
            input: self.input,
            index: self.index,
            original,
            event: error,
        };
        self.index += 1;
        Unparsed::read(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8], limit: usize) -> Vec<Record> {
        let mut reader = NdjsonReader::new(bytes, Arc::from("t"), 0, limit);
        std::iter::from_fn(|| reader.next_record().map(Unparsed::parse)).collect()
    }

    #[test]
    fn blank_lines_bom_and_crlf() {
        let records = read(b"\xEF\xBB\xBF{\"a\":1}\r\n\r\n   \n{\"b\":2}", 100);
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].location.line, 1);
        assert_eq!(records[1].location.line, 4);
        assert_eq!(records[1].index, 1);
        assert!(records.iter().all(|r| r.event.is_ok()));
    }

    #[test]
    fn invalid_utf8_and_long_lines_are_records() {
        let records = read(b"{\"a\":\"\xff\"}\n{\"long\":\"0123456789\"}\n{}\n", 10);
        assert_eq!(records.len(), 3);
        let bytes: Arc<[u8]> = Arc::from(&b"{\"a\":\"\xff\"}"[..]);
        assert_eq!(
            records[0].event,
            Err(InputError::InvalidUtf8 { offset: 6, bytes })
        );
        assert!(matches!(
            records[1].event,
            Err(InputError::TooLong { bytes: 21, .. })
        ));
        assert!(records[2].event.is_ok());
        assert_eq!(records[2].location.line, 3);
    }

    #[test]
    fn dead_letter_lines_unwrap() {
        let line = r#"{"dead_letter":{"source":"a:1"},"event":{"type":"track"}}"#;
        let raw = r#"{"dead_letter":{"source":"a:2"},"raw":"{\"type\":\"page\"}"}"#;
        let bad = r#"{"dead_letter":{"source":"a:3"},"raw":"{oops"}"#;
        let records = read(format!("{line}\n{raw}\n{bad}\n").as_bytes(), 1000);
        assert_eq!(records[0].original, line);
        assert_eq!(
            records[0].event.as_ref().ok(),
            Some(&serde_json::json!({"type": "track"}))
        );
        // The whole dead-letter line stays the original (its first source is in it).
        assert_eq!(records[1].original, raw);
        assert_eq!(
            records[1].event.as_ref().ok(),
            Some(&serde_json::json!({"type": "page"}))
        );
        assert_eq!(records[2].original, bad);
        assert!(matches!(records[2].event, Err(InputError::Json { .. })));
    }

    #[test]
    fn a_base64_dead_letter_is_read_as_its_bytes() {
        use base64::Engine as _;
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let bytes: &[u8] = b"{\"type\":\"track\",\"event\":\"caf\xe9\"}";
        let fixed = br#"{"type":"track","event":"x"}"#;
        let text = format!(
            "{{\"dead_letter\":{{\"source\":\"a:1\"}},\"raw_base64\":\"{}\"}}\n\
             {{\"dead_letter\":{{\"source\":\"a:2\"}},\"raw_base64\":\"{}\"}}\n\
             {{\"dead_letter\":{{\"source\":\"a:3\"}},\"raw_base64\":\"%%\"}}\n",
            b64(bytes),
            b64(fixed)
        );
        let records = read(text.as_bytes(), 1000);
        // Still not UTF-8: the same error, with exactly the bytes, never a U+FFFD replacement.
        let error = InputError::InvalidUtf8 {
            offset: 28,
            bytes: Arc::from(bytes),
        };
        assert_eq!(records[0].event, Err(error));
        assert_eq!(
            records[1].event.as_ref().ok(),
            Some(&serde_json::json!({"type": "track", "event": "x"}))
        );
        assert!(matches!(
            records[2].event,
            Err(InputError::DeadLetter { .. })
        ));
    }
}
