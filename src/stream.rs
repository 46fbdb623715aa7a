//! The shared front of every command: open the inputs, read records, map each one. Streaming: one
//! record in, one item out, in input order, with memory bounded by a few chunks of records.

use std::path::PathBuf;
use std::sync::Arc;

use crate::map::{Invalid, MappingConfig, Outcome, map_event_taking};
use crate::source::InputFormat;
use crate::source::{InputError, Inputs, Location, MAX_LINE_BYTES, Progress, Record, Unparsed};
use crate::transform::{PART_BITS, Transform};

/// One record and what became of it.
#[derive(Debug, Clone)]
pub struct Item {
    pub record: Record,
    pub outcome: Outcome,
}

/// What the pipeline reads and how it maps.
#[derive(Debug, Clone)]
pub struct PipelineSettings {
    /// Input paths; empty or `-` means stdin.
    pub files: Vec<PathBuf>,
    pub format: Option<InputFormat>,
    pub mapping: MappingConfig,
    /// Treat skipped records as invalid.
    pub strict: bool,
    /// `--transform` / `--preset`: run on every record before it is mapped.
    pub transform: Option<Arc<Transform>>,
}

impl PipelineSettings {
    /// Settings reading `files` with the default mapping.
    pub fn new(files: Vec<PathBuf>) -> PipelineSettings {
        PipelineSettings {
            files,
            format: None,
            mapping: MappingConfig::default(),
            strict: false,
            transform: None,
        }
    }
}

/// One record for the sender: what it carries along, and what the mapping made of it. `send`
/// makes it from a pipeline [`Item`]; `gdpr` from a person on its list.
#[derive(Debug)]
pub(crate) struct Work {
    pub record: RecordInfo,
    pub outcome: Outcome,
}

impl From<Item> for Work {
    fn from(item: Item) -> Work {
        Work {
            record: RecordInfo::take(item.record),
            outcome: item.outcome,
        }
    }
}

/// What a settled record carries along for hooks and the dead-letter file.
#[derive(Debug, Clone)]
pub(crate) struct RecordInfo {
    pub location: Location,
    pub input: usize,
    pub index: u64,
    /// The original text of the record.
    pub original: String,
    /// Whether `original` parsed as JSON (then it is written verbatim as the dead letter's event).
    pub parsed: bool,
    /// The record's exact bytes when they are not UTF-8 (`original` is then a lossy rendering):
    /// the dead letter keeps these.
    pub bytes: Option<std::sync::Arc<[u8]>>,
}

impl RecordInfo {
    /// A record that is an operation built by the tool (`text`, its JSON), not read from a file.
    pub(crate) fn built(location: Location, input: usize, index: u64, text: String) -> RecordInfo {
        RecordInfo {
            location,
            input,
            index,
            original: text,
            parsed: true,
            bytes: None,
        }
    }

    /// What is kept of `record`, taking its text instead of copying it.
    pub(crate) fn take(record: Record) -> RecordInfo {
        RecordInfo {
            parsed: record.event.is_ok(),
            bytes: exact_bytes(&record),
            location: record.location,
            input: record.input,
            index: record.index,
            original: record.original,
        }
    }
}

/// The bytes of a record that was not UTF-8.
fn exact_bytes(record: &Record) -> Option<std::sync::Arc<[u8]>> {
    match &record.event {
        Err(InputError::InvalidUtf8 { bytes, .. }) => Some(bytes.clone()),
        _ => None,
    }
}

mod parallel;
pub(crate) mod people;
#[cfg(test)]
mod people_tests;

/// The inputs opened and the mapping set, ready to stream (`for item in pipeline`, or
/// [`Pipeline::finish_on_workers`]).
pub struct Pipeline {
    inputs: Inputs,
    mapper: Mapper,
    workers: usize,
    progress: Progress,
}

/// What happens to one record: parse, transform, map, the `--since`/`--until` window, `--strict`.
#[derive(Clone)]
pub(crate) struct Mapper {
    mapping: MappingConfig,
    strict: bool,
    transform: Option<Arc<Transform>>,
    /// `--since` / `--until` (safety): mapped records outside it become skipped.
    window: crate::map::window::Window,
}

