//! `cio-replay sandbox`: serve the local Track and App API stand-in until Ctrl-C, then print the
//! summary.

use std::io::Write;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::cli::SandboxArgs;
use crate::cli::settings::region;
use crate::exit::Exit;
use crate::sandbox::{
    DEFAULT_API_KEY, DEFAULT_APP_API_KEY, DEFAULT_SITE_ID, Sandbox, SandboxConfig,
};
use crate::secret::Secret;

/// Run the sandbox in the foreground.
pub(crate) fn run(args: SandboxArgs) -> Result<Exit> {
    let api_key = args
        .api_key
        .or_else(|| std::env::var("CIO_API_KEY").ok().filter(|k| !k.is_empty()))
        .unwrap_or_else(|| DEFAULT_API_KEY.to_string());
    let app_api_key = args
        .app_api_key
        .or_else(|| {
            std::env::var("CIO_APP_API_KEY")
                .ok()
                .filter(|k| !k.is_empty())
        })
        .unwrap_or_else(|| DEFAULT_APP_API_KEY.to_string());
    let config = SandboxConfig {
        port: args.port,
        site_id: args
            .site_id
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| DEFAULT_SITE_ID.to_string()),
        api_key: Secret::new(api_key),
        app_api_key: Secret::new(app_api_key),
        region: region(args.workspace_region),
        latency: Duration::from_millis(args.latency_ms),
        fail_rate: args.fail_rate,
        throttle: args.throttle,
        seed: args.seed,
    };
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    ctrlc::set_handler(move || {
        let _ = stop_tx.send(());
    })
    .map_err(|e| anyhow::anyhow!("cannot watch for Ctrl-C: {e}"))?;
    let mut sandbox = Sandbox::start(config)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "cio-replay sandbox listening on {}", sandbox.url())
        .and_then(|()| out.flush())
        .context("writing to standard output")?;
    drop(out);
    crate::report::messages::record!(
        "cio-replay: Track API: Basic auth site id {:?} with the configured key; App API ({}/v1/customers/...): Bearer with the configured App API key; GET {}/_sandbox/state shows the workspace; Ctrl-C stops",
        sandbox.site_id(),
        sandbox.url(),
        sandbox.url()
    );
    // Wait for Ctrl-C / SIGTERM (a closed channel also ends the wait).
    let _ = stop_rx.recv();
    sandbox.stop();
    let mut out = std::io::stdout().lock();
    write!(out, "{}", sandbox.summary())
        .and_then(|()| out.flush())
        .context("writing to standard output")?;
    Ok(Exit::Success)
}
