//! The one conversion from the command line to the neutral settings every command takes: the
//! Track API base URL (region or `--endpoint`, by the one URL rule), the credentials' sources, the
//! mapping configuration (with the `--mapping` TOML file), the pipeline, the delivery, the job's
//! checkpoint and the run settings a resume must share. Every error here is a usage error (exit 2)
//! that names the flag or file, raised before anything is read or sent.

use std::path::Path;
use std::time::Duration;

use anyhow::Result;

use crate::cli::{
    DryRunArgs, EventIdArg, GdprArgs, InputArgs, MappingArgs, ModeArg, RegionArg, SandboxArgs,
    SendArgs, ValidateArgs, VerifyArgs,
};
use crate::cmd::{dry_run, gdpr, send, validate, verify};
use crate::deliver::budget::ErrorBudget;
use crate::exit::{Exit, Fatal, usage};
use crate::job::TargetSettings;
use crate::ledger::{Job, RunSettings};
use crate::map::gdpr::{GdprAction, action_name};
use crate::map::{EventIdMode, MappingConfig, Routes};
use crate::source::list::ListFormat;
use crate::stream::PipelineSettings;
use crate::track::{Mode, Region};
use crate::transform::Transform;

/// `validate`'s settings.
pub(crate) fn validate(args: ValidateArgs) -> Result<validate::Settings> {
    let mapping = MappingSettings::from_args(&args.mapping)?;
    Ok(validate::Settings {
        window: window(&args.mapping)?,
        pipeline: mapping.pipeline(&args.input)?,
        mode: mapping.mode,
        show_progress: show_progress(&args.display),
        summary_json: args.summary_json,
    })
}

/// `dry-run`'s settings: the send its estimate is of, as `send` checks it.
pub(crate) fn dry_run(args: DryRunArgs) -> Result<dry_run::Settings> {
    let mapping = MappingSettings::from_args(&args.mapping)?;
    if args.output.is_none() && args.summary_json.as_deref() == Some(Path::new("-")) {
        return Err(usage(
            "--summary-json - writes to standard output, where the listing goes: give --output FILE \
             for the listing",
        ));
    }
    Ok(dry_run::Settings {
        delivery: estimate_delivery(&args, mapping.mode)?,
        window: window(&args.mapping)?,
        pipeline: mapping.pipeline(&args.input)?,
        show_progress: show_progress(&args.display),
        output: args.output,
        summary_json: args.summary_json,
    })
}

/// `send`'s settings (the run settings of its checkpoint without the site id, which the run
/// learns).
pub(crate) fn send(args: SendArgs) -> Result<send::Settings> {
    let mapping = MappingSettings::from_args(&args.mapping)?;
    let d = &args.delivery;
    let delivery = delivery(mapping.mode, d)?;
    let target = target(d, mapping.region, args.mapping.endpoint.as_deref())?;
    let pipeline = mapping.pipeline(&args.input)?;
    let window = window(&args.mapping)?;
    let budget = args.max_invalid.as_deref().map(ErrorBudget::parse);
    let budget = budget.transpose().map_err(usage)?;
    let settings = match &d.checkpoint {
        None => RunSettings::default(),
        Some(_) => send_run_settings(&args, pipeline.transform.as_deref(), None)
            .map_err(|e| usage(e.to_string()))?,
    };
    let job = Job {
        checkpoint: d.checkpoint.clone(),
        resume: d.resume,
        files: pipeline.files.clone(),
        settings,
    };
    Ok(send::Settings {
        pipeline,
        window,
        delivery,
        target,
        job,
        dead_letter: (
            args.dead_letter,
            crate::ledger::dead_letter::default_path(&args.input.files),
        ),
        dead_letter_append: args.dead_letter_append,
        allow_recent: args.allow_recent,
        budget,
        limit: args.limit,
        report: d.report.clone(),
        display: progress_display(&args.display),
    })
}