/// The mapping and the caller's finishing step, shared by the workers.
struct Stage<T> {
    mapper: Mapper,
    finish: Box<dyn Fn(Item) -> T + Send + Sync>,
}

impl<T> Stage<T> {
    /// The finished items of one record (one, or with a transform any number) onto `out`.
    fn run(&self, record: Unparsed, out: &mut Vec<T>) {
        self.mapper
            .items(record, &mut |item| out.push((self.finish)(item)));
    }
}

/// How many threads parse and map: one per core, at most four (beyond that the reading thread
/// and the consumer are the limit).
pub(crate) fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

impl Pipeline {
    /// Check every input (a missing, unreadable or directory path, an unknown format or a bad CSV
    /// header is a [`crate::exit::Fatal`] usage error, exit 2) and get ready to read them in order.
    pub fn open(settings: PipelineSettings) -> anyhow::Result<Pipeline> {
        Pipeline::open_with_limit(settings, MAX_LINE_BYTES)
    }

    /// [`Pipeline::open`] with a different NDJSON line limit (tests).
    pub(crate) fn open_with_limit(
        settings: PipelineSettings,
        max_line_bytes: usize,
    ) -> anyhow::Result<Pipeline> {
        let inputs = Inputs::open(&settings.files, settings.format, max_line_bytes)?;
        Ok(Pipeline {
            progress: inputs.progress(),
            inputs,
            mapper: Mapper {
                mapping: settings.mapping,
                strict: settings.strict,
                transform: settings.transform,
                window: crate::map::window::Window::default(),
            },
            workers: workers(),
        })
    }

    /// Skip mapped records outside the `--since` / `--until` window (before `--strict` applies).
    pub(crate) fn with_window(mut self, window: crate::map::window::Window) -> Pipeline {
        self.mapper.window = window;
        self
    }

    /// Map on `workers` threads (1: on the consuming thread, no threads at all).
    #[cfg(test)]
    pub(crate) fn with_workers(mut self, workers: usize) -> Pipeline {
        self.workers = workers.max(1);
        self
    }

    /// Byte progress: the total input size when known, and an `Arc<AtomicU64>` of bytes read.
    pub(crate) fn progress(&self) -> Progress {
        self.progress.clone()
    }

    /// Stream `finish(item)` for every item, in input order, with `finish` run on the worker
    /// that mapped the item: work that only needs the item (rendering it, say) runs in parallel
    /// too, and the item's memory is freed on the thread that allocated it.
    pub(crate) fn finish_on_workers<T: Send + 'static>(
        self,
        finish: impl Fn(Item) -> T + Send + Sync + 'static,
    ) -> Stream<T> {
        let stage = Arc::new(Stage {
            mapper: self.mapper,
            finish: Box::new(finish),
        });
        let state = if self.workers > 1 {
            match parallel::start(Box::new(self.inputs), Arc::clone(&stage), self.workers) {
                Ok(running) => StreamState::Running(running),
                Err(inputs) => StreamState::Inline(inputs),
            }
        } else {
            StreamState::Inline(Box::new(self.inputs))
        };
        Stream {
            state,
            stage,
            pending: Vec::new().into_iter(),
        }
    }
}

impl IntoIterator for Pipeline {
    type Item = Item;
    type IntoIter = Stream<Item>;

    fn into_iter(self) -> Stream<Item> {
        self.finish_on_workers(|item| item)
    }
}

/// The stream of finished items, in input order.
pub struct Stream<T> {
    state: StreamState<T>,
    stage: Arc<Stage<T>>,
    /// Mapping inline: the items of the last record not yet taken.
    pending: std::vec::IntoIter<T>,
}

enum StreamState<T> {
    /// Mapping on the consuming thread.
    Inline(Box<Inputs>),
    Running(parallel::Parallel<T>),
}

impl<T: Send + 'static> Iterator for Stream<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        match &mut self.state {
            StreamState::Running(running) => running.next(),
            StreamState::Inline(inputs) => loop {
                if let Some(item) = self.pending.next() {
                    return Some(item);
                }
                let mut items = Vec::with_capacity(1);
                self.stage.run(inputs.next_unparsed()?, &mut items);
                self.pending = items.into_iter();
            },
        }
    }
}

