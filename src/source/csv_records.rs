//! CSV records read under a byte limit, for event CSV and GDPR CSV lists alike.
//!
//! The parser is the csv crate's own state machine (`csv-core`), so quoting, newlines inside
//! quoted cells, CRLF and a leading UTF-8 BOM behave exactly as with `csv::Reader`; but its
//! buffers never grow past the limit. A record whose cells pass the limit is reported as soon as
//! they do (at the line it starts on), and the rest of it is skipped without being kept: one huge
//! cell, or a quote left open to the end of the file, costs the limit in memory, not its size.

use std::io::{self, BufRead, ErrorKind};

use csv_core::{ReadRecordResult, Reader};

/// How much of an over-long record's cells is kept (for messages and the dead-letter file).
pub(crate) const PREFIX_BYTES: usize = 1024;
/// Above this capacity the buffers are shrunk back after a record, so one long record does not
/// keep its memory for the rest of the run.
const KEEP_CAPACITY: usize = 64 * 1024;
const MIN_FIELDS: usize = 1024;
const MIN_ENDS: usize = 32;

/// What [`CsvRecords::next`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// A record within the limit: its cells are [`CsvRecords::get`] / [`CsvRecords::iter`].
    Record,
    /// A record whose cells (bytes, plus one per cell) passed the limit; `prefix` is the start
    /// of them, joined by commas, at most [`PREFIX_BYTES`], then `…`.
    TooLong { prefix: String },
    /// No more records.
    End,
}

/// Reads CSV records (comma-separated, `"` quoted) with at most `limit` bytes of cells each.
pub(crate) struct CsvRecords<R> {
    reader: R,
    /// Boxed: its DFA tables are large (as in `csv::Reader`).
    core: Box<Reader>,
    limit: usize,
    fields: Vec<u8>,
    ends: Vec<usize>,
    len: usize,
    /// The line the last record started on (1-based; as `csv::Position::line`).
    line: u64,
    /// The last record went over the limit before its end: skip the rest of it first.
    skipping: bool,
}

impl<R: BufRead> CsvRecords<R> {
    pub(crate) fn new(reader: R, limit: usize) -> Self {
        CsvRecords {
            reader,
            core: Box::new(Reader::new()),
            limit,
            fields: vec![0; MIN_FIELDS],
            ends: vec![0; MIN_ENDS],
            len: 0,
            line: 1,
            skipping: false,
        }
    }

