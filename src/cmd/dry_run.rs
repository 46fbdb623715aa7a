//! `cio-replay dry-run`: map every record and print, in input order, the exact operation it would
//! send (or why it is skipped or invalid) as NDJSON, then the summary with the requests a `send`
//! with the same `--mode`, `--concurrency`, `--batch-size` and `--batch-bytes` would make.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::deliver::DeliverySettings;
use crate::exit::{Exit, usage};
use crate::map::window::Window;
use crate::report::progress::Ticker;
use crate::report::summary::listing::Listed;
use crate::report::summary::{RequestPlan, Summary, conclude};
use crate::stream::{Pipeline, PipelineSettings};

const OUTPUT_BUFFER_BYTES: usize = 64 * 1024;

/// What `dry-run` was asked to do, checked.
pub(crate) struct Settings {
    pub pipeline: PipelineSettings,
    pub window: Window,
    /// The send the request estimate is of.
    pub delivery: DeliverySettings,
    pub show_progress: bool,
    /// `--output FILE`: the listing there instead of standard output.
    pub output: Option<PathBuf>,
    /// `--summary-json FILE` (`-`: standard output).
    pub summary_json: Option<PathBuf>,
}

pub(crate) fn run(s: Settings) -> Result<Exit> {
    let window = s.window;
    let mode = s.delivery.mode;
    let pipeline = Pipeline::open(s.pipeline)?.with_window(window.clone());
    let mut safety = crate::report::safety::Analyzer::new(crate::report::safety::now_unix())
        .with_window(&window);
    let sink: Box<dyn Write> = match &s.output {
        Some(path) => Box::new(File::create(path).map_err(|e| {
            usage(format!(
                "--output {}: cannot create it: {e}",
                path.display()
            ))
        })?),
        None => Box::new(io::stdout()),
    };
    let mut out = BufWriter::with_capacity(OUTPUT_BUFFER_BYTES, sink);
    let started = Instant::now();
    let plan = RequestPlan::new(&s.delivery);
    let mut summary = Summary::new(plan, s.delivery.rate);
    let mut ticker = Ticker::new(s.show_progress, pipeline.progress());
    for listed in pipeline.finish_on_workers(move |item| Listed::new(item, mode)) {
        out.write_all(&listed.line)
            .context("writing the dry-run listing")?;
        listed.tally.count(&mut summary, &mut safety);
        ticker.tick();
    }
    out.flush().context("writing the dry-run listing")?;
    ticker.finish();
    conclude(
        summary,
        safety,
        ticker.bytes_read(),
        started.elapsed().as_secs_f64(),
        "dry-run",
        s.summary_json.as_deref(),
    )
}