impl Mapper {
    /// Parse one record, transform it when there is a transform, and `emit` the item of every
    /// record that makes, in order (no record: one skipped item). With a transform, the `k`-th
    /// record made of record `n` has the index `n << PART_BITS | k` (see [`crate::transform`]).
    pub(crate) fn items(&self, unparsed: Unparsed, emit: &mut dyn FnMut(Item)) {
        let mut record = unparsed.parse();
        let Some(transform) = &self.transform else {
            return emit(self.item(record));
        };
        record.index <<= PART_BITS;
        let event = match std::mem::replace(&mut record.event, Ok(serde_json::Value::Null)) {
            Ok(event) => event,
            Err(error) => {
                record.event = Err(error);
                return emit(self.item(record));
            }
        };
        let outcome = match transform.run(event) {
            Ok(events) if events.is_empty() => Outcome::Skipped {
                action: None,
                reason: "the transform produced no record".into(),
            },
            Ok(events) => {
                let (count, several) = (events.len(), events.len() > 1);
                for (k, event) in events.into_iter().enumerate() {
                    // Every part keeps the record as read (its dead letter); the last takes it.
                    let original = if k + 1 == count {
                        std::mem::take(&mut record.original)
                    } else {
                        record.original.clone()
                    };
                    let mut location = record.location.clone();
                    location.part = several.then_some(k as u32 + 1);
                    emit(self.item(Record {
                        location,
                        input: record.input,
                        index: record.index | k as u64,
                        original,
                        event: Ok(event),
                    }));
                }
                return;
            }
            Err(error) => Outcome::Invalid(Invalid {
                action: None,
                field: None,
                message: error.to_string(),
            }),
        };
        let outcome = self.strict_about(outcome);
        emit(Item { record, outcome });
    }

    /// Map one parsed record into its item.
    fn item(&self, record: Record) -> Item {
        let item = self.mapped(record);
        match item.outcome {
            // A record with no `type`, read without a transform: say what would reshape it.
            Outcome::Invalid(mut invalid)
                if self.transform.is_none() && invalid.field.as_deref() == Some("type") =>
            {
                if let Some(hint) = item
                    .record
                    .event
                    .as_ref()
                    .ok()
                    .and_then(crate::transform::hint)
                {
                    invalid.message = format!("{}; {hint}", invalid.message);
                }
                Item {
                    record: item.record,
                    outcome: Outcome::Invalid(invalid),
                }
            }
            _ => item,
        }
    }

    fn mapped(&self, mut record: Record) -> Item {
        // The operation takes `properties` / `traits` out of the event (no copy); the record keeps
        // the rest, its `timestamp` included, and its original text.
        let outcome = match &mut record.event {
            Ok(event) => map_event_taking(event, &self.mapping),
            Err(error) => Outcome::Invalid(input_invalid(error)),
        };
        let outcome = match &record.event {
            Ok(event) if !self.window.is_unbounded() => self
                .window
                .apply(crate::map::window::record_time(event), outcome),
            _ => outcome,
        };
        let outcome = self.strict_about(outcome);
        Item { record, outcome }
    }

    /// `--strict`: a skipped record is invalid.
    fn strict_about(&self, outcome: Outcome) -> Outcome {
        match outcome {
            Outcome::Skipped { action, reason } if self.strict => Outcome::Invalid(Invalid {
                action,
                field: None,
                message: format!(
                    "skipped ({reason}) and --strict treats skipped records as invalid; fix the record or drop --strict"
                ),
            }),
            other => other,
        }
    }
}

/// The invalid outcome of a record that could not be read.
pub(crate) fn input_invalid(error: &InputError) -> Invalid {
    let message = match error {
        // The field is reported separately; the message says what is wrong and what to do.
        InputError::Cell { message, .. } => message.clone(),
        other => other.to_string(),
    };
    Invalid {
        action: None,
        field: error.field().map(str::to_owned),
        message,
    }
}

#[cfg(test)]
mod tests;
