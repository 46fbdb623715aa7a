//! `cio-replay verify`: read the inputs as `send` does, look the people up through the App API and
//! print the differences, the summary and the `--report`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;

use crate::exit::{Exit, usage};
use crate::map::window::Window;
use crate::report::messages::say;
use crate::secret::Secret;
use crate::stream::{Pipeline, PipelineSettings};
use crate::verify::client::AppClient;
use crate::verify::{self as check, VerifySettings};

/// What `verify` was asked to do, checked.
pub(crate) struct Settings {
    pub pipeline: PipelineSettings,
    pub window: Window,
    pub checks: VerifySettings,
    /// The App API's base URL, checked.
    pub base_url: String,
    pub key: Secret,
    /// The per-attempt timeout, and the retries of one request.
    pub timeout: Duration,
    pub retries: u32,
    pub ca_bundle: Option<PathBuf>,
    pub report: Option<PathBuf>,
}

pub(crate) fn run(s: Settings) -> Result<Exit> {
    let ca_bundle = s.ca_bundle.as_deref();
    let mut app = AppClient::new(&s.base_url, &s.key, s.timeout, s.retries, ca_bundle)
        .map_err(|e| usage(e.to_string()))?;
    let pipeline = Pipeline::open(s.pipeline)?.with_window(s.window);
    say!(
        "cio-replay verify: reading people back from the App API at {}",
        s.base_url
    );
    check::probe(&mut app)?;

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let tally = check::run(pipeline, &mut app, s.checks, &mut out)?;
    say!("{}", tally.text(&s.base_url));
    if let Some(path) = &s.report {
        tally.write(path, &s.base_url)?;
    }
    Ok(tally.exit())
}