    /// Read the next record. An I/O error ends the input (the caller reports it).
    pub(crate) fn next(&mut self) -> io::Result<Next> {
        if self.skipping {
            self.skip_rest()?;
            self.skipping = false;
        }
        if self.fields.capacity() > KEEP_CAPACITY {
            self.fields = vec![0; MIN_FIELDS];
        }
        if self.ends.capacity() > KEEP_CAPACITY {
            self.ends = vec![0; MIN_ENDS];
        }
        self.len = 0;
        self.line = self.core.line();
        let (mut outlen, mut endlen) = (0usize, 0usize);
        loop {
            let input = match self.reader.fill_buf() {
                Ok(input) => input,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            let (result, nin, nout, nend) =
                self.core
                    .read_record(input, &mut self.fields[outlen..], &mut self.ends[endlen..]);
            self.reader.consume(nin);
            outlen += nout;
            endlen += nend;
            let over = outlen.saturating_add(endlen) > self.limit;
            match result {
                // A chunk that held only the BOM looks like the end to csv-core: start afresh.
                ReadRecordResult::End if nin > 0 => self.core.reset(),
                ReadRecordResult::End => return Ok(Next::End),
                ReadRecordResult::Record if over => {
                    return Ok(Next::TooLong {
                        prefix: self.prefix(outlen, endlen),
                    });
                }
                ReadRecordResult::Record => {
                    self.len = endlen;
                    return Ok(Next::Record);
                }
                _ if over => {
                    self.skipping = true;
                    return Ok(Next::TooLong {
                        prefix: self.prefix(outlen, endlen),
                    });
                }
                ReadRecordResult::InputEmpty => {}
                // Not over the limit, so each buffer holds at most `limit` and grows by one at least.
                ReadRecordResult::OutputFull => {
                    let size = (self.fields.len() * 2).clamp(MIN_FIELDS, self.limit + 1);
                    self.fields
                        .reserve_exact(size.saturating_sub(self.fields.len()));
                    self.fields.resize(size, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    let size = (self.ends.len() * 2).clamp(MIN_ENDS, self.limit + 2);
                    self.ends
                        .reserve_exact(size.saturating_sub(self.ends.len()));
                    self.ends.resize(size, 0);
                }
            }
        }
    }

    /// Read through the end of a record that went over the limit, keeping none of it.
    fn skip_rest(&mut self) -> io::Result<()> {
        loop {
            let input = match self.reader.fill_buf() {
                Ok(input) => input,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            // The buffers are scratch space here: every call writes over them from the start.
            let (result, nin, _, _) =
                self.core
                    .read_record(input, &mut self.fields[..], &mut self.ends[..]);
            self.reader.consume(nin);
            if matches!(result, ReadRecordResult::Record | ReadRecordResult::End) {
                return Ok(());
            }
        }
    }

    /// The first cells of the record read so far, joined by commas, at most [`PREFIX_BYTES`], and `…`.
    fn prefix(&self, outlen: usize, endlen: usize) -> String {
        let ends = self.ends.get(..endlen).unwrap_or_default();
        let last = ends.last().map_or(0, |&e| e.min(outlen));
        // The cell being read when the limit was passed has no end yet.
        let open = (last < outlen || ends.is_empty()).then_some(outlen);
        let mut out: Vec<u8> = Vec::with_capacity(PREFIX_BYTES + 1);
        let mut start = 0;
        for (i, end) in ends.iter().map(|&e| e.min(outlen)).chain(open).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let end = end.max(start);
            let room = (PREFIX_BYTES + 1).saturating_sub(out.len());
            let cell = self.fields.get(start..end).unwrap_or_default();
            out.extend_from_slice(&cell[..cell.len().min(room)]);
            start = end;
            if out.len() > PREFIX_BYTES {
                break;
            }
        }
        out.truncate(PREFIX_BYTES);
        // Always cut: the rest of the record is not kept.
        let mut text = String::from_utf8_lossy(&out).into_owned();
        text.push('…');
        text
    }

    /// The line the last record started on.
    pub(crate) fn line(&self) -> u64 {
        self.line
    }

    /// How many cells the last record has.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Cell `i` of the last record.
    pub(crate) fn get(&self, i: usize) -> Option<&[u8]> {
        if i >= self.len {
            return None;
        }
        let start = if i == 0 { 0 } else { *self.ends.get(i - 1)? };
        let end = *self.ends.get(i)?;
        self.fields.get(start..end)
    }

    /// The cells of the last record.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        (0..self.len).map(|i| self.get(i).unwrap_or_default())
    }

    /// The bytes the buffers hold (for the memory tests).
    #[cfg(test)]
    fn held(&self) -> usize {
        self.fields.capacity() + self.ends.capacity() * std::mem::size_of::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, Read};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// Every record as (line, cells) or (line, "too long: prefix").
    fn read(text: &[u8], limit: usize) -> Vec<(u64, Result<Vec<String>, String>)> {
        read_through(text, limit)
    }

    /// As [`read`], through any buffered reader (small buffers cut records anywhere).
    fn read_through(text: impl BufRead, limit: usize) -> Vec<(u64, Result<Vec<String>, String>)> {
        let mut records = CsvRecords::new(text, limit);
        let mut out = Vec::new();
        loop {
            match records.next().expect("in memory") {
                Next::End => return out,
                Next::Record => out.push((
                    records.line(),
                    Ok(records
                        .iter()
                        .map(|c| String::from_utf8_lossy(c).into_owned())
                        .collect()),
                )),
                Next::TooLong { prefix } => out.push((records.line(), Err(prefix))),
            }
        }
    }

    fn cells(cells: &[&str]) -> Result<Vec<String>, String> {
        Ok(cells.iter().map(|c| c.to_string()).collect())
    }

    #[test]
    fn reads_as_the_csv_crate_does() {
        let text = b"\xEF\xBB\xBFa,b\r\n\"x,1\",\"two\nlines\"\n\nq\"uote,\"\"\"\"\nlast,";
        // After a CRLF the next record starts before its `\n` is read: line 1, as in the csv crate.
        assert_eq!(
            read(text, 100),
            vec![
                (1, cells(&["a", "b"])),
                (1, cells(&["x,1", "two\nlines"])),
                (4, cells(&["q\"uote", "\""])),
                (6, cells(&["last", ""])),
            ]
        );
        // The same records, lines included, as csv::Reader sees them.
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(&text[..]);
        let theirs: Vec<(u64, Vec<String>)> = reader
            .byte_records()
            .map(|r| {
                let r = r.expect("in memory");
                let line = r.position().map_or(0, |p| p.line());
                (
                    line,
                    r.iter()
                        .map(|c| String::from_utf8_lossy(c).into_owned())
                        .collect(),
                )
            })
            .collect();
        let ours: Vec<(u64, Vec<String>)> = read(text, 100)
            .into_iter()
            .map(|(line, r)| (line, r.expect("within the limit")))
            .collect();
        assert_eq!(ours, theirs);
    }

    proptest::proptest! {
        /// Cells and lines are the csv crate's, on any mix of the bytes that matter to CSV.
        #[test]
        fn any_bytes_read_as_the_csv_crate_reads_them(
            bytes in proptest::collection::vec(
                proptest::sample::select(b"a,\"\r\n \xEF\xBB\xBF\xC3\xA9".to_vec()), 0..200)
        ) {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(&bytes[..]);
            let theirs: Vec<(u64, Result<Vec<String>, String>)> = reader
                .byte_records()
                .map(|r| {
                    let r = r.expect("in memory");
                    let line = r.position().map_or(0, |p| p.line());
                    (line, Ok(r.iter().map(|c| String::from_utf8_lossy(c).into_owned()).collect()))
                })
                .collect();
            proptest::prop_assert_eq!(&read(&bytes, 1000), &theirs);
            let small = BufReader::with_capacity(3, &bytes[..]);
            proptest::prop_assert_eq!(&read_through(small, 1000), &theirs);
        }
    }

    #[test]
    fn an_over_long_record_is_reported_at_its_line_and_reading_goes_on() {
        let big = "y".repeat(5000);
        let text = format!("h1,h2\nok,1\n\"{big}\nstill the cell\",2\nnext,3\n{big},4\nend,5\n");
        let records = read(text.as_bytes(), 1000);
        assert_eq!(records.len(), 6);
        assert_eq!(records[1], (2, cells(&["ok", "1"])));
        let (line, prefix) = &records[2];
        assert_eq!(*line, 3);
        let prefix = prefix.as_ref().expect_err("too long");
        assert!(
            prefix.starts_with("yyy") && prefix.ends_with('…'),
            "{prefix}"
        );
        assert!(prefix.len() <= PREFIX_BYTES + '…'.len_utf8());
        assert_eq!(records[3], (5, cells(&["next", "3"])));
        assert_eq!(records[4].0, 6);
        assert!(records[4].1.is_err());
        assert_eq!(records[5], (7, cells(&["end", "5"])));
    }

    #[test]
    fn the_limit_counts_cells_plus_one_per_cell() {
        // 10 bytes of cells and 3 cells: 13.
        assert!(read(b"abcd,efg,hij\n", 13)[0].1.is_ok());
        assert!(read(b"abcd,efg,hij\n", 12)[0].1.is_err());
        // Commas alone count too: a row of a million empty cells is not read into memory.
        let commas = ",".repeat(100_000);
        assert!(read(commas.as_bytes(), 1000)[0].1.is_err());
    }

    /// Counts the bytes read through it.
    struct Counting<R> {
        inner: R,
        read: Arc<AtomicU64>,
    }

    impl<R: Read> Read for Counting<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.read.fetch_add(n as u64, Ordering::Relaxed);
            Ok(n)
        }
    }

    /// An endless record (a quote opened and never closed, an endless cell, endless commas) is
    /// reported once the limit is passed, having read and held about the limit: no endless loop,
    /// no endless allocation.
    #[test]
    fn an_endless_record_is_reported_after_reading_about_the_limit() {
        const LIMIT: usize = 1024 * 1024;
        const BUFFER: usize = 64 * 1024;
        for (start, fill) in [
            (&b"h\n\""[..], b'x'),
            (b"h\n", b'x'),
            (b"h\n", b','),
            (b"h\n", b'"'),
        ] {
            let read = Arc::new(AtomicU64::new(0));
            let source = Counting {
                inner: start.chain(io::repeat(fill)),
                read: Arc::clone(&read),
            };
            let mut records = CsvRecords::new(BufReader::with_capacity(BUFFER, source), LIMIT);
            assert_eq!(records.next().expect("header"), Next::Record);
            let next = records.next().expect("no I/O error");
            assert!(matches!(next, Next::TooLong { .. }), "{next:?}");
            assert_eq!(records.line(), 2);
            let read = read.load(Ordering::Relaxed) as usize;
            assert!(read <= 2 * LIMIT + 2 * BUFFER, "read {read} bytes");
            // Held: the cells up to the limit, their ends (at most one per byte) and the buffer.
            let held = records.held();
            let bound = (LIMIT + 1) + (LIMIT + 2) * std::mem::size_of::<usize>();
            assert!(held <= bound, "holds {held} bytes");
        }
    }
}
