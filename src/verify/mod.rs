//! `verify`: prove a backfill landed. One streaming pass over the inputs (read and mapped exactly
//! as `send` does) builds the expected final state of each person ([`expect`]), optionally of a
//! deterministic sample ([`sample`]); the App API ([`client`]) returns those people 100 at a time
//! at 10 requests a second; [`compare`] turns each into difference lines (NDJSON on standard
//! output), and [`findings`] counts them for the summary and `--report`.

pub(crate) mod client;
pub(crate) mod compare;
pub(crate) mod expect;
pub(crate) mod findings;
pub(crate) mod key;
mod limit;
pub(crate) mod sample;
mod stored;

use std::io::Write;

use anyhow::{Context, Result};

use crate::exit::{Exit, Fatal};
use crate::map::Outcome;
use crate::report::progress::{self, BarKind};
use crate::stream::Pipeline;
use client::{AppClient, LookupError, MAX_IDS};
use expect::Expectations;
use findings::Findings;
use sample::Sampler;

/// What to check.
#[derive(Debug, Clone, Copy)]
pub(crate) struct VerifySettings {
    /// `--sample N` and its seed; `None`: everyone.
    pub sample: Option<(usize, u64)>,
    /// Draw progress bars.
    pub progress: bool,
}

/// Read the inputs into expectations, look everyone held up and write one line per difference
/// to `out`.
pub(crate) fn run(
    pipeline: Pipeline,
    client: &mut AppClient,
    settings: VerifySettings,
    out: &mut dyn Write,
) -> Result<Findings> {
    let mut tally = Findings::default();
    let sampler = settings.sample.map(|(size, seed)| Sampler::new(size, seed));
    let mut expectations = Expectations::new(sampler);
    let input = pipeline.progress();
    let reading = progress::bar(
        settings.progress,
        input
            .total_bytes
            .map_or(BarKind::Spinner, |_| BarKind::Bytes),
        input.total_bytes.unwrap_or(0),
    );
    reading.set_message("reading the input");
    // The record's text is freed on the worker that mapped it; only the outcome comes here.
    for (n, outcome) in pipeline.finish_on_workers(|item| item.outcome).enumerate() {
        match &outcome {
            Outcome::Mapped(op) => {
                tally.records.mapped += 1;
                expectations.apply(op);
            }
            Outcome::Skipped { .. } => tally.records.skipped += 1,
            Outcome::Invalid(_) => tally.records.invalid += 1,
        }
        if n % 1024 == 0 {
            reading.set_position(input.bytes_read.load(std::sync::atomic::Ordering::Relaxed));
        }
    }
    reading.finish_and_clear();
    let (people, seen) = expectations.into_people();
    tally.seen = seen;
    tally.sample = settings.sample;

    let checking = progress::bar(settings.progress, BarKind::Items, people.len() as u64);
    checking.set_message("people checked");
    // One kind of identifier per request (`id_type`); `people` is sorted by kind, then value.
    for group in people.chunk_by(|a, b| a.0.kind == b.0.kind) {
        for chunk in group.chunks(MAX_IDS) {
            let keys: Vec<_> = chunk.iter().map(|(key, _)| key).collect();
            let found = client
                .people(chunk[0].0.kind, &keys)
                .map_err(|e| lookup_error(e, client))?;
            for ((key, expected), actual) in chunk.iter().zip(&found) {
                let differences = compare::compare(expected, actual.as_ref());
                for difference in &differences {
                    let line = difference.to_json(key);
                    writeln!(out, "{line}").context("writing a difference")?;
                }
                tally.add(key, &differences);
            }
            checking.inc(chunk.len() as u64);
        }
    }
    out.flush().context("writing the differences")?;
    checking.finish_and_clear();
    tally.traffic = client.traffic;
    Ok(tally)
}

/// A failed lookup: a refused key is exit 3; anything else stops the run with its message.
fn lookup_error(err: LookupError, client: &AppClient) -> anyhow::Error {
    let exit = match err {
        LookupError::Refused { .. } => Exit::Auth,
        _ => Exit::LocalError,
    };
    Fatal::new(
        exit,
        format!("verify: {} (App API at {})", err, client.base_url()),
    )
    .into()
}

/// Check the key with one request for an id nobody has, before the input is read: a refused
/// key exits 3 at once.
pub(crate) fn probe(client: &mut AppClient) -> Result<()> {
    let nobody = key::PersonKey::new(key::IdKind::Id, "cio-replay-verify-probe");
    client
        .people(key::IdKind::Id, &[&nobody])
        .map(|_| ())
        .map_err(|e| lookup_error(e, client))
}
