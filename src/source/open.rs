//! Checking and opening inputs: every input is checked before any record is read (missing files,
//! directories, unreadable files, unknown formats and bad CSV headers are usage errors), then each is
//! opened in turn, decompressed by its content (gzip, zstd), with the raw bytes read counted for
//! progress bars. The format comes from `--input-format` or the extension (a compression extension
//! stripped first); `.json` and `--input-format json` look at the first byte for an array.

use std::fs::File;
use std::io::{self, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Result;

use super::InputFormat;
use super::compression::{self, Stream};
use super::csv::CsvReader;
use super::json_array::{self, JsonArrayReader};
use super::ndjson::NdjsonReader;
use super::parquet::{self, ParquetReader};
use super::{InputError, Location, Record, Unparsed};
use crate::exit::usage;

const BUFFER_BYTES: usize = 64 * 1024;

/// How far reading has got, for progress bars.
#[derive(Debug, Clone)]
pub(crate) struct Progress {
    /// Total size of the inputs in bytes (as stored, so compressed when compressed), when every input is
    /// a regular file; `None` when stdin is among them.
    pub total_bytes: Option<u64>,
    /// Bytes read so far (as stored), updated as reading goes.
    pub bytes_read: Arc<AtomicU64>,
}

/// Where an input's stored bytes come from.
#[derive(Debug, Clone)]
pub(crate) enum Origin {
    File(PathBuf),
    /// Standard input, read as it comes (once).
    Stdin,
    /// Standard input read into memory first (a GDPR list is read twice).
    Held(Arc<[u8]>),
}

impl Origin {
    /// The stored bytes (still compressed).
    pub(crate) fn stored(&self) -> io::Result<Stream> {
        Ok(match self {
            Origin::File(path) => Box::new(File::open(path)?),
            Origin::Stdin => Box::new(io::stdin()),
            Origin::Held(bytes) => Box::new(Cursor::new(Arc::clone(bytes))),
        })
    }

    /// The bytes decoded by their content (gzip, zstd, or as they are), every stored byte read
    /// counted in `counter`.
    pub(crate) fn decoded(&self, counter: Arc<AtomicU64>) -> io::Result<Stream> {
        let own = Arc::new(AtomicU64::new(0));
        let counted = Counting {
            inner: self.stored()?,
            counter,
            own: own.clone(),
        };
        compression::decoded(Box::new(counted), own).map(|(_, stream)| stream)
    }
}

/// One input as given on the command line, checked.
#[derive(Debug, Clone)]
pub(crate) struct Given {
    /// The path as given, or `-`.
    pub name: Arc<str>,
    pub origin: Origin,
    /// The size as stored; `None` for standard input.
    pub size: Option<u64>,
}

/// What [`given`] checks: event files or people lists, each with its own words for a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Event files (folders are walked before: one left here is an error of the walk).
    Events,
    /// GDPR people lists.
    Lists,
}

impl Kind {
    fn stdin_twice(self) -> &'static str {
        match self {
            Kind::Events => "standard input (`-`) is given more than once",
            Kind::Lists => "standard input (-) can be given only once",
        }
    }

    fn unreadable(self, shown: &str, e: &std::io::Error) -> String {
        match self {
            Kind::Events => format!("cannot read {shown}: {e}"),
            Kind::Lists => format!("{shown}: cannot read the list: {e}"),
        }
    }

    fn folder(self, shown: &str) -> String {
        match self {
            Kind::Events => format!("{shown} is a directory; give the event files inside it"),
            Kind::Lists => format!("{shown}: is a directory, not a list file"),
        }
    }
}

