//! `cio-replay dry-run`: map every record and print, in input order, the exact operation it would
//! send (or why it is skipped or invalid) as NDJSON, then the summary with the requests a `send`
//! with the same `--mode`, `--concurrency`, `--batch-size` and `--batch-bytes` would make.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::time::Instant;

use anyhow::{Context, Result};

use crate::cli::DryRunArgs;
use crate::cli::settings::MappingSettings;
use crate::exit::{Exit, usage};
use crate::report::progress::Ticker;
use crate::report::summary::listing::Listed;
use crate::report::summary::{RequestPlan, Summary, conclude};
use crate::stream::Pipeline;

const OUTPUT_BUFFER_BYTES: usize = 64 * 1024;

pub(crate) fn run(args: DryRunArgs) -> Result<Exit> {
    let settings = MappingSettings::from_args(&args.mapping)?;
    if args.output.is_none() && args.summary_json.as_deref() == Some(std::path::Path::new("-")) {
        return Err(usage(
            "--summary-json - writes to standard output, where the listing goes: give --output FILE \
             for the listing",
        ));
    }
    let delivery = crate::cli::settings::estimate_delivery(&args, settings.mode)?;
    let window = crate::cli::settings::window(&args.mapping)?;
    let pipeline = Pipeline::open(settings.pipeline(&args.input)?)?.with_window(window.clone());
    let mut safety = crate::report::safety::Analyzer::new(crate::report::safety::now_unix())
        .with_window(&window);
    let sink: Box<dyn Write> = match &args.output {
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
    let plan = RequestPlan::new(&delivery);
    let mut summary = Summary::new(plan, args.rate);
    let mut ticker = Ticker::new(
        crate::cli::settings::show_progress(&args.display),
        pipeline.progress(),
    );
    let mode = settings.mode;
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
        args.summary_json.as_deref(),
    )
}
