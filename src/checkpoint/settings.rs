//! The settings a resumed run must share with the run that wrote the checkpoint: everything that
//! changes which operations a record becomes or where they go. Never the API key.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::fingerprint::hex;
use crate::cli::{EventIdArg, InputFormat, ModeArg, SendArgs};

/// Named settings, each as a short text; compared key by key on resume.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunSettings(pub BTreeMap<String, String>);

impl RunSettings {
    /// Add or replace one setting.
    pub fn set(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        self.0.insert(name.to_owned(), value.into());
        self
    }

    /// The settings of a `send` run. `site_id` is the resolved site id (flag or environment);
    /// only a hash of it is kept, to notice a switch of workspace. The mapping file is read to
    /// record a hash of its content: an edited mapping changes what records become.
    pub fn for_send(args: &SendArgs, site_id: Option<&str>) -> std::io::Result<RunSettings> {
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
                Some(InputFormat::Ndjson) => "ndjson",
                Some(InputFormat::Csv) => "csv",
            },
        );
        let mapping = match &m.mapping {
            None => String::new(),
            Some(path) => {
                let text = std::fs::read(path).map_err(|e| {
                    std::io::Error::new(e.kind(), format!("--mapping {}: {e}", path.display()))
                })?;
                format!(
                    "{} (sha256 {})",
                    path.display(),
                    &hex(&Sha256::digest(&text))[..16]
                )
            }
        };
        s.set("mapping", mapping);
        let endpoint = if args.delivery.sandbox {
            "in-process sandbox".to_owned()
        } else {
            match &m.endpoint {
                Some(url) => endpoint_host(url),
                None => format!("region {}", region_name(m.region)),
            }
        };
        s.set("endpoint", endpoint);
        s.set(
            "site_id_sha256",
            site_id.map_or(String::new(), |id| {
                hex(&Sha256::digest(id.as_bytes()))[..16].to_owned()
            }),
        );
        Ok(s)
    }

    /// What differs between these (recorded) settings and `now`, in words.
    pub fn differences(&self, now: &RunSettings) -> Vec<String> {
        let mut names: Vec<&String> = self.0.keys().chain(now.0.keys()).collect();
        names.sort();
        names.dedup();
        names
            .into_iter()
            .filter_map(|name| {
                let was = self.0.get(name);
                let is = now.0.get(name);
                (was != is).then(|| match name.as_str() {
                    "site_id_sha256" => "the site id (workspace) differs".to_owned(),
                    _ => format!(
                        "{name} was {}, now {}",
                        shown(was.map(String::as_str)),
                        shown(is.map(String::as_str))
                    ),
                })
            })
            .collect()
    }
}

fn shown(value: Option<&str>) -> String {
    match value {
        None | Some("") => "unset".into(),
        Some(v) => format!("{v:?}"),
    }
}

fn region_name(region: crate::cli::RegionArg) -> &'static str {
    match region {
        crate::cli::RegionArg::Us => "us",
        crate::cli::RegionArg::Eu => "eu",
    }
}

/// `scheme://host[:port]` of a URL, without path, query or user info (a URL may carry secrets).
fn endpoint_host(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or(authority);
    if scheme.is_empty() {
        host.to_ascii_lowercase()
    } else {
        format!(
            "{}://{}",
            scheme.to_ascii_lowercase(),
            host.to_ascii_lowercase()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn send_args(extra: &[&str]) -> SendArgs {
        let mut argv = vec!["cio-replay", "send", "in.ndjson"];
        argv.extend_from_slice(extra);
        match crate::cli::Cli::try_parse_from(argv).unwrap().command {
            crate::cli::Command::Send(args) => args,
            _ => unreachable!("parsed a send command"),
        }
    }

    #[test]
    fn endpoint_keeps_only_scheme_and_host() {
        assert_eq!(
            endpoint_host("http://user:pw@127.0.0.1:8080/api?x=1"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            endpoint_host("HTTPS://Track.Customer.io"),
            "https://track.customer.io"
        );
    }

    #[test]
    fn settings_name_what_changed_and_never_hold_the_key() {
        let a =
            RunSettings::for_send(&send_args(&["--api-key", "sekrit-key"]), Some("site")).unwrap();
        let text = serde_json::to_string(&a).unwrap();
        assert!(!text.contains("sekrit-key"), "{text}");
        assert!(!text.contains("\"site\""), "{text}");

        let b = RunSettings::for_send(
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
        let c = RunSettings::for_send(
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
        let a = RunSettings::for_send(&send_args(&["--mapping", p]), None).unwrap();
        std::fs::write(&path, "[track-event]\nenabled = false\n").unwrap();
        let b = RunSettings::for_send(&send_args(&["--mapping", p]), None).unwrap();
        let diff = a.differences(&b);
        assert_eq!(diff.len(), 1, "{diff:?}");
        assert!(diff[0].starts_with("mapping was"), "{diff:?}");
        let missing = RunSettings::for_send(&send_args(&["--mapping", "/nope.toml"]), None);
        assert!(missing.unwrap_err().to_string().contains("/nope.toml"));
    }
}
