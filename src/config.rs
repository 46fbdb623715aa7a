//! Command-line values turned into checked settings: the Track API base URL (region or
//! `--endpoint`), the mapping configuration (with the `--mapping` TOML file), the delivery mode and
//! the pipeline settings. Every error here is a usage error (exit 2) that names the flag or file.

use std::path::Path;

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

    /// The pipeline settings for `input` mapped with these settings.
    pub fn pipeline(&self, input: &InputArgs) -> PipelineSettings {
        PipelineSettings {
            files: input.files.clone(),
            format: input.input_format,
            mapping: self.mapping.clone(),
            strict: self.strict,
        }
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

/// The delivery flags shared by `send` and `gdpr` (rate, concurrency, batch limits, retries, linger) as
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
    .and_then(|settings| settings.with_linger(d.linger))
    .map_err(|e| usage(e.to_string()))?;
    if !(d.timeout.is_finite() && d.timeout > 0.0 && d.timeout <= 3600.0) {
        return Err(usage(format!(
            "--timeout {}: must be a number of seconds between 0 and 3600",
            d.timeout
        )));
    }
    Ok((settings, std::time::Duration::from_secs_f64(d.timeout)))
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
