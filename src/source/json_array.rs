//! JSON array records: one top-level array of event objects, pretty-printed or not, split element by
//! element by a small scanner (depth, strings, escapes) over a buffered reader, so a file of any size
//! is read in flat memory. Each element is located at the line where it starts and kept compact
//! (whitespace outside strings dropped), so its dead letter stays one line.

use std::io::{self, BufRead, ErrorKind, Read};

use super::compression::Stream;
use super::{InputError, Location, Record, Unparsed};
use std::sync::Arc;

const BOM: &[u8] = b"\xEF\xBB\xBF";
/// Above this capacity the element buffer is shrunk back after use.
const KEEP_CAPACITY: usize = 1024 * 1024;
/// Open brackets remembered to check their closers; deeper ones are only counted.
const MAX_STACK: usize = 4096;
/// How much leading whitespace [`sniff`] looks through before it gives up and says NDJSON.
const SNIFF_BYTES: usize = 1024 * 1024;

/// Whether `stream` holds a JSON array: its first byte that is not whitespace (after a BOM) is `[`.
/// Returns the answer and a stream that reads every byte again. A read error while looking is
/// left in the returned stream, after the bytes before it, for the reader to report at its line.
pub(crate) fn sniff(stream: Stream) -> (bool, Stream) {
    let mut rest = stream;
    let mut seen: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 8 * 1024];
    let mut looked = 0;
    let failed = loop {
        let n = match rest.read(&mut chunk) {
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => break Some(e),
        };
        seen.extend_from_slice(&chunk[..n]);
        if n > 0 && seen.len() < BOM.len() && BOM.starts_with(&seen) {
            continue;
        }
        let skip = if seen.starts_with(BOM) { BOM.len() } else { 0 };
        looked = looked.max(skip);
        let first = seen[looked..].iter().position(|b| !b.is_ascii_whitespace());
        if let Some(at) = first {
            let is_array = seen[looked + at] == b'[';
            return (is_array, Box::new(io::Cursor::new(seen).chain(rest)));
        }
        looked = seen.len();
        if n == 0 || seen.len() >= SNIFF_BYTES {
            break None;
        }
    };
    let replay = io::Cursor::new(seen);
    match failed {
        Some(error) => (false, Box::new(replay.chain(Failing(Some(error))))),
        None => (false, Box::new(replay.chain(rest))),
    }
}

/// Returns its error once, then the end.
struct Failing(Option<io::Error>);

impl Read for Failing {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        match self.0.take() {
            Some(error) => Err(error),
            None => Ok(0),
        }
    }
}

/// Where the scanner is in the array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the opening `[`.
    Start,
    /// After `[` (`first`) or after a `,`: an element or (for `first`) the closing `]` comes next.
    Before {
        first: bool,
    },
    /// After an element: `,` or `]` comes next.
    After,
    Done,
}

/// How one element ended.
enum Scanned {
    /// Its compact text is in `buf` (or, when over the limit, only its size is known).
    Element { overflow: bool },
    /// A closer that does not match its opener ended it early.
    Mismatched { found: u8, expected: u8 },
}

/// Reads the elements of one JSON array as records.
pub(crate) struct JsonArrayReader<R> {
    reader: R,
    name: Arc<str>,
    input: usize,
    max_bytes: usize,
    /// The line the next byte is on (1-based).
    line: u64,
    index: u64,
    buf: Vec<u8>,
    /// Bytes of the current element without whitespace outside strings.
    size: usize,
    stack: Vec<u8>,
    state: State,
}

impl<R: BufRead> JsonArrayReader<R> {
    pub(crate) fn new(reader: R, name: Arc<str>, input: usize, max_bytes: usize) -> Self {
        JsonArrayReader {
            reader,
            name,
            input,
            max_bytes,
            line: 1,
            index: 0,
            buf: Vec::with_capacity(8 * 1024),
            size: 0,
            stack: Vec::new(),
            state: State::Start,
        }
    }

    /// The next element as a record (its text not yet parsed), a read error, or `None` at the end.
    pub(crate) fn next_record(&mut self) -> Option<Unparsed> {
        match self.step() {
            Ok(next) => next,
            Err((line, message)) => {
                self.state = State::Done;
                Some(self.error_at(line, InputError::Io { message }))
            }
        }
    }