/// `gdpr`'s settings (the run settings of its checkpoint without the site id and the lists'
/// digest, which the run learns).
pub(crate) fn gdpr(args: GdprArgs) -> Result<gdpr::Settings> {
    check_gdpr_flags(&args)?;
    let d = &args.delivery;
    let mode = mode(args.mode);
    let action = GdprAction::from(args.action);
    let list_format = args.list_format.map(ListFormat::from);
    let target = target(d, region(args.region), args.endpoint.as_deref())?;
    // Where the job sends, as its checkpoint has always kept it: the host, or the sandbox.
    let endpoint = match target.sandbox {
        true => "in-process sandbox",
        false => crate::track::url::authority(&target.base_url),
    };
    let mut settings = RunSettings::default();
    settings
        .set("command", "gdpr")
        .set("action", action_name(action))
        .set("mode", mode.name())
        .set("endpoint", endpoint)
        .set("column", args.column.clone().unwrap_or_default())
        .set(
            "list_format",
            list_format.map_or("by extension", ListFormat::name),
        );
    Ok(gdpr::Settings {
        action,
        mode,
        delivery: delivery(mode, d)?,
        target,
        job: Job {
            checkpoint: d.checkpoint.clone(),
            resume: d.resume,
            files: args.files.clone(),
            settings,
        },
        lists: args.files,
        list_format,
        column: args.column,
        dry_run: args.dry_run,
        yes: args.yes,
        receipt: args.receipt,
        report: d.report.clone(),
        display: progress_display(&args.display),
    })
}

/// `verify`'s settings: the App API's URL (by the one URL rule) and key, and the checks.
pub(crate) fn verify(args: VerifyArgs) -> Result<verify::Settings> {
    let mapping = MappingSettings::from_args(&args.mapping)?;
    let window = window(&args.mapping)?;
    let flags = verify_flags(&args)?;
    let base_url = match &args.app_endpoint {
        Some(url) => {
            crate::track::url::check(url).map_err(|e| usage(format!("--app-endpoint: {e}")))?
        }
        None => crate::verify::client::base_url(mapping.region).to_string(),
    };
    let key = crate::verify::client::app_key(
        args.app_api_key_file.as_deref(),
        std::env::var("CIO_APP_API_KEY").ok(),
    )
    .map_err(|e| usage(e.to_string()))?;
    Ok(verify::Settings {
        pipeline: mapping.pipeline(&args.input)?,
        window,
        checks: flags.settings,
        base_url,
        key,
        timeout: flags.timeout,
        retries: args.retries,
        ca_bundle: args.ca_bundle,
        report: args.report,
    })
}

/// `sandbox`'s settings: the flags, else the environment, else the sandbox's defaults.
pub(crate) fn sandbox(args: SandboxArgs) -> crate::sandbox::SandboxConfig {
    use crate::sandbox::{DEFAULT_API_KEY, DEFAULT_APP_API_KEY, DEFAULT_SITE_ID};
    let from_env = |name: &str| std::env::var(name).ok().filter(|k| !k.is_empty());
    let api_key = args
        .api_key
        .or_else(|| from_env("CIO_API_KEY"))
        .unwrap_or_else(|| DEFAULT_API_KEY.to_string());
    let app_api_key = args
        .app_api_key
        .or_else(|| from_env("CIO_APP_API_KEY"))
        .unwrap_or_else(|| DEFAULT_APP_API_KEY.to_string());
    crate::sandbox::SandboxConfig {
        port: args.port,
        site_id: args
            .site_id
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| DEFAULT_SITE_ID.to_string()),
        api_key: crate::secret::Secret::new(api_key),
        app_api_key: crate::secret::Secret::new(app_api_key),
        region: region(args.workspace_region),
        latency: Duration::from_millis(args.latency_ms),
        fail_rate: args.fail_rate,
        throttle: args.throttle,
        seed: args.seed,
    }
}

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

impl From<crate::cli::GdprActionArg> for GdprAction {
    fn from(arg: crate::cli::GdprActionArg) -> Self {
        match arg {
            crate::cli::GdprActionArg::Delete => Self::Delete,
            crate::cli::GdprActionArg::Suppress => Self::Suppress,
            crate::cli::GdprActionArg::Unsuppress => Self::Unsuppress,
        }
    }
}

impl From<crate::cli::ListFormatArg> for ListFormat {
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
struct VerifyFlags {
    pub settings: crate::verify::VerifySettings,
    /// The per-attempt timeout.
    pub timeout: Duration,
}

/// `--sample` (at least 1), `--seed`, `--timeout` and the progress bars of `verify`.
fn verify_flags(args: &crate::cli::VerifyArgs) -> Result<VerifyFlags> {
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
