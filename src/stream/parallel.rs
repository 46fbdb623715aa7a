//! Parsing, mapping and finishing on worker threads, items still in input order: one thread reads
//! records into chunks and deals them to the workers in turn; the consumer takes the mapped chunks
//! back in the same turn, so order needs no reassembly. Memory is bounded: each worker has at most
//! [`QUEUE`] chunks waiting, one in hand and [`QUEUE`] mapped, and a chunk holds at most
//! [`CHUNK_RECORDS`] records or about [`CHUNK_BYTES`] of text.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::{self, JoinHandle};

use super::Stage;
use crate::source::{Inputs, Unparsed};

/// Records a chunk holds at most: hand-offs cost little, and a chunk stays in cache.
const CHUNK_RECORDS: usize = 256;
/// Text a chunk holds at most (a record may take it past this once): long lines make short chunks.
const CHUNK_BYTES: usize = 256 * 1024;
/// Chunks queued before and after each worker. One is fastest (1M generated records, 2 cores:
/// 4.8 s against 5.7 s with two and 5.8 s with none): the records in flight stay in cache.
const QUEUE: usize = 1;

/// The running threads, and where the consumer is in the turn.
pub(super) struct Parallel<T> {
    /// Mapped chunks, one channel per worker, taken in turn.
    results: Vec<Receiver<Vec<T>>>,
    turn: usize,
    current: std::vec::IntoIter<T>,
    threads: Vec<JoinHandle<()>>,
}

/// Start reading `inputs` and mapping on up to `workers` threads. When no thread can be started
/// the inputs come back (`Err`), to be mapped on the caller's thread.
pub(super) fn start<T: Send + 'static>(
    inputs: Box<Inputs>,
    stage: Arc<Stage<T>>,
    workers: usize,
) -> Result<Parallel<T>, Box<Inputs>> {
    let mut chunks = Vec::with_capacity(workers);
    let mut results = Vec::with_capacity(workers);
    let mut threads = Vec::with_capacity(workers + 1);
    for n in 0..workers {
        let (chunk_tx, chunk_rx) = sync_channel::<Vec<Unparsed>>(QUEUE);
        let (result_tx, result_rx) = sync_channel::<Vec<T>>(QUEUE);
        let stage = Arc::clone(&stage);
        let spawned = thread::Builder::new()
            .name(format!("map-{n}"))
            .spawn(move || work(&chunk_rx, &result_tx, &stage));
        // A thread that cannot start (resource limits) leaves fewer workers.
        if let Ok(handle) = spawned {
            threads.push(handle);
            chunks.push(chunk_tx);
            results.push(result_rx);
        }
    }
    if chunks.is_empty() {
        return Err(inputs);
    }
    // The inputs go to the reader once it runs, so they come back if it cannot start.
    let (inputs_tx, inputs_rx) = sync_channel::<Box<Inputs>>(1);
    let spawned = thread::Builder::new().name("read".into()).spawn(move || {
        if let Ok(inputs) = inputs_rx.recv() {
            read(*inputs, &chunks);
        }
    });
    // The workers end when their channels close (`chunks` went with the reader's closure).
    match spawned {
        Ok(handle) => threads.push(handle),
        Err(_) => return Err(inputs),
    }
    if let Err(returned) = inputs_tx.send(inputs) {
        return Err(returned.0);
    }
    Ok(Parallel {
        results,
        turn: 0,
        current: Vec::new().into_iter(),
        threads,
    })
}

/// The reader thread: chunks of records dealt to the workers in turn. Ends at the end of the
/// inputs, or when the workers (so the consumer) have gone.
fn read(mut inputs: Inputs, chunks: &[SyncSender<Vec<Unparsed>>]) {
    for worker in (0..chunks.len()).cycle() {
        let mut chunk = Vec::with_capacity(CHUNK_RECORDS);
        let mut bytes = 0usize;
        let mut end = false;
        while chunk.len() < CHUNK_RECORDS && bytes < CHUNK_BYTES {
            match inputs.next_unparsed() {
                Some(record) => {
                    bytes += record.text_len();
                    chunk.push(record);
                }
                None => {
                    end = true;
                    break;
                }
            }
        }
        if chunk.is_empty() || chunks[worker].send(chunk).is_err() || end {
            return;
        }
    }
}

/// A worker thread: parse, map and finish chunks until the reader or the consumer has gone.
fn work<T>(chunks: &Receiver<Vec<Unparsed>>, results: &SyncSender<Vec<T>>, stage: &Stage<T>) {
    for chunk in chunks {
        let mut items = Vec::with_capacity(chunk.len());
        for record in chunk {
            stage.run(record, &mut items);
        }
        if results.send(items).is_err() {
            return;
        }
    }
}

impl<T> Parallel<T> {
    /// The next item in input order; `None` at the end.
    pub(super) fn next(&mut self) -> Option<T> {
        loop {
            if let Some(item) = self.current.next() {
                return Some(item);
            }
            let results = self.results.get(self.turn)?;
            match results.recv() {
                Ok(items) => {
                    self.current = items.into_iter();
                    self.turn = (self.turn + 1) % self.results.len();
                }
                // This worker ended with no chunk left: the reader dealt its last chunk before.
                Err(_) => {
                    self.finish();
                    return None;
                }
            }
        }
    }

    /// The end: close every channel (a worker still holding mapped work can then stop), wait for
    /// every thread, and pass on a panic of one, so a lost chunk never ends the stream quietly.
    fn finish(&mut self) {
        self.results.clear();
        for thread in self.threads.drain(..) {
            if let Err(panic) = thread.join() {
                std::panic::resume_unwind(panic);
            }
        }
    }
}
