//! Running `send` against an in-process sandbox: the shared set-up of the send tests.

use std::path::Path;
use std::process::Output;

use cio_replay::sandbox::{Sandbox, SandboxConfig};
use cio_replay::secret::Secret;
use serde_json::Value;

/// The site id every send test uses.
pub const SITE: &str = "site-1";

/// Start `config` with the test credentials (`SITE`, `key`).
pub fn sandbox_with_key(mut config: SandboxConfig, key: &str) -> Sandbox {
    config.site_id = SITE.into();
    config.api_key = Secret::new(key);
    Sandbox::start(config).expect("sandbox starts")
}

/// Run `send` in `dir` against `sb` with the key in the environment, no progress, `--allow-recent`,
/// the report in `report.json` and dead letters in `dead.ndjson` (appended to: several runs share
/// a folder); `args` add inputs and flags.
pub fn send(sb: &Sandbox, dir: &Path, key: &str, args: &[&str]) -> Output {
    super::cio()
        .current_dir(dir)
        .env("CIO_SITE_ID", SITE)
        .env("CIO_API_KEY", key)
        .args([
            "send",
            "--endpoint",
            &sb.url(),
            "--allow-recent",
            "--progress",
            "never",
        ])
        .args(["--report", "report.json", "--dead-letter", "dead.ndjson"])
        .arg("--dead-letter-append")
        .args(args)
        .output()
        .expect("runs")
}

/// The `--report` JSON the last `send` in `dir` wrote.
pub fn report(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("report.json")).expect("report written");
    serde_json::from_str(&text).expect("report is JSON")
}

/// Start `send` in `dir` against `sb` as a child process, for the tests that stop it: the key in
/// the environment, no progress, `--allow-recent`; standard output dropped, standard error piped
/// (read it with [`super::wait_child`]); `args` add inputs and flags.
pub fn spawn(sb: &Sandbox, dir: &Path, key: &str, args: &[&str]) -> std::process::Child {
    super::process()
        .current_dir(dir)
        .env("CIO_SITE_ID", SITE)
        .env("CIO_API_KEY", key)
        .args([
            "send",
            "--endpoint",
            &sb.url(),
            "--allow-recent",
            "--progress",
            "never",
        ])
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("send starts")
}
