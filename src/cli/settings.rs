//! Command-line values turned into checked settings: the Track API base URL (region or
//! `--endpoint`), the mapping configuration (with the `--mapping` TOML file), the delivery mode and
//! the pipeline settings. Every error here is a usage error (exit 2) that names the flag or file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::ledger::RunSettings;

use anyhow::Result;

use crate::cli::{EventIdArg, InputArgs, MappingArgs, ModeArg, RegionArg};
use crate::exit::{Exit, Fatal, usage};
use crate::map::{EventIdMode, MappingConfig, Routes};
use crate::stream::PipelineSettings;
use crate::track::{Mode, Region};
use crate::transform::Transform;

/// The checked form of [`MappingArgs`].
#[derive(Debug, Clone)]
pub(crate) struct MappingSettings {
    pub region: Region,
    pub mode: Mode,
    pub mapping: MappingConfig,
    pub strict: bool,
}

impl MappingSettings {
    /// Check the mapping flags; reads the `--mapping` file.
    pub(crate) fn from_args(args: &MappingArgs) -> Result<MappingSettings> {
        let region = region(args.region);
        // A bad --endpoint is refused by every command that takes it, dry-run's estimate included.
        if let Some(url) = &args.endpoint {
            endpoint_url(url)?;
        }
        let routes = match &args.mapping {
            Some(path) => read_routes(path)?,
            None => Routes::default(),
        };
        let event_id = match args.event_id {
            EventIdArg::Ulid => EventIdMode::Ulid,
            EventIdArg::MessageId => EventIdMode::MessageId,
            EventIdArg::None => EventIdMode::None,
        };
        Ok(MappingSettings {
            region,
            mode: mode(args.mode),
            mapping: MappingConfig::new(!args.no_convert_timestamps, event_id, routes),
            strict: args.strict,
        })
    }

    /// The pipeline settings for `input` mapped with these settings: folders and `--files-from`
    /// expanded into the list of files (a usage error when one names nothing).
    pub(crate) fn pipeline(&self, input: &InputArgs) -> Result<PipelineSettings> {
        Ok(PipelineSettings {
            files: crate::source::expand(&input.files, input.files_from.as_deref())?,
            format: input.input_format.map(Into::into),
            mapping: self.mapping.clone(),
            strict: self.strict,
            transform: transform(input)?.map(std::sync::Arc::new),
        })
    }
}

/// The jq program of `--transform`, `--transform-file` or `--preset`, compiled (a program that
/// does not compile, or a file that cannot be read, is a usage error: exit 2).
pub(crate) fn transform(input: &InputArgs) -> Result<Option<Transform>> {
    let compiled = match transform_source(input)? {
        None => return Ok(None),
        Some(Source::Preset(preset)) => Transform::preset(preset),
        Some(Source::Text(text, origin)) => Transform::compile(&text, &origin),
    };
    compiled.map(Some).map_err(|e| usage(e.to_string()))
}

/// Where a transform comes from.
enum Source {
    /// A program's text, and the flag that gave it.
    Text(String, String),
    Preset(&'static crate::transform::preset::Preset),
}

/// The transform's text and where it came from (`None`: no transform).
fn transform_source(input: &InputArgs) -> Result<Option<Source>> {
    Ok(Some(
        match (&input.transform, &input.transform_file, &input.preset) {
            (Some(text), ..) => Source::Text(text.clone(), "--transform".to_owned()),
            (None, Some(path), _) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    usage(format!(
                        "--transform-file {}: cannot read it: {e}",
                        path.display()
                    ))
                })?;
                Source::Text(text, format!("--transform-file {}", path.display()))
            }
            (None, None, Some(name)) => match crate::transform::preset::find(name) {
                Some(preset) => Source::Preset(preset),
                None => {
                    let known: Vec<_> = crate::transform::preset::names().collect();
                    return Err(usage(format!(
                        "--preset {name}: no such preset; the presets are {}",
                        known.join(", ")
                    )));
                }
            },
            (None, None, None) => return Ok(None),
        },
    ))
}

pub(crate) fn region(arg: RegionArg) -> Region {
    match arg {
        RegionArg::Us => Region::Us,
        RegionArg::Eu => Region::Eu,
    }
}

pub(crate) fn mode(arg: ModeArg) -> Mode {
    match arg {
        ModeArg::Batch => Mode::Batch,
        ModeArg::Sequential => Mode::Sequential,
    }
}

/// Check an `--endpoint` URL by the one rule ([`crate::track::url::check`]): `https://`, or plain
/// `http://` to a loopback host; a host, no query or fragment; returned without a trailing `/`.
pub(crate) fn endpoint_url(url: &str) -> Result<String> {
    crate::track::url::check(url).map_err(|e| usage(format!("--endpoint: {e}")))
}