/// Check the inputs as given, event files or lists (`kind`): `-`, or no path at all, is standard
/// input, at most once; every other path must be a file this process can read, not a folder.
/// Every refusal is a usage error (exit 2).
pub(crate) fn given(files: &[PathBuf], kind: Kind) -> Result<Vec<Given>> {
    let stdin_only = [PathBuf::from("-")];
    let files = if files.is_empty() {
        &stdin_only[..]
    } else {
        files
    };
    let mut stdin_seen = false;
    let mut out = Vec::with_capacity(files.len());
    for path in files {
        if path.as_os_str() == "-" {
            if stdin_seen {
                return Err(usage(kind.stdin_twice()));
            }
            stdin_seen = true;
            out.push(Given {
                name: Arc::from("-"),
                origin: Origin::Stdin,
                size: None,
            });
            continue;
        }
        let shown = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|e| usage(kind.unreadable(&shown, &e)))?;
        if meta.is_dir() {
            return Err(usage(kind.folder(&shown)));
        }
        File::open(path).map_err(|e| usage(kind.unreadable(&shown, &e)))?;
        out.push(Given {
            name: Arc::from(shown.as_str()),
            origin: Origin::File(path.to_path_buf()),
            size: Some(meta.len()),
        });
    }
    Ok(out)
}

/// One input as checked.
#[derive(Debug, Clone)]
struct Spec {
    name: Arc<str>,
    /// `None` for stdin.
    path: Option<PathBuf>,
    format: InputFormat,
}

/// An open input, producing records.
enum Source {
    Ndjson(NdjsonReader<BufReader<Stream>>),
    JsonArray(JsonArrayReader<BufReader<Stream>>),
    Csv(CsvReader<Stream>),
    Parquet(Box<ParquetReader>),
}

impl Source {
    fn next_record(&mut self) -> Option<Unparsed> {
        match self {
            Source::Ndjson(reader) => reader.next_record(),
            Source::JsonArray(reader) => reader.next_record(),
            Source::Csv(reader) => reader.next_record().map(Unparsed::read),
            Source::Parquet(reader) => reader.next_record(),
        }
    }
}

