//! What `send` and `gdpr` set up alike: the target (a workspace's URL and credentials, or an
//! in-process sandbox), the transport to it, and the Ctrl-C stop flag.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result};

use crate::cli::settings::TargetSettings;
use crate::exit::usage;
use crate::messages::{record, say};
use crate::sandbox::{Sandbox, SandboxConfig};
use crate::secret::Secret;
use crate::send::HttpTransport;
use crate::send::credentials::{self, Credentials, KeySource};

/// Where the run sends, as whom; with `--sandbox`, the sandbox it started.
pub(crate) struct Target {
    pub base_url: String,
    pub creds: Credentials,
    /// `us`, `eu`, `custom endpoint` or `in-process sandbox`.
    pub region: String,
    settings: TargetSettings,
    sandbox: Option<Sandbox>,
}

impl Target {
    /// Resolve the credentials (or start the sandbox with a random key): refusals are usage
    /// errors, before anything is read or sent.
    pub fn open(settings: TargetSettings) -> Result<Target> {
        if settings.sandbox {
            let key = Secret::new(
                (0..24)
                    .map(|_| fastrand::alphanumeric())
                    .collect::<String>(),
            );
            let config = SandboxConfig {
                api_key: key.clone(),
                ..SandboxConfig::default()
            };
            let sandbox = Sandbox::start(config).context("starting the in-process sandbox")?;
            return Ok(Target {
                base_url: sandbox.url(),
                creds: Credentials {
                    site_id: sandbox.site_id().to_string(),
                    key,
                },
                region: "in-process sandbox".to_string(),
                settings,
                sandbox: Some(sandbox),
            });
        }
        let (creds, source) = credentials::resolve(
            settings.site_id.as_deref(),
            settings.api_key_file.as_deref(),
            settings.api_key.as_deref(),
            std::env::var("CIO_API_KEY").ok(),
        )
        .map_err(|e| usage(e.to_string()))?;
        if source == KeySource::Flag {
            record!("{}", credentials::FLAG_WARNING);
        }
        Ok(Target {
            base_url: settings.base_url.clone(),
            creds,
            region: settings.region.clone(),
            settings,
            sandbox: None,
        })
    }

    pub fn is_sandbox(&self) -> bool {
        self.sandbox.is_some()
    }

    /// The target as the banner names it.
    pub fn describe(&self) -> String {
        match &self.sandbox {
            Some(_) => format!("the in-process sandbox at {}", self.base_url),
            None => self.base_url.clone(),
        }
    }

    /// The transport to the target for `lanes` lanes (the pool holds one connection each).
    pub fn transport(&self, lanes: usize) -> Result<HttpTransport> {
        HttpTransport::with_ca_bundle(
            &self.base_url,
            &self.creds.site_id,
            &self.creds.key,
            self.settings.timeout,
            lanes,
            self.settings.ca_bundle.as_deref(),
        )
        .map_err(|e| usage(e.to_string()))
    }

    /// With `--sandbox`, say what its workspace now holds.
    pub fn say_sandbox_state(&self) {
        if let Some(sandbox) = &self.sandbox {
            say!("the sandbox workspace now holds:");
            say!("{}", sandbox.summary().trim_end());
        }
    }
}

/// Ctrl-C and SIGTERM from here on stop the run cleanly (requests in flight settle).
pub(crate) fn stop_flag() -> Result<Arc<AtomicBool>> {
    Ok(crate::interrupt::install()?.as_atomic())
}