/// Read and parse a `--mapping` TOML file; errors name the file.
pub(crate) fn read_routes(path: &Path) -> Result<Routes> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| usage(format!("--mapping {shown}: cannot read it: {e}")))?;
    Routes::from_toml_str(&text)
        .map(|routes| routes.with_source(&shown.to_string()))
        .map_err(|e| usage(format!("--mapping {shown}: {e}")))
}

/// The delivery flags shared by `send` and `gdpr` (rate, concurrency, batch limits, retries,
/// linger) as checked sender settings; a bad value is a usage error.
pub(crate) fn delivery(
    mode: Mode,
    d: &crate::cli::DeliveryArgs,
) -> Result<crate::deliver::DeliverySettings> {
    crate::deliver::DeliverySettings::new(
        mode,
        d.rate,
        d.concurrency,
        d.batch_bytes,
        d.batch_size,
        d.retries,
    )
    .and_then(|settings| settings.with_linger(d.linger))
    .map_err(|e| usage(e.to_string()))
}

/// Where a sending verb sends and as whom, checked but not yet resolved (no key read, no sandbox
/// started): see `cmd::job::Target`.
#[derive(Debug, Clone)]
pub(crate) struct TargetSettings {
    /// `--sandbox`: an in-process sandbox instead of `base_url`.
    pub sandbox: bool,
    /// The checked Track API base URL: `--endpoint`, or the region's.
    pub base_url: String,
    /// `us`, `eu` or `custom endpoint`.
    pub region: String,
    /// `--region`: where the workspace must be (the preflight checks).
    pub expected_region: Region,
    pub site_id: Option<String>,
    pub api_key_file: Option<PathBuf>,
    /// `--api-key` (warned about: it shows in the process list).
    pub api_key: Option<String>,
    pub ca_bundle: Option<PathBuf>,
    /// The per-attempt timeout.
    pub timeout: Duration,
}

/// The target flags of `send` and `gdpr`: `region` and `--endpoint` (checked by the one URL rule),
/// the credentials' sources, `--ca-bundle` and `--timeout`.
pub(crate) fn target(
    d: &crate::cli::DeliveryArgs,
    workspace_region: Region,
    endpoint: Option<&str>,
) -> Result<TargetSettings> {
    if !(d.timeout.is_finite() && d.timeout > 0.0 && d.timeout <= 3600.0) {
        return Err(usage(format!(
            "--timeout {}: must be a number of seconds between 0 and 3600",
            d.timeout
        )));
    }
    let (base_url, region) = match endpoint {
        Some(url) => (endpoint_url(url)?, "custom endpoint".to_string()),
        None => (
            workspace_region.base_url().to_string(),
            workspace_region.name().to_string(),
        ),
    };
    Ok(TargetSettings {
        sandbox: d.sandbox,
        base_url,
        region,
        expected_region: workspace_region,
        site_id: d.site_id.clone(),
        api_key_file: d.api_key_file.clone(),
        api_key: d.api_key.clone(),
        ca_bundle: d.ca_bundle.clone(),
        timeout: Duration::from_secs_f64(d.timeout),
    })
}

/// The send the estimate is of: `--concurrency`, `--batch-size` and `--batch-bytes` are checked
/// as `send` checks them ([`crate::deliver::DeliverySettings::new`]); `--rate` must be positive (it divides).
pub(crate) fn estimate_delivery(
    args: &crate::cli::DryRunArgs,
    mode: Mode,
) -> Result<crate::deliver::DeliverySettings> {
    let rate = args.rate;
    if !(rate.is_finite() && rate > 0.0) {
        return Err(usage(format!("--rate {rate}: must be a positive number")));
    }
    crate::deliver::DeliverySettings::new(
        mode,
        rate,
        args.concurrency,
        args.batch_bytes,
        args.batch_size,
        0,
    )
    .map_err(|e| usage(e.to_string()))
}

