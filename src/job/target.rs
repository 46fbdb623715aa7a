//! Where a sending job sends, as whom: a workspace's URL and credentials, or an in-process
//! sandbox; the transport to it, and the preflight that asks the workspace's region before
//! anything is read.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::deliver::HttpTransport;
use crate::exit::{Exit, Fatal, usage};
use crate::report::gdpr::Workspace;
use crate::report::messages::{record, say, warning};
use crate::report::run_report::{RunFacts, Status};
use crate::sandbox::{Sandbox, SandboxConfig};
use crate::secret::Secret;
use crate::secret::credentials::{self, Credentials, KeySource};
use crate::track::Region;
use crate::track::region_check::{self, Verdict};

/// Where a sending job sends and as whom, checked but not yet resolved (no key read, no sandbox
/// started).
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

/// Where the preflight asks the workspace's region (track-api.md §1.1).
const REGION_PATH: &str = "/api/v1/accounts/region";

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
    pub(crate) fn open(settings: TargetSettings) -> Result<Target> {
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

    pub(crate) fn is_sandbox(&self) -> bool {
        self.sandbox.is_some()
    }

    /// The target as the banner names it.
    pub(crate) fn describe(&self) -> String {
        match &self.sandbox {
            Some(_) => format!("the in-process sandbox at {}", self.base_url),
            None => self.base_url.clone(),
        }
    }

    /// The transport to the target for `lanes` lanes (the pool holds one connection each).
    pub(crate) fn transport(&self, lanes: usize) -> Result<HttpTransport> {
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

    /// The transport to the target for `lanes` lanes, after the [`Target::preflight`].
    pub(crate) fn connect(&self, lanes: usize) -> Result<HttpTransport> {
        let transport = self.transport(lanes)?;
        self.preflight(&transport)?;
        Ok(transport)
    }

    /// The workspace as a destructive job shows it (never the key).
    pub(crate) fn workspace(&self) -> Workspace {
        Workspace {
            site_id: self.creds.site_id.clone(),
            host: crate::track::url::authority(&self.base_url).to_string(),
            region: self.region.clone(),
        }
    }

    /// Before any input is read: ask the workspace's region with the run's credentials. Refused
    /// credentials end the run (exit 3), a workspace in the other region too (exit 2, naming the
    /// `--region` to use); a lookup that cannot say is a warning, and the run goes on.
    pub(crate) fn preflight(&self, transport: &HttpTransport) -> Result<()> {
        let reply = match transport.get(REGION_PATH) {
            Ok(reply) => reply,
            Err(e) => {
                warning!("could not check the workspace's region ({e}); going on");
                return Ok(());
            }
        };
        let site = &self.creds.site_id;
        match region_check::judge(reply.status, &reply.body, self.settings.expected_region) {
            Verdict::Proceed => Ok(()),
            Verdict::Refused(status) => Err(Fatal::new(
                Exit::Auth,
                format!(
                    "Customer.io refused the credentials of site id {site} ({status}): check the site id and the Track API key; nothing was sent"
                ),
            )
            .into()),
            // The in-process sandbox holds no workspace of the user's: its region is not theirs.
            Verdict::OtherRegion { .. } if self.is_sandbox() => Ok(()),
            Verdict::OtherRegion { actual, expected } => Err(usage(format!(
                "the workspace of site id {site} is in the {} region, but this run sends to the {} region ({}): Customer.io would answer 200 and store nothing. Run it again with --region {}{}; nothing was sent",
                actual.name().to_uppercase(),
                expected.name().to_uppercase(),
                self.base_url,
                actual.name(),
                if self.settings.region == "custom endpoint" {
                    " (and check --endpoint)"
                } else {
                    ""
                }
            ))),
            Verdict::Unknown(why) => {
                warning!("could not check the workspace's region ({why}); going on");
                Ok(())
            }
        }
    }

    /// The `--report` facts of a run to this target that started at `started_at`, ended as
    /// `status` with `exit`, and read `inputs` (each with the records this run read from it).
    pub(crate) fn facts(
        &self,
        started_at: chrono::DateTime<chrono::Utc>,
        status: Status,
        exit: Exit,
        inputs: Vec<(std::path::PathBuf, u64)>,
    ) -> RunFacts {
        RunFacts {
            started_at,
            status,
            exit_code: exit.code(),
            inputs,
            endpoint: crate::track::url::authority(&self.base_url).to_string(),
            region: self.region.clone(),
            site_id_hash: crate::ledger::site_id_hash(&self.creds.site_id),
        }
    }

    /// With `--sandbox`, say what its workspace now holds.
    pub(crate) fn say_sandbox_state(&self) {
        if let Some(sandbox) = &self.sandbox {
            say!("the sandbox workspace now holds:");
            say!("{}", sandbox.summary().trim_end());
        }
    }
}
