//! `cio-replay validate`: read, parse and route every record; print one line per problem
//! (`FILE:LINE: <field>: <what is wrong>; <what to do>`) and the summary. Sends nothing.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::deliver::DeliverySettings;
use crate::exit::Exit;
use crate::map::Outcome;
use crate::map::window::Window;
use crate::report::progress::Ticker;
use crate::report::summary::Tally;
use crate::report::summary::{RequestPlan, Summary, conclude, sanitize};
use crate::stream::{Pipeline, PipelineSettings};
use crate::track::Mode;

/// The request rate assumed for validate's time estimate (send's default).
const ASSUMED_RATE: f64 = 100.0;

/// What `validate` was asked to do, checked.
pub(crate) struct Settings {
    pub pipeline: PipelineSettings,
    pub window: Window,
    /// The mode of the send whose requests the summary estimates.
    pub mode: Mode,
    pub show_progress: bool,
    /// `--summary-json FILE` (`-`: standard output).
    pub summary_json: Option<PathBuf>,
}

pub(crate) fn run(s: Settings) -> Result<Exit> {
    let window = s.window;
    let pipeline = Pipeline::open(s.pipeline)?.with_window(window.clone());
    let mut safety = crate::report::safety::Analyzer::new(crate::report::safety::now_unix())
        .with_window(&window);
    // With `--summary-json -` standard output is the summary's: the problem lines go to stderr.
    let json_to_stdout = s.summary_json.as_deref() == Some(std::path::Path::new("-"));
    let sink: Box<dyn Write> = if json_to_stdout {
        Box::new(io::stderr())
    } else {
        Box::new(io::stdout())
    };
    let mut out = BufWriter::with_capacity(64 * 1024, sink);
    let started = Instant::now();
    let plan = RequestPlan::new(&DeliverySettings::defaults(s.mode));
    let mut summary = Summary::new(plan, ASSUMED_RATE);
    let mut ticker = Ticker::new(s.show_progress, pipeline.progress());
    for tally in pipeline.finish_on_workers(|item| Tally::new(item, None)) {
        let location = &tally.location;
        match &tally.outcome {
            Outcome::Mapped(_) => {}
            Outcome::Skipped { action, reason } => {
                let text = match action {
                    Some(action) => format!("{location}: skipped: {action}: {reason}"),
                    None => format!("{location}: skipped: {reason}"),
                };
                writeln!(out, "{}", sanitize(&text)).context("writing the problems")?;
            }
            Outcome::Invalid(invalid) => {
                let text = format!("{location}: {invalid}");
                writeln!(out, "{}", sanitize(&text)).context("writing the problems")?;
            }
        }
        tally.count(&mut summary, &mut safety);
        ticker.tick();
    }
    out.flush().context("writing the problems")?;
    ticker.finish();
    conclude(
        summary,
        safety,
        ticker.bytes_read(),
        started.elapsed().as_secs_f64(),
        "validate",
        s.summary_json.as_deref(),
    )
}