/// The settings a resumed `send` must share with the run that wrote its checkpoint (see
/// [`RunSettings`]): mode, event ids, timestamps, strictness, the time window, the input format,
/// the mapping file's hash, the transform's text (the one compiled for the run), the endpoint host
/// and a hash of `site_id`. Never the API key.
pub(crate) fn send_run_settings(
    args: &crate::cli::SendArgs,
    transform: Option<&Transform>,
    site_id: Option<&str>,
) -> std::io::Result<RunSettings> {
    use crate::cli::{EventIdArg, InputFormatArg, RegionArg};
    let m = &args.mapping;
    let mut s = RunSettings::default();
    s.set("mode", mode(m.mode).name());
    s.set(
        "event_id",
        match m.event_id {
            EventIdArg::Ulid => "ulid",
            EventIdArg::MessageId => "message-id",
            EventIdArg::None => "none",
        },
    );
    s.set("convert_timestamps", (!m.no_convert_timestamps).to_string());
    s.set("strict", m.strict.to_string());
    s.set("since", m.since.clone().unwrap_or_default());
    s.set("until", m.until.clone().unwrap_or_default());
    s.set(
        "input_format",
        match args.input.input_format {
            None => "by extension",
            Some(InputFormatArg::Ndjson) => "ndjson",
            Some(InputFormatArg::Json) => "json",
            Some(InputFormatArg::Csv) => "csv",
            Some(InputFormatArg::Parquet) => "parquet",
        },
    );
    // The program itself: resuming with another transform would number other records.
    s.set("transform", transform.map_or("", Transform::text));
    s.set_mapping_file(m.mapping.as_deref())?;
    let endpoint = if args.delivery.sandbox {
        "in-process sandbox".to_owned()
    } else {
        match &m.endpoint {
            Some(url) => crate::track::url::origin(url),
            None => format!(
                "region {}",
                match m.region {
                    RegionArg::Us => "us",
                    RegionArg::Eu => "eu",
                }
            ),
        }
    };
    s.set("endpoint", endpoint);
    s.set_site_id(site_id);
    Ok(s)
}

/// The `--since` / `--until` window of a command, or a usage error (exit 2) naming the flag.
pub(crate) fn window(
    args: &crate::cli::MappingArgs,
) -> anyhow::Result<crate::report::safety::Window> {
    crate::report::safety::Window::from_flags(args.since.as_deref(), args.until.as_deref())
        .map_err(|e| Fatal::new(Exit::Usage, e.to_string()).into())
}

/// Whether progress bars draw, from `--progress` and `--quiet`.
pub(crate) fn show_progress(display: &crate::cli::DisplayArgs) -> bool {
    use crate::cli::ProgressArg;
    let when = match display.progress {
        ProgressArg::Auto => crate::report::progress::When::Auto,
        ProgressArg::Always => crate::report::progress::When::Always,
        ProgressArg::Never => crate::report::progress::When::Never,
    };
    crate::report::progress::enabled(when, display.quiet)
}

/// The hidden setting of the progress line's interval in milliseconds (for tests; not in `--help`).
pub(crate) const PROGRESS_INTERVAL_ENV: &str = "CIO_PROGRESS_INTERVAL_MS";

/// How a long run (`send`, `gdpr`) shows progress, from `--progress` and `--quiet`: the bar on a
/// terminal, else the plain progress line every 30 seconds (`CIO_PROGRESS_INTERVAL_MS`, read
/// here once, changes that).
pub(crate) fn progress_display(
    display: &crate::cli::DisplayArgs,
) -> crate::report::progress::Display {
    use crate::cli::ProgressArg;
    let when = match display.progress {
        ProgressArg::Auto => crate::report::progress::When::Auto,
        ProgressArg::Always => crate::report::progress::When::Always,
        ProgressArg::Never => crate::report::progress::When::Never,
    };
    let interval = std::env::var(PROGRESS_INTERVAL_ENV)
        .ok()
        .and_then(|ms| ms.trim().parse::<u64>().ok())
        .filter(|ms| *ms > 0)
        .map_or(
            crate::report::progress::line::INTERVAL,
            std::time::Duration::from_millis,
        );
    crate::report::progress::display(when, display.quiet, interval)
}

impl From<crate::cli::GdprActionArg> for crate::gdpr::GdprAction {
    fn from(arg: crate::cli::GdprActionArg) -> Self {
        match arg {
            crate::cli::GdprActionArg::Delete => Self::Delete,
            crate::cli::GdprActionArg::Suppress => Self::Suppress,
            crate::cli::GdprActionArg::Unsuppress => Self::Unsuppress,
        }
    }
}

impl From<crate::cli::ListFormatArg> for crate::gdpr::list::ListFormat {
    fn from(arg: crate::cli::ListFormatArg) -> Self {
        match arg {
            crate::cli::ListFormatArg::Text => Self::Text,
            crate::cli::ListFormatArg::Csv => Self::Csv,
            crate::cli::ListFormatArg::Ndjson => Self::Ndjson,
        }
    }
}

