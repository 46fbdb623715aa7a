//! Command-line values turned into checked settings: the Track API base URL (region or
//! `--endpoint`), the mapping configuration (with the `--mapping` TOML file), the delivery mode and
//! the pipeline settings. Every error here is a usage error (exit 2) that names the flag or file.

use std::path::Path;

use crate::checkpoint::{RunSettings, endpoint_host};

use anyhow::Result;

use crate::cli::{EventIdArg, InputArgs, MappingArgs, ModeArg, RegionArg};
use crate::exit::{Exit, Fatal};
use crate::mapping::{EventIdMode, MappingConfig, Routes};
use crate::pipeline::PipelineSettings;
use crate::track::{Mode, Region};

/// The checked form of [`MappingArgs`].
#[derive(Debug, Clone)]
pub struct MappingSettings {
    pub region: Region,
    /// The Track API base URL without a trailing `/`: `--endpoint` when given, else the region's.
    pub base_url: String,
    pub mode: Mode,
    pub mapping: MappingConfig,
    pub strict: bool,
}

fn usage(message: String) -> anyhow::Error {
    Fatal::new(Exit::Usage, message).into()
}

impl MappingSettings {
    /// Check the mapping flags; reads the `--mapping` file.
    pub fn from_args(args: &MappingArgs) -> Result<MappingSettings> {
        let region = region(args.region);
        let base_url = match &args.endpoint {
            Some(url) => endpoint_url(url)?,
            None => region.base_url().to_owned(),
        };
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
            base_url,
            mode: mode(args.mode),
            mapping: MappingConfig::new(!args.no_convert_timestamps, event_id, routes),
            strict: args.strict,
        })
    }

    /// The pipeline settings for `input` mapped with these settings: folders and `--files-from`
    /// expanded into the list of files (a usage error when one names nothing).
    pub fn pipeline(&self, input: &InputArgs) -> Result<PipelineSettings> {
        Ok(PipelineSettings {
            files: crate::input::expand(&input.files, input.files_from.as_deref())?,
            format: input.input_format.map(Into::into),
            mapping: self.mapping.clone(),
            strict: self.strict,
        })
    }
}

pub fn region(arg: RegionArg) -> Region {
    match arg {
        RegionArg::Us => Region::Us,
        RegionArg::Eu => Region::Eu,
    }
}

pub fn mode(arg: ModeArg) -> Mode {
    match arg {
        ModeArg::Batch => Mode::Batch,
        ModeArg::Sequential => Mode::Sequential,
    }
}

/// Check an `--endpoint` URL: `http://` or `https://`, a host, no query or fragment; returned
/// without a trailing `/`.
pub fn endpoint_url(url: &str) -> Result<String> {
    let trimmed = url.trim();
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"));
    let Some(rest) = rest else {
        return Err(usage(format!(
            "--endpoint {url:?}: must start with https:// (or http:// for a local sandbox)"
        )));
    };
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') {
        return Err(usage(format!("--endpoint {url:?}: has no host name")));
    }
    if rest.contains(['?', '#']) || rest.contains(char::is_whitespace) {
        return Err(usage(format!(
            "--endpoint {url:?}: give just the base URL, such as https://track.customer.io"
        )));
    }
    Ok(trimmed.trim_end_matches('/').to_owned())
}

/// Read and parse a `--mapping` TOML file; errors name the file.
pub fn read_routes(path: &Path) -> Result<Routes> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| usage(format!("--mapping {shown}: cannot read it: {e}")))?;
    Routes::from_toml_str(&text)
        .map(|routes| routes.with_source(&shown.to_string()))
        .map_err(|e| usage(format!("--mapping {shown}: {e}")))
}

/// The delivery flags shared by `send` and `gdpr` (rate, concurrency, batch limits, retries) as
/// checked sender settings, plus the per-attempt timeout; a bad value is a usage error.
pub fn delivery(
    mode: Mode,
    d: &crate::cli::DeliveryArgs,
) -> Result<(crate::send::DeliverySettings, std::time::Duration)> {
    let settings = crate::send::DeliverySettings::new(
        mode,
        d.rate,
        d.concurrency,
        d.batch_bytes,
        d.batch_size,
        d.retries,
    )
    .map_err(|e| usage(e.to_string()))?;
    if !(d.timeout.is_finite() && d.timeout > 0.0 && d.timeout <= 3600.0) {
        return Err(usage(format!(
            "--timeout {}: must be a number of seconds between 0 and 3600",
            d.timeout
        )));
    }
    Ok((settings, std::time::Duration::from_secs_f64(d.timeout)))
}

/// The settings a resumed `send` must share with the run that wrote its checkpoint (see
/// [`RunSettings`]): mode, event ids, timestamps, strictness, the time window, the input format,
/// the mapping file's hash, the endpoint host and a hash of `site_id`. Never the API key.
pub fn send_run_settings(
    args: &crate::cli::SendArgs,
    site_id: Option<&str>,
) -> std::io::Result<RunSettings> {
    use crate::cli::{EventIdArg, InputFormatArg, ModeArg, RegionArg};
    let m = &args.mapping;
    let mut s = RunSettings::default();
    s.set(
        "mode",
        match m.mode {
            ModeArg::Batch => "batch",
            ModeArg::Sequential => "sequential",
        },
    );
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
        },
    );
    s.set_mapping_file(m.mapping.as_deref())?;
    let endpoint = if args.delivery.sandbox {
        "in-process sandbox".to_owned()
    } else {
        match &m.endpoint {
            Some(url) => endpoint_host(url),
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
pub fn window(args: &crate::cli::MappingArgs) -> anyhow::Result<crate::safety::Window> {
    crate::safety::Window::from_flags(args.since.as_deref(), args.until.as_deref())
        .map_err(|e| Fatal::new(Exit::Usage, e.to_string()).into())
}

/// Whether progress bars draw, from `--progress` and `--quiet`.
pub fn show_progress(display: &crate::cli::DisplayArgs) -> bool {
    use crate::cli::ProgressArg;
    let when = match display.progress {
        ProgressArg::Auto => crate::progress::When::Auto,
        ProgressArg::Always => crate::progress::When::Always,
        ProgressArg::Never => crate::progress::When::Never,
    };
    crate::progress::enabled(when, display.quiet)
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

impl From<crate::cli::InputFormatArg> for crate::input::InputFormat {
    fn from(arg: crate::cli::InputFormatArg) -> Self {
        match arg {
            crate::cli::InputFormatArg::Ndjson => Self::Ndjson,
            crate::cli::InputFormatArg::Json => Self::Json,
            crate::cli::InputFormatArg::Csv => Self::Csv,
        }
    }
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
        let a = send_run_settings(&send_args(&["--api-key", "sekrit-key"]), Some("site")).unwrap();
        let text = serde_json::to_string(&a).unwrap();
        assert!(!text.contains("sekrit-key"), "{text}");
        assert!(!text.contains("\"site\""), "{text}");

        let b = send_run_settings(
            &send_args(&["--mode", "sequential", "--event-id", "none"]),
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
        let a = send_run_settings(&send_args(&["--mapping", p]), None).unwrap();
        std::fs::write(&path, "[track-event]\nenabled = false\n").unwrap();
        let b = send_run_settings(&send_args(&["--mapping", p]), None).unwrap();
        let diff = a.differences(&b);
        assert_eq!(diff.len(), 1, "{diff:?}");
        assert!(diff[0].starts_with("mapping was"), "{diff:?}");
        let missing = send_run_settings(&send_args(&["--mapping", "/nope.toml"]), None);
        assert!(missing.unwrap_err().to_string().contains("/nope.toml"));
    }
}