    /// One step of the scanner; `Err((line, message))` is a read error that ends the input.
    fn step(&mut self) -> Result<Option<Unparsed>, (u64, String)> {
        loop {
            match self.state {
                State::Done => return Ok(None),
                State::Start => {
                    self.skip_bom().map_err(|e| (self.line, e.to_string()))?;
                    match self.next_token()? {
                        Some(b'[') => self.state = State::Before { first: true },
                        Some(other) => {
                            return Err((
                                self.line,
                                format!("JSON array: expected `[`, found `{}`", other as char),
                            ));
                        }
                        None => return Err((self.line, "JSON array: the input is empty".into())),
                    }
                }
                State::Before { first } => match self.peek_token()? {
                    None => return Err(self.unclosed()),
                    Some(b']') => {
                        self.consume();
                        if !first {
                            return Err((
                                self.line,
                                "JSON array: a `,` with no element after it before the closing `]`"
                                    .into(),
                            ));
                        }
                        self.finish()?;
                    }
                    Some(_) => {
                        self.state = State::After;
                        return self.element().map(Some);
                    }
                },
                State::After => match self.next_token()? {
                    Some(b',') => self.state = State::Before { first: false },
                    Some(b']') => self.finish()?,
                    Some(other) => {
                        return Err((
                            self.line,
                            format!(
                                "JSON array: expected `,` or `]` after an element, found `{}`",
                                other as char
                            ),
                        ));
                    }
                    None => return Err(self.unclosed()),
                },
            }
        }
    }

    fn unclosed(&self) -> (u64, String) {
        (
            self.line,
            "JSON array: the input ends before the array's closing `]` (truncated?)".into(),
        )
    }

    /// After the closing `]`: only whitespace may follow.
    fn finish(&mut self) -> Result<(), (u64, String)> {
        self.state = State::Done;
        match self.next_token()? {
            None => Ok(()),
            Some(other) => Err((
                self.line,
                format!(
                    "JSON array: `{}` after the array's closing `]`; give one array per file",
                    other as char
                ),
            )),
        }
    }

    /// Scan one element starting at the next byte (not whitespace) into a record.
    fn element(&mut self) -> Result<Unparsed, (u64, String)> {
        if self.buf.capacity() > KEEP_CAPACITY {
            self.buf = Vec::with_capacity(8 * 1024);
        }
        self.buf.clear();
        self.stack.clear();
        self.size = 0;
        let start = self.line;
        let scanned = self.scan(start)?;
        let first = self.buf.first().copied();
        let error = match scanned {
            Scanned::Mismatched { found, expected } => Some(InputError::Json {
                message: format!(
                    "malformed array element: `{}` where `{}` closes it",
                    found as char, expected as char
                ),
            }),
            Scanned::Element { overflow: true } => Some(InputError::ElementTooLong {
                bytes: self.size,
                limit: self.max_bytes,
            }),
            Scanned::Element { overflow: false } => match first {
                Some(b'{') => None,
                other => Some(InputError::ElementNotAnObject {
                    found: kind_of(other),
                }),
            },
        };
        let location = Location {
            part: None,
            file: self.name.clone(),
            line: start,
        };
        let index = self.index;
        self.index += 1;
        if let Some(error) = error {
            let original = if matches!(error, InputError::ElementTooLong { .. }) {
                String::new()
            } else {
                String::from_utf8_lossy(&self.buf).into_owned()
            };
            return Ok(Unparsed::read(Record {
                location,
                input: self.input,
                index,
                original,
                event: Err(error),
            }));
        }
        match std::str::from_utf8(&self.buf) {
            Ok(text) => Ok(Unparsed::line(location, self.input, index, text.to_owned())),
            Err(e) => Ok(Unparsed::read(Record {
                location,
                input: self.input,
                index,
                original: String::from_utf8_lossy(&self.buf).into_owned(),
                event: Err(InputError::InvalidUtf8 {
                    offset: e.valid_up_to(),
                    bytes: Arc::from(self.buf.as_slice()),
                }),
            })),
        }
    }