impl From<crate::cli::InputFormatArg> for crate::source::InputFormat {
    fn from(arg: crate::cli::InputFormatArg) -> Self {
        match arg {
            crate::cli::InputFormatArg::Ndjson => Self::Ndjson,
            crate::cli::InputFormatArg::Json => Self::Json,
            crate::cli::InputFormatArg::Csv => Self::Csv,
            crate::cli::InputFormatArg::Parquet => Self::Parquet,
        }
    }
}

/// The checked `verify` flags besides the inputs, the mapping and the App API's URL and key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct VerifyFlags {
    pub settings: crate::verify::VerifySettings,
    /// The per-attempt timeout.
    pub timeout: Duration,
}

/// `--sample` (at least 1), `--seed`, `--timeout` and the progress bars of `verify`.
pub(crate) fn verify(args: &crate::cli::VerifyArgs) -> Result<VerifyFlags> {
    if !(args.timeout.is_finite() && args.timeout > 0.0 && args.timeout <= 3600.0) {
        return Err(usage(format!(
            "--timeout {}: must be a number of seconds between 0 and 3600",
            args.timeout
        )));
    }
    if args.sample == Some(0) {
        return Err(usage("--sample 0: check at least one person"));
    }
    Ok(VerifyFlags {
        settings: crate::verify::VerifySettings {
            sample: args.sample.map(|n| (n, args.seed)),
            progress: show_progress(&args.display),
        },
        timeout: Duration::from_secs_f64(args.timeout),
    })
}

/// The `gdpr` flags that do not go together: refused before anything is read.
pub(crate) fn check_gdpr_flags(args: &crate::cli::GdprArgs) -> Result<()> {
    let d = &args.delivery;
    if args.dry_run && (d.report.is_some() || d.checkpoint.is_some()) {
        return Err(usage(
            "--dry-run sends nothing: --report and --checkpoint belong to real runs (the dry run's record is its listing on standard output)",
        ));
    }
    if d.resume && d.checkpoint.is_none() {
        return Err(usage(
            "--resume needs --checkpoint FILE (the checkpoint of the job to continue)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::SendArgs;
    use clap::Parser;

    #[test]
    fn endpoint_urls_are_checked() {
        assert_eq!(
            endpoint_url("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            endpoint_url("https://track-eu.customer.io").unwrap(),
            "https://track-eu.customer.io"
        );
        assert!(endpoint_url("track.customer.io").is_err());
        assert!(endpoint_url("https://").is_err());
        assert!(endpoint_url("https://x.io/?a=b").is_err());
    }

    fn send_args(extra: &[&str]) -> SendArgs {
        let mut argv = vec!["cio-replay", "send", "in.ndjson"];
        argv.extend_from_slice(extra);
        match crate::cli::Cli::try_parse_from(argv).unwrap().command {
            crate::cli::Command::Send(args) => args,
            _ => unreachable!("parsed a send command"),
        }
    }

    #[test]
    fn settings_name_what_changed_and_never_hold_the_key() {
        let a = send_run_settings(&send_args(&["--api-key", "sekrit-key"]), None, Some("site"))
            .unwrap();
        let text = serde_json::to_string(&a).unwrap();
        assert!(!text.contains("sekrit-key"), "{text}");
        assert!(!text.contains("\"site\""), "{text}");

        let b = send_run_settings(
            &send_args(&["--mode", "sequential", "--event-id", "none"]),
            None,
            Some("other"),
        )
        .unwrap();
        let diff = a.differences(&b);
        assert_eq!(diff.len(), 3, "{diff:?}");
        assert!(
            diff.iter()
                .any(|d| d == "mode was \"batch\", now \"sequential\""),
            "{diff:?}"
        );
        assert!(diff.iter().any(|d| d.contains("site id")), "{diff:?}");
        // Delivery tuning may change between runs.
        let c = send_run_settings(
            &send_args(&["--rate", "5", "--concurrency", "1"]),
            None,
            Some("site"),
        )
        .unwrap();
        assert!(a.differences(&c).is_empty());
    }

    #[test]
    fn an_edited_mapping_file_is_a_change() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.toml");
        std::fs::write(&path, "[track-event]\n").unwrap();
        let p = path.to_str().unwrap();
        let a = send_run_settings(&send_args(&["--mapping", p]), None, None).unwrap();
        std::fs::write(&path, "[track-event]\nenabled = false\n").unwrap();
        let b = send_run_settings(&send_args(&["--mapping", p]), None, None).unwrap();
        let diff = a.differences(&b);
        assert_eq!(diff.len(), 1, "{diff:?}");
        assert!(diff[0].starts_with("mapping was"), "{diff:?}");
        let missing = send_run_settings(&send_args(&["--mapping", "/nope.toml"]), None, None);
        assert!(missing.unwrap_err().to_string().contains("/nope.toml"));
    }
}
