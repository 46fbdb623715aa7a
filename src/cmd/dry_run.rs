//! `cio-replay dry-run`: map every record and print, in input order, the exact operation it would
//! send (or why it is skipped or invalid) as NDJSON, then the summary.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::time::Instant;

use anyhow::{Context, Result};

use crate::cli::DryRunArgs;
use crate::cli::settings::MappingSettings;
use crate::exit::{Exit, Fatal};
use crate::mapping::Outcome;
use crate::pipeline::{Item, Pipeline, Ticker};
use crate::summary::Tally;
use crate::summary::{RequestPlan, Summary, conclude};
use crate::track::{Mode, limits};

const OUTPUT_BUFFER_BYTES: usize = 64 * 1024;

fn usage(message: String) -> anyhow::Error {
    Fatal::new(Exit::Usage, message).into()
}

pub fn run(args: DryRunArgs) -> Result<Exit> {
    let settings = MappingSettings::from_args(&args.mapping)?;
    check_estimate_flags(args.rate, args.batch_size, args.batch_bytes)?;
    let window = crate::cli::settings::window(&args.mapping)?;
    let pipeline = Pipeline::open(settings.pipeline(&args.input)?)?.with_window(window.clone());
    let mut safety = crate::safety::Analyzer::new(crate::safety::now_unix()).with_window(&window);
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
    let plan = RequestPlan::new(settings.mode, args.batch_size, args.batch_bytes);
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

/// One record as the listing needs it, made on the worker that mapped it: its line rendered, and
/// its tally (the event and the operation body are freed there; the consumer only copies bytes).
struct Listed {
    line: Vec<u8>,
    tally: Tally,
}

impl Listed {
    fn new(item: Item, mode: Mode) -> Listed {
        let mut line = Vec::with_capacity(item.record.original.len() + 256);
        let op_bytes = write_item(&mut line, &item, mode);
        Listed {
            line,
            tally: Tally::new(item, op_bytes),
        }
    }
}

/// `--rate`, `--batch-size` and `--batch-bytes` must describe a send that could happen.
pub fn check_estimate_flags(rate: f64, batch_size: usize, batch_bytes: usize) -> Result<()> {
    if !(rate.is_finite() && rate > 0.0) {
        return Err(usage(format!("--rate {rate}: must be a positive number")));
    }
    if batch_size == 0 {
        return Err(usage("--batch-size 0: must be at least 1".into()));
    }
    if !(limits::MAX_OPERATION_BYTES..=limits::MAX_BATCH_BYTES).contains(&batch_bytes) {
        return Err(usage(format!(
            "--batch-bytes {batch_bytes}: must be between {} and {}",
            limits::MAX_OPERATION_BYTES,
            limits::MAX_BATCH_BYTES
        )));
    }
    Ok(())
}

/// One listing line (with its newline) into `line`; returns the operation's size when mapped.
/// Constant keys are written as bytes and strings serialized straight from `&str`: no allocation
/// per line beyond what `line` already holds.
pub fn write_item(line: &mut Vec<u8>, item: &Item, mode: Mode) -> Option<usize> {
    let location = &item.record.location;
    line.extend_from_slice(b"{\"source\":");
    push_source(line, &location.file, location.line);
    let mut op_bytes = None;
    match &item.outcome {
        Outcome::Mapped(op) => {
            push_field(line, b",\"action\":", op.action.name());
            push_field(line, b",\"endpoint\":", op.endpoint(mode).label());
            line.extend_from_slice(b",\"operation\":");
            let before = line.len();
            op.write_json(line);
            op_bytes = Some(line.len() - before);
        }
        Outcome::Skipped { action, reason } => {
            push_field(line, b",\"action\":", action.name());
            push_field(line, b",\"skipped\":", reason);
        }
        Outcome::Invalid(invalid) => {
            if let Some(action) = invalid.action {
                push_field(line, b",\"action\":", action.name());
            }
            push_field(line, b",\"error\":", &invalid.to_string());
            line.extend_from_slice(b",\"field\":");
            match &invalid.field {
                Some(field) => push_str(line, field),
                None => line.extend_from_slice(b"null"),
            }
        }
    }
    line.extend_from_slice(b"}\n");
    op_bytes
}

/// `"FILE:LINE"` as a JSON string, the same text as `Location`'s `Display`.
fn push_source(line: &mut Vec<u8>, file: &str, number: u64) {
    // The file name escaped as a JSON string, then its closing quote replaced by `:LINE"`.
    push_str(line, file);
    line.pop();
    line.push(b':');
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = number;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    line.extend_from_slice(&digits[at..]);
    line.push(b'"');
}

/// `key` (already `,"name":`) and `value` as a JSON string.
fn push_field(line: &mut Vec<u8>, key: &[u8], value: &str) {
    line.extend_from_slice(key);
    push_str(line, value);
}

fn push_str(line: &mut Vec<u8>, value: &str) {
    // Writing into a Vec cannot fail, and a str always serializes.
    let _ = serde_json::to_writer(&mut *line, value);
}

#[cfg(test)]
mod tests {
    use super::push_source;

    #[test]
    fn source_is_the_location_as_a_json_string() {
        for (file, number) in [
            ("in.ndjson", 1u64),
            ("a \"b\"\\c.json", 1_234_567),
            ("-", 0),
        ] {
            let mut line = Vec::new();
            push_source(&mut line, file, number);
            let expected = serde_json::to_vec(&format!("{file}:{number}")).unwrap_or_default();
            assert_eq!(line, expected, "{file}:{number}");
        }
        let mut line = Vec::new();
        push_source(&mut line, "x", u64::MAX);
        assert_eq!(line, format!("\"x:{}\"", u64::MAX).into_bytes());
    }
}
