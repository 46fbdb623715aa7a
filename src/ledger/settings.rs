//! The settings a resumed run must share with the run that wrote the checkpoint: everything that
//! changes which operations a record becomes or where they go. Never the API key.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::source::fingerprint::hex;

/// Named settings, each as a short text; compared key by key on resume.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunSettings(pub BTreeMap<String, String>);

/// The first 16 hex digits of SHA-256 of a site id: what checkpoints and reports keep of it.
pub(crate) fn site_id_hash(site_id: &str) -> String {
    hex(&Sha256::digest(site_id.as_bytes()))[..16].to_owned()
}

impl RunSettings {
    /// Add or replace one setting.
    pub(crate) fn set(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        self.0.insert(name.to_owned(), value.into());
        self
    }

    /// Record a hash of the site id (flag or environment) under `site_id_sha256`: enough to notice
    /// a switch of workspace, never the id itself. The one place this hash is computed.
    pub(crate) fn set_site_id(&mut self, site_id: Option<&str>) -> &mut Self {
        let hash = site_id.map_or(String::new(), site_id_hash);
        self.set("site_id_sha256", hash)
    }

    /// Record the `--mapping` file (its path and a hash of its content: an edited mapping changes
    /// what records become) under `mapping`; empty without one.
    pub(crate) fn set_mapping_file(&mut self, path: Option<&Path>) -> std::io::Result<&mut Self> {
        let mapping = match path {
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
        Ok(self.set("mapping", mapping))
    }

    /// What differs between these (recorded) settings and `now`, in words.
    pub(crate) fn differences(&self, now: &RunSettings) -> Vec<String> {
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
