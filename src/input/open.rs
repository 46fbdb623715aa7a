//! Checking and opening inputs: every input is checked before any record is read (missing files,
//! directories, unreadable files, unknown formats and bad CSV headers are usage errors), then each is
//! opened in turn, gzip by extension, with the raw bytes read counted for progress bars.

use std::fs::File;
use std::io::{self, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Result;
use flate2::read::MultiGzDecoder;

use super::InputFormat;
use super::csv::CsvReader;
use super::ndjson::NdjsonReader;
use super::{InputError, Location, Record, Unparsed};
use crate::exit::usage;

const BUFFER_BYTES: usize = 64 * 1024;

/// How far reading has got, for progress bars.
#[derive(Debug, Clone)]
pub struct Progress {
    /// Total size of the inputs in bytes (as stored, so compressed for `.gz`), when every input is
    /// a regular file; `None` when stdin is among them.
    pub total_bytes: Option<u64>,
    /// Bytes read so far (as stored), updated as reading goes.
    pub bytes_read: Arc<AtomicU64>,
}

/// One input as checked.
#[derive(Debug, Clone)]
struct Spec {
    name: Arc<str>,
    /// `None` for stdin.
    path: Option<PathBuf>,
    format: InputFormat,
    gzip: bool,
}

type Stream = Box<dyn Read + Send>;

/// An open input, producing records.
enum Source {
    Ndjson(NdjsonReader<BufReader<Stream>>),
    Csv(CsvReader<Stream>),
}

impl Source {
    fn next_record(&mut self) -> Option<Unparsed> {
        match self {
            Source::Ndjson(reader) => reader.next_record(),
            Source::Csv(reader) => reader.next_record().map(Unparsed::read),
        }
    }
}

/// All inputs in the order given, read one after the other as one stream of records.
pub struct Inputs {
    specs: Vec<Spec>,
    next: usize,
    current: Option<Source>,
    /// Standard input, opened (and for CSV its header read) when the inputs were checked.
    stdin: Option<Source>,
    max_line_bytes: usize,
    progress: Progress,
}

impl Inputs {
    /// Check every input and prepare to read them in order. `files` empty means stdin.
    pub fn open(
        files: &[PathBuf],
        format: Option<InputFormat>,
        max_line_bytes: usize,
    ) -> Result<Inputs> {
        let stdin_only = [PathBuf::from("-")];
        let files = if files.is_empty() {
            &stdin_only[..]
        } else {
            files
        };
        let bytes_read = Arc::new(AtomicU64::new(0));
        let mut specs = Vec::with_capacity(files.len());
        let mut total = Some(0u64);
        let mut stdin_seen = false;
        for path in files {
            if path.as_os_str() == "-" {
                if stdin_seen {
                    return Err(usage("standard input (`-`) is given more than once"));
                }
                stdin_seen = true;
                total = None;
                specs.push(Spec {
                    name: Arc::from("-"),
                    path: None,
                    format: format.unwrap_or(InputFormat::Ndjson),
                    gzip: false,
                });
                continue;
            }
            let (spec, size) = check_file(path, format)?;
            total = total.map(|t| t + size);
            specs.push(spec);
        }
        let mut inputs = Inputs {
            specs,
            next: 0,
            current: None,
            stdin: None,
            max_line_bytes,
            progress: Progress {
                total_bytes: total,
                bytes_read,
            },
        };
        // CSV headers are configuration: check them all now, before any record is read.
        for i in 0..inputs.specs.len() {
            let spec = inputs.specs[i].clone();
            if spec.path.is_none() {
                let source = inputs.source(i, &spec).map_err(usage)?;
                inputs.stdin = Some(source);
            } else if spec.format == InputFormat::Csv {
                inputs.source(i, &spec).map_err(usage)?;
                inputs.progress.bytes_read.store(0, Ordering::Relaxed);
            }
        }
        Ok(inputs)
    }

    /// Byte progress of the whole run.
    pub fn progress(&self) -> Progress {
        self.progress.clone()
    }

    /// Open input `i` as a record source; the error names the input.
    fn source(&self, i: usize, spec: &Spec) -> std::result::Result<Source, String> {
        let raw: Stream = match &spec.path {
            None => Box::new(io::stdin()),
            Some(path) => Box::new(
                File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?,
            ),
        };
        let counted = Counting {
            inner: raw,
            counter: self.progress.bytes_read.clone(),
        };
        let stream: Stream = if spec.gzip {
            Box::new(MultiGzDecoder::new(BufReader::with_capacity(
                BUFFER_BYTES,
                counted,
            )))
        } else {
            Box::new(counted)
        };
        match spec.format {
            InputFormat::Ndjson => Ok(Source::Ndjson(NdjsonReader::new(
                BufReader::with_capacity(BUFFER_BYTES, stream),
                spec.name.clone(),
                i,
                self.max_line_bytes,
            ))),
            InputFormat::Csv => {
                let stream = skip_bom(BufReader::with_capacity(BUFFER_BYTES, stream));
                CsvReader::new(stream, spec.name.clone(), i, self.max_line_bytes)
                    .map(Source::Csv)
                    .map_err(|e| format!("{}: {e}", spec.name))
            }
        }
    }
}

impl Iterator for Inputs {
    type Item = Record;

    /// The next record, parsed.
    fn next(&mut self) -> Option<Record> {
        self.next_unparsed().map(Unparsed::parse)
    }
}

impl Inputs {
    /// The next record as read, its JSON not yet parsed ([`Unparsed::parse`]).
    pub fn next_unparsed(&mut self) -> Option<Unparsed> {
        loop {
            if let Some(source) = &mut self.current {
                if let Some(record) = source.next_record() {
                    return Some(record);
                }
                self.current = None;
            }
            let i = self.next;
            let spec = self.specs.get(i)?.clone();
            self.next += 1;
            let opened = match spec.path {
                None => self
                    .stdin
                    .take()
                    .ok_or_else(|| "standard input already read".into()),
                Some(_) => self.source(i, &spec),
            };
            match opened {
                Ok(source) => self.current = Some(source),
                // The input was readable when checked; report its loss as one invalid record.
                Err(message) => {
                    return Some(Unparsed::read(Record {
                        location: Location {
                            file: spec.name.clone(),
                            line: 1,
                        },
                        input: i,
                        index: 0,
                        original: String::new(),
                        event: Err(InputError::Io { message }),
                    }));
                }
            }
        }
    }
}

/// Check that `path` is a readable regular file of a known format; return it with its size.
fn check_file(path: &Path, format: Option<InputFormat>) -> Result<(Spec, u64)> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| usage(format!("cannot read {shown}: {e}")))?;
    if meta.is_dir() {
        return Err(usage(format!(
            "{shown} is a directory; give the event files inside it"
        )));
    }
    File::open(path).map_err(|e| usage(format!("cannot read {shown}: {e}")))?;
    let name = path.to_string_lossy().to_lowercase();
    let (stem, gzip) = match name.strip_suffix(".gz") {
        Some(stem) => (stem, true),
        None => (name.as_str(), false),
    };
    let by_extension = if stem.ends_with(".csv") {
        Some(InputFormat::Csv)
    } else if [".ndjson", ".jsonl", ".json"]
        .iter()
        .any(|e| stem.ends_with(e))
    {
        Some(InputFormat::Ndjson)
    } else {
        None
    };
    let Some(format) = format.or(by_extension) else {
        return Err(usage(format!(
            "cannot tell the format of {shown} from its extension (.ndjson, .jsonl, .json, .csv, each optionally .gz); use --input-format"
        )));
    };
    let spec = Spec {
        name: Arc::from(path.to_string_lossy().as_ref()),
        path: Some(path.to_path_buf()),
        format,
        gzip,
    };
    Ok((spec, meta.len()))
}

/// Drop a leading UTF-8 byte-order mark.
fn skip_bom(mut reader: impl Read + Send + 'static) -> Stream {
    let mut head = [0u8; 3];
    let mut got = 0;
    while got < 3 {
        match reader.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // Leave the error for the reader to meet again and report as a record.
            Err(_) => break,
        }
    }
    let prefix = if got == 3 && head == [0xEF, 0xBB, 0xBF] {
        Vec::new()
    } else {
        head[..got].to_vec()
    };
    Box::new(Cursor::new(prefix).chain(reader))
}

/// Counts the bytes read through it.
struct Counting<R> {
    inner: R,
    counter: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}
