//! Running `send` against an in-process sandbox: the shared set-up of the send tests.

use std::path::Path;
use std::process::{Child, Output};

use cio_replay::sandbox::{Sandbox, SandboxConfig};
use serde_json::{Value, json};

/// The site id every send test uses.
pub const SITE: &str = "site-1";

/// Start `config` with the test credentials (`SITE`, `key`).
pub fn sandbox_with_key(config: SandboxConfig, key: &str) -> Sandbox {
    super::sandbox_for(SITE, key, config)
}

/// A default sandbox with the test credentials (`SITE`, `key`).
pub fn sandbox(key: &str) -> Sandbox {
    sandbox_with_key(SandboxConfig::default(), key)
}

/// `send --endpoint ENDPOINT --allow-recent --progress never` in `dir` with the key in the
/// environment, as a plain process; add inputs and flags.
pub fn command(endpoint: &str, dir: &Path, key: &str) -> std::process::Command {
    let mut cmd = super::process();
    cmd.current_dir(dir)
        .env("CIO_SITE_ID", SITE)
        .env("CIO_API_KEY", key)
        .args(["send", "--endpoint", endpoint, "--allow-recent"])
        .args(["--progress", "never"]);
    cmd
}

/// Run `send` in `dir` against `sb` with the key in the environment, no progress, `--allow-recent`,
/// the report in `report.json` and dead letters in `dead.ndjson` (appended to: several runs share
/// a folder); `args` add inputs and flags.
pub fn send(sb: &Sandbox, dir: &Path, key: &str, args: &[&str]) -> Output {
    command(&sb.url(), dir, key)
        .args(["--report", "report.json", "--dead-letter", "dead.ndjson"])
        .arg("--dead-letter-append")
        .args(args)
        .output()
        .expect("runs")
}

/// [`send`] of `in.ndjson` (see [`input`]) with `args`: (exit code, stderr).
pub fn send_input(sb: &Sandbox, dir: &Path, key: &str, args: &[&str]) -> (i32, String) {
    let mut all = vec!["in.ndjson"];
    all.extend_from_slice(args);
    super::code_and_stderr(&send(sb, dir, key, &all))
}

/// The `--report` JSON the last `send` in `dir` wrote.
pub fn report(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("report.json")).expect("report written");
    serde_json::from_str(&text).expect("report is JSON")
}

/// The dead letters [`send`] wrote to `dir/dead.ndjson` (none when there is no file).
pub fn dead_letters(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("dead.ndjson"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

/// Start `send` in `dir` against `sb` as a child process, for the tests that stop it: the key in
/// the environment, no progress, `--allow-recent`; standard output dropped, standard error piped
/// (read it with [`super::wait_child`]); `args` add inputs and flags.
pub fn spawn(sb: &Sandbox, dir: &Path, key: &str, args: &[&str]) -> Child {
    command(&sb.url(), dir, key)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("send starts")
}

/// Track event `i` of `user` as an NDJSON line: `Clicked`, `properties.n` = `i`, message id `m{i}`.
pub fn track_line(i: u64, user: &str) -> String {
    format!(
        "{}\n",
        json!({"type":"track","userId":user,"event":"Clicked","properties":{"n":i},
               "timestamp":"2023-01-01T00:00:00Z","messageId":format!("m{i}")})
    )
}

/// Write `dir/in.ndjson`: `n` track events ([`track_line`]), event `i` of the user `user(i)`.
pub fn input(dir: &Path, n: u64, user: impl Fn(u64) -> String) {
    let text: String = (0..n).map(|i| track_line(i, &user(i))).collect();
    std::fs::write(dir.join("in.ndjson"), text).expect("write input");
}