    /// Copy one element's bytes (without whitespace outside strings) into `buf`, up to the limit.
    fn scan(&mut self, start: u64) -> Result<Scanned, (u64, String)> {
        let ends_inside = |line: u64| {
            (
                line,
                format!(
                    "JSON array: the input ends inside the element that starts at line {start} (truncated?)"
                ),
            )
        };
        let mut in_string = false;
        let mut escaped = false;
        let mut extra_depth: u64 = 0;
        let mut scalar = false;
        loop {
            if scalar {
                // A bare number or literal ends at whitespace, `,`, `]` or the end of the input.
                match self.peek_byte()? {
                    None => return Ok(self.scanned()),
                    Some(b) if b.is_ascii_whitespace() || b == b',' || b == b']' => {
                        return Ok(self.scanned());
                    }
                    Some(b) => {
                        self.consume();
                        self.keep(b);
                        continue;
                    }
                }
            }
            let Some(b) = self.next_byte()? else {
                return Err(ends_inside(self.line));
            };
            if in_string {
                self.keep(b);
                if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = true;
                } else if b == b'"' {
                    in_string = false;
                    if self.stack.is_empty() && extra_depth == 0 {
                        return Ok(self.scanned());
                    }
                }
                continue;
            }
            if b.is_ascii_whitespace() {
                continue;
            }
            self.keep(b);
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => {
                    let closer = if b == b'{' { b'}' } else { b']' };
                    if self.stack.len() < MAX_STACK {
                        self.stack.push(closer);
                    } else {
                        extra_depth += 1;
                    }
                }
                b'}' | b']' => {
                    if extra_depth > 0 {
                        extra_depth -= 1;
                    } else {
                        match self.stack.pop() {
                            Some(expected) if expected == b => {}
                            Some(expected) => {
                                return Ok(Scanned::Mismatched { found: b, expected });
                            }
                            // Not reached: an element never starts with a closer.
                            None => return Ok(self.scanned()),
                        }
                    }
                    if self.stack.is_empty() && extra_depth == 0 {
                        return Ok(self.scanned());
                    }
                }
                _ if self.stack.is_empty() && extra_depth == 0 => scalar = true,
                _ => {}
            }
        }
    }

    fn scanned(&self) -> Scanned {
        Scanned::Element {
            overflow: self.size > self.max_bytes,
        }
    }

    /// Keep one byte of the element while it is within the limit.
    fn keep(&mut self, b: u8) {
        self.size = self.size.saturating_add(1);
        if self.size <= self.max_bytes {
            self.buf.push(b);
        } else if !self.buf.is_empty() {
            self.buf = Vec::new();
        }
    }

    fn skip_bom(&mut self) -> io::Result<()> {
        let available = loop {
            match self.reader.fill_buf() {
                Ok(bytes) => break bytes,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        if available.starts_with(BOM) {
            self.reader.consume(BOM.len());
        }
        Ok(())
    }

    /// The next byte that is not whitespace, consumed.
    fn next_token(&mut self) -> Result<Option<u8>, (u64, String)> {
        let token = self.peek_token()?;
        if token.is_some() {
            self.consume();
        }
        Ok(token)
    }

    /// The next byte that is not whitespace, left unread (whitespace before it is consumed).
    fn peek_token(&mut self) -> Result<Option<u8>, (u64, String)> {
        loop {
            match self.peek_byte()? {
                Some(b) if b.is_ascii_whitespace() => {
                    self.consume();
                }
                other => return Ok(other),
            }
        }
    }

    fn peek_byte(&mut self) -> Result<Option<u8>, (u64, String)> {
        loop {
            match self.reader.fill_buf() {
                Ok(bytes) => return Ok(bytes.first().copied()),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err((self.line, e.to_string())),
            }
        }
    }

    /// Consume the byte [`Self::peek_byte`] returned (there is one), counting lines.
    fn consume(&mut self) {
        if let Ok(bytes) = self.reader.fill_buf() {
            if bytes.first() == Some(&b'\n') {
                self.line += 1;
            }
            if !bytes.is_empty() {
                self.reader.consume(1);
            }
        }
    }

    fn next_byte(&mut self) -> Result<Option<u8>, (u64, String)> {
        let b = self.peek_byte()?;
        if b.is_some() {
            self.consume();
        }
        Ok(b)
    }

    fn error_at(&mut self, line: u64, error: InputError) -> Unparsed {
        let record = Record {
            location: Location {
                part: None,
                file: self.name.clone(),
                line,
            },
            input: self.input,
            index: self.index,
            original: String::new(),
            event: Err(error),
        };
        self.index += 1;
        Unparsed::read(record)
    }
}

/// What a JSON value starting with `first` is, for the message.
fn kind_of(first: Option<u8>) -> &'static str {
    match first {
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        Some(b'-' | b'0'..=b'9') => "a number",
        _ => "not JSON",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8], limit: usize) -> Vec<Record> {
        let mut reader = JsonArrayReader::new(bytes, Arc::from("t.json"), 0, limit);
        std::iter::from_fn(|| reader.next_record().map(Unparsed::parse)).collect()
    }

    fn lines(records: &[Record]) -> Vec<u64> {
        records.iter().map(|r| r.location.line).collect()
    }

    #[test]
    fn pretty_and_compact_arrays_stream_elements_at_their_lines() {
        let pretty = b"\xEF\xBB\xBF[\n  {\n    \"type\": \"track\",\n    \"s\": \"a ] } \\\" [\"\n  },\n  {\"type\":\"page\"}\n]\n";
        let records = read(pretty, 1000);
        assert_eq!(lines(&records), vec![2, 6]);
        assert_eq!(records[0].original, r#"{"type":"track","s":"a ] } \" ["}"#);
        assert_eq!(
            records[0].event.as_ref().ok(),
            Some(&serde_json::json!({"type": "track", "s": "a ] } \" ["}))
        );
        assert_eq!(records[1].index, 1);
        let compact = read(br#"[{"a":1},{"b":[1,{"c":2}]}]"#, 1000);
        assert_eq!(compact.len(), 2);
        assert!(
            compact
                .iter()
                .all(|r| r.event.is_ok() && r.location.line == 1)
        );
        assert!(read(b" [ ] ", 1000).is_empty());
    }

    #[test]
    fn non_objects_and_malformed_elements_are_invalid_records_and_reading_goes_on() {
        let records = read(
            b"[1, \"x\", [2], null, {\"a\":}, {\"b\":[1}, {\"ok\":true}]",
            1000,
        );
        assert_eq!(records.len(), 7);
        for (i, found) in ["a number", "a string", "an array", "null"]
            .iter()
            .enumerate()
        {
            assert_eq!(
                records[i].event,
                Err(InputError::ElementNotAnObject { found }),
                "{i}"
            );
        }
        assert!(
            records[3]
                .event
                .as_ref()
                .unwrap_err()
                .to_string()
                .contains("array element is not an object")
        );
        assert!(matches!(records[4].event, Err(InputError::Json { .. })));
        let mismatched = records[5].event.as_ref().unwrap_err().to_string();
        assert!(
            mismatched.contains("`}` where `]` closes it"),
            "{mismatched}"
        );
        assert!(records[6].event.is_ok());
    }

    #[test]
    fn elements_over_the_limit_are_invalid_without_being_held() {
        let long = format!("[{{\"a\":\"{}\"}},\n{{\"b\":1}}]", "x".repeat(100));
        let records = read(long.as_bytes(), 50);
        assert_eq!(records.len(), 2);
        assert!(matches!(
            records[0].event,
            Err(InputError::ElementTooLong {
                bytes: 108,
                limit: 50
            })
        ));
        assert_eq!(records[0].original, "");
        assert!(records[1].event.is_ok());
        assert_eq!(records[1].location.line, 2);
    }

    #[test]
    fn structural_errors_are_read_errors_at_their_line() {
        let cases: [(&[u8], u64, &str); 6] = [
            (
                b"[{\"a\":1},\n{\"b\":",
                2,
                "ends inside the element that starts at line 2",
            ),
            (b"[{\"a\":1}\n", 2, "before the array's closing `]`"),
            (b"[{\"a\":1}\n{\"b\":2}]", 2, "expected `,` or `]`"),
            (b"[{\"a\":1},]", 1, "a `,` with no element"),
            (b"[{\"a\":1}]\n[", 2, "after the array's closing `]`"),
            (b"", 1, "the input is empty"),
        ];
        for (text, line, message) in cases {
            let records = read(text, 1000);
            let last = records.last().unwrap();
            let error = last.event.as_ref().unwrap_err().to_string();
            assert!(error.starts_with("read error: "), "{error}");
            assert!(error.contains(message), "{error}");
            assert_eq!(last.location.line, line, "{error}");
        }
    }

    #[test]
    fn sniff_tells_an_array_from_ndjson_and_replays_every_byte() {
        for (text, array) in [
            (&b"\xEF\xBB\xBF \n [{}]"[..], true),
            (b"{\"a\":1}\n", false),
            (b"", false),
        ] {
            let (is_array, mut stream) = sniff(Box::new(io::Cursor::new(text.to_vec())));
            assert_eq!(is_array, array);
            let mut back = Vec::new();
            stream.read_to_end(&mut back).unwrap();
            assert_eq!(back, text);
        }
        let spaced = [vec![b' '; 20_000], b"[{}]".to_vec()].concat();
        let (is_array, _) = sniff(Box::new(io::Cursor::new(spaced)));
        assert!(is_array);
    }
}