/// All inputs in the order given, read one after the other as one stream of records.
pub(crate) struct Inputs {
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
    pub(crate) fn open(
        files: &[PathBuf],
        format: Option<InputFormat>,
        max_line_bytes: usize,
    ) -> Result<Inputs> {
        let bytes_read = Arc::new(AtomicU64::new(0));
        let mut specs = Vec::with_capacity(files.len());
        let mut total = Some(0u64);
        for given in given(files, Kind::Events)? {
            let Origin::File(path) = &given.origin else {
                if format == Some(InputFormat::Parquet) {
                    return Err(usage(
                        "Parquet cannot be read from standard input (the reader needs its footer first); give the file's path",
                    ));
                }
                total = None;
                specs.push(Spec {
                    name: given.name,
                    path: None,
                    format: format.unwrap_or(InputFormat::Ndjson),
                });
                continue;
            };
            specs.push(check_file(path, format)?);
            total = total.map(|t| t + given.size.unwrap_or(0));
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
    pub(crate) fn progress(&self) -> Progress {
        self.progress.clone()
    }

    /// Open input `i` as a record source; the error names the input.
    fn source(&self, i: usize, spec: &Spec) -> std::result::Result<Source, String> {
        if let (InputFormat::Parquet, Some(path)) = (spec.format, &spec.path) {
            let reader = ParquetReader::open(
                path,
                spec.name.clone(),
                i,
                self.max_line_bytes,
                self.progress.bytes_read.clone(),
            )?;
            return Ok(Source::Parquet(Box::new(reader)));
        }
        let origin = match &spec.path {
            None => Origin::Stdin,
            Some(path) => Origin::File(path.clone()),
        };
        let stream = origin
            .decoded(self.progress.bytes_read.clone())
            .map_err(|e| format!("cannot read {}: {e}", spec.name))?;
        let ndjson = |stream: Stream| {
            Source::Ndjson(NdjsonReader::new(
                BufReader::with_capacity(BUFFER_BYTES, stream),
                spec.name.clone(),
                i,
                self.max_line_bytes,
            ))
        };
        match spec.format {
            InputFormat::Ndjson => Ok(ndjson(stream)),
            InputFormat::Json => match json_array::sniff(stream) {
                (true, stream) => Ok(Source::JsonArray(JsonArrayReader::new(
                    BufReader::with_capacity(BUFFER_BYTES, stream),
                    spec.name.clone(),
                    i,
                    self.max_line_bytes,
                ))),
                (false, stream) => Ok(ndjson(stream)),
            },
            // Read from its path above; stdin was refused when the inputs were checked.
            InputFormat::Parquet => Err(format!(
                "{}: Parquet cannot be read from standard input",
                spec.name
            )),
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
    pub(crate) fn next_unparsed(&mut self) -> Option<Unparsed> {
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
                            part: None,
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

/// The spec of a file [`given`] found readable: its format, from `format` or its name (a usage
/// error when neither says), and for Parquet its footer checked.
fn check_file(path: &Path, format: Option<InputFormat>) -> Result<Spec> {
    let shown = path.display();
    let by_extension = format_by_name(&path.to_string_lossy());
    let Some(format) = format.or(by_extension) else {
        return Err(usage(format!(
            "cannot tell the format of {shown} from its extension (.ndjson, .jsonl, .json, .csv, each optionally .gz, .zst, or .parquet); use --input-format (compression is found by content)"
        )));
    };
    if format == InputFormat::Parquet {
        if strip_compression(&path.to_string_lossy().to_lowercase()).1 {
            return Err(usage(format!(
                "{shown}: a compressed Parquet file cannot be read (Parquet compresses its pages itself); decompress it first"
            )));
        }
        parquet::check(path).map_err(usage)?;
    }
    let spec = Spec {
        name: Arc::from(path.to_string_lossy().as_ref()),
        path: Some(path.to_path_buf()),
        format,
    };
    Ok(spec)
}

/// The format a file name says (case-insensitive; `.gz`, `.zst` or `.zstd` stripped first), if any.
pub(crate) fn format_by_name(name: &str) -> Option<InputFormat> {
    let name = name.to_lowercase();
    let (stem, _) = strip_compression(&name);
    if stem.ends_with(".parquet") || stem.ends_with(".parq") {
        Some(InputFormat::Parquet)
    } else if stem.ends_with(".csv") {
        Some(InputFormat::Csv)
    } else if stem.ends_with(".ndjson") || stem.ends_with(".jsonl") {
        Some(InputFormat::Ndjson)
    } else if stem.ends_with(".json") {
        Some(InputFormat::Json)
    } else {
        None
    }
}

/// A lower-cased file name without its compression extension (`.gz`, `.zst`, `.zstd`), and
/// whether it had one (the content decides when the file is read).
pub(crate) fn strip_compression(name: &str) -> (&str, bool) {
    [".gz", ".zst", ".zstd"]
        .into_iter()
        .find_map(|suffix| name.strip_suffix(suffix))
        .map_or((name, false), |stem| (stem, true))
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

/// Counts the bytes read through it: for the whole run (`counter`) and for this input (`own`).
struct Counting<R> {
    inner: R,
    counter: Arc<AtomicU64>,
    own: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        self.own.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_name() {
        for (name, format) in [
            ("a.ndjson", Some(InputFormat::Ndjson)),
            ("a.JSONL.gz", Some(InputFormat::Ndjson)),
            ("a.json", Some(InputFormat::Json)),
            ("a.json.zst", Some(InputFormat::Json)),
            ("a.csv.zstd", Some(InputFormat::Csv)),
            ("dir.csv/part-00000", None),
            ("part-00000.gz", None),
            ("a.zst", None),
            ("part-00000-1f.snappy.parquet", Some(InputFormat::Parquet)),
            ("UNLOAD.PARQUET", Some(InputFormat::Parquet)),
            ("a.parquet.gz", Some(InputFormat::Parquet)),
        ] {
            assert_eq!(format_by_name(name), format, "{name}");
        }
    }
}
