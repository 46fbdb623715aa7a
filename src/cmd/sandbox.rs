//! `cio-replay sandbox`: serve the local Track and App API stand-in until Ctrl-C, then print the
//! summary.

use std::io::Write;
use std::sync::mpsc;

use anyhow::{Context, Result};

use crate::exit::Exit;
use crate::sandbox::{Sandbox, SandboxConfig};

/// Run the sandbox in the foreground.
pub(crate) fn run(config: SandboxConfig) -> Result<Exit> {
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
