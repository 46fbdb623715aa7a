//! The check `send` runs before it sends anything: a pre-scan of the whole input that refuses to
//! start (exit 2) when events could trigger campaigns (unless `--allow-recent`), when an input
//! cannot be read to its end, or when invalid records are over `--max-invalid`.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;

use super::{Analyzer, Observation, Window};
use crate::deliver::budget::ErrorBudget;
use crate::exit::{Exit, Fatal, usage};
use crate::map::Outcome;
use crate::report::progress::Display;
use crate::report::progress::scan::ScanProgress;
use crate::stream::{Pipeline, PipelineSettings};

/// What the pre-scan found, for the send that follows.
#[derive(Debug, Default)]
pub(crate) struct PreScan {
    /// Records in the input (zero when there was no pre-scan).
    pub records: u64,
    pub invalid: u64,
    /// Whether the input was pre-scanned at all.
    pub scanned: bool,
    /// The campaign checks' analyzer, when they ran (not with `--allow-recent`).
    pub analyzer: Option<Analyzer>,
}

/// Whether the inputs include standard input (no files, or `-`).
pub(crate) fn reads_stdin(settings: &PipelineSettings) -> bool {
    settings.files.is_empty() || settings.files.iter().any(|f| f == Path::new("-"))
}

/// The message when `send` would read standard input without `--allow-recent`.
pub(crate) const STDIN_REFUSAL: &str = "refusing to send from standard input without --allow-recent: \
     send first checks the whole input for events within the last 72 hours or without a timestamp \
     (they can trigger campaigns), and standard input can be read only once. Save the input to a \
     file and pass the file, or check it with `cio-replay dry-run` and pass --allow-recent. \
     Nothing was sent.";

/// The campaign checks alone, as the unit tests below exercise them: [`pre_scan`] without a
/// budget, returning its analyzer (`None` with `allow_recent`).
#[cfg(test)]
pub(crate) fn check_before_send(
    settings: &PipelineSettings,
    window: &Window,
    allow_recent: bool,
    now: i64,
) -> Result<Option<Analyzer>> {
    let stop = AtomicBool::new(false);
    let look = Look {
        stop: &stop,
        display: Display::Hidden,
    };
    pre_scan(settings, window, allow_recent, None, now, look).map(|scan| scan.analyzer)
}

/// What the pre-scan watches besides the input: the stop flag (Ctrl-C) and how its progress shows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Look<'a> {
    pub(crate) stop: &'a AtomicBool,
    pub(crate) display: Display,
}

/// The pre-scan of `send`: the campaign checks unless `allow_recent`, and, whenever it runs (not
/// with `allow_recent` and no `budget`), a refusal when an input cannot be read to its end (a
/// truncated or corrupt file: its place and offsets) or when invalid records are over `budget`.
/// Its progress shows as `look.display` says; a raised `look.stop` ends it at the next record
/// with [`Exit::Interrupted`] (nothing was sent).
pub(crate) fn pre_scan(
    settings: &PipelineSettings,
    window: &Window,
    allow_recent: bool,
    budget: Option<ErrorBudget>,
    now: i64,
    look: Look<'_>,
) -> Result<PreScan> {
    if allow_recent && budget.is_none() {
        return Ok(PreScan::default());
    }
    if reads_stdin(settings) {
        if !allow_recent {
            return Err(Fatal::new(Exit::Usage, STDIN_REFUSAL).into());
        }
        // Standard input can be read once: the budget is applied during the send only.
        return Ok(PreScan::default());
    }
    let mut analyzer = Analyzer::new(now).with_window(window);
    let mut scan = PreScan {
        scanned: true,
        ..PreScan::default()
    };
    let mut first_invalid = None;
    let pipeline = Pipeline::open(settings.clone())?.with_window(window.clone());
    let mut progress = ScanProgress::new("pre-scan", look.display, pipeline.progress());
    let items = pipeline.finish_on_workers(|item| {
        let read_error = match (&item.record.event, item.record.is_read_error()) {
            (Err(e), true) => Some(e.to_string()),
            _ => None,
        };
        let invalid = matches!(item.outcome, Outcome::Invalid(_));
        let observation = Observation::of(&item);
        (
            item.record.location,
            item.record.input,
            observation,
            invalid,
            read_error,
        )
    });
    for (location, input, observation, invalid, read_error) in items {
        if look.stop.load(Ordering::SeqCst) {
            progress.finish();
            return Err(Fatal::new(
                Exit::Interrupted,
                format!(
                    "the pre-scan was interrupted after {}: nothing was sent",
                    progress.so_far()
                ),
            )
            .into());
        }
        progress.tick();
        scan.records += 1;
        if let Some(error) = read_error {
            return Err(usage(format!(
                "{location}: {error}: this input cannot be read to its end (truncated or corrupt?); \
                 refusing to send any of it. Nothing was sent."
            )));
        }
        if invalid {
            scan.invalid += 1;
            first_invalid.get_or_insert_with(|| location.to_string());
        }
        if let Some(observation) = observation {
            analyzer.add(&location, input, observation);
        }
    }
    progress.finish();
    if let Some(budget) = budget
        && budget.exceeded(scan.invalid, scan.records)
    {
        return Err(usage(format!(
            "{} of {} records are invalid (the first at {}), over --max-invalid {budget}: \
             nothing was sent. `cio-replay validate` lists them.",
            scan.invalid,
            scan.records,
            first_invalid.unwrap_or_default()
        )));
    }
    if !allow_recent {
        if let Some(message) = analyzer.refusal() {
            return Err(Fatal::new(Exit::Usage, message).into());
        }
        scan.analyzer = Some(analyzer);
    }
    Ok(scan)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::exit::exit_for_error;

    #[test]
    fn stdin_is_no_files_or_a_dash() {
        let mut s = PipelineSettings::new(Vec::new());
        assert!(reads_stdin(&s));
        s.files = vec![PathBuf::from("a.ndjson")];
        assert!(!reads_stdin(&s));
        s.files.push(PathBuf::from("-"));
        assert!(reads_stdin(&s));
    }

    #[test]
    fn stdin_is_refused_without_allow_recent_and_allowed_with_it() {
        let s = PipelineSettings::new(Vec::new());
        let err = check_before_send(&s, &Window::default(), false, 0).unwrap_err();
        assert_eq!(exit_for_error(&err), Exit::Usage);
        assert!(err.to_string().contains("standard input"));
        assert!(
            check_before_send(&s, &Window::default(), true, 0)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn the_refusal_is_a_usage_error_and_old_events_pass() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.ndjson");
        std::fs::write(
            &path,
            "{\"type\":\"track\",\"userId\":\"u\",\"event\":\"E\",\"timestamp\":1000000}\n",
        )
        .unwrap();
        let s = PipelineSettings::new(vec![path]);
        let ok = check_before_send(&s, &Window::default(), false, 2_000_000).unwrap();
        assert_eq!(ok.map(|a| a.campaign_risk().recent_events), Some(0));
        let err = check_before_send(&s, &Window::default(), false, 1_000_000).unwrap_err();
        assert_eq!(exit_for_error(&err), Exit::Usage);
        assert!(
            err.to_string()
                .contains("1 event is within the last 72 hours")
        );
        let until = Window::from_flags(None, Some("1970-01-02")).unwrap();
        let ok = check_before_send(&s, &until, false, 1_000_000).unwrap();
        assert_eq!(
            ok.map(|a| a.report().records),
            Some(0),
            "outside the window"
        );
    }
}
