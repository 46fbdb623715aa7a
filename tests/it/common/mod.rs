//! Shared test harness: the binary with a scrubbed environment (as an `assert_cmd` command or a
//! plain process), unique temp dirs, paths into `tests/data`, the sandbox's counters. Every test
//! module says `use crate::common;`; a helper more than one module needs lives here, once.
#![allow(dead_code)]

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::Duration;

use cio_replay::sandbox::{Sandbox, SandboxConfig};
use cio_replay::secret::Secret;
use serde_json::Value;

/// A path inside `tests/data`: the copies of the shared reference data (the conformance suite, the
/// rudder corpus) that the tests read, so that a clone of this repository runs its own tests.
/// `.ci/run` checks them against the shared originals when those are beside the checkout.
pub fn data(rel: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/")).join(rel)
}

/// A path inside this crate (fixtures, completions...).
pub fn crate_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// `fixtures/sample.ndjson` (a record of every action), as a command-line argument.
pub fn sample() -> String {
    crate_path("fixtures/sample.ndjson").display().to_string()
}

/// `fixtures/exports/NAME` (exports of other tools, their transforms), as a command-line argument.
pub fn export(name: &str) -> String {
    crate_path(&format!("fixtures/exports/{name}"))
        .display()
        .to_string()
}

/// The `cio-replay` binary with an environment that cannot leak the caller's settings.
pub fn cio() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("cio-replay").expect("binary built");
    for var in SCRUBBED {
        cmd.env_remove(var);
    }
    cmd
}

/// The environment variables no test inherits from the caller.
const SCRUBBED: [&str; 7] = [
    "CIO_APP_API_KEY",
    "CIO_SITE_ID",
    "CIO_API_KEY",
    "CIO_REGION",
    "CIO_ENDPOINT",
    "RUST_BACKTRACE",
    "NO_COLOR",
];

/// The binary as a plain process (to signal it, or read its pipes while it runs), with the same
/// scrubbed environment as [`cio`].
pub fn process() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cio-replay"));
    for var in SCRUBBED {
        cmd.env_remove(var);
    }
    cmd
}

/// [`process`] with standard output dropped and standard error piped (read it with [`wait_child`]).
pub fn piped() -> std::process::Command {
    let mut cmd = process();
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    cmd
}

/// `gdpr --endpoint SB --progress never` with `sb`'s credentials in the environment; add the
/// action, its flags and the list.
pub fn gdpr(sb: &Sandbox) -> assert_cmd::Command {
    let mut cmd = cio();
    cmd.env("CIO_SITE_ID", sb.site_id())
        .env("CIO_API_KEY", sb.api_key().expose())
        .args(["gdpr", "--endpoint", &sb.url(), "--progress", "never"]);
    cmd
}

/// A sandbox served in this test process with `config` (the test fails if it cannot start).
pub fn sandbox(config: SandboxConfig) -> Sandbox {
    Sandbox::start(config).expect("sandbox starts")
}

/// A sandbox of the workspace `site` whose Track API takes `key`, otherwise as `config` says.
pub fn sandbox_for(site: &str, key: &str, config: SandboxConfig) -> Sandbox {
    sandbox(SandboxConfig {
        site_id: site.into(),
        api_key: Secret::new(key),
        ..config
    })
}

/// `cio-replay sandbox --port 0 ARGS` as a child process with `envs` and standard error to
/// `stderr`: the child and the URL it listens on (its standard output is drained from then on).
pub fn sandbox_process(args: &[&str], envs: &[(&str, &str)], stderr: Stdio) -> (Child, String) {
    use std::io::BufRead;
    let mut child = process()
        .args(["sandbox", "--port", "0"])
        .args(args)
        .envs(envs.iter().copied())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("sandbox starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = std::io::BufReader::new(stdout).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("the sandbox printed its URL")
            .expect("readable stdout");
        if let Some((_, url)) = line.split_once("cio-replay sandbox listening on ") {
            break url.trim().to_owned();
        }
    };
    // Keep draining stdout so the sandbox never blocks on (or fails writing to) its pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, url)
}

/// Requests the sandbox answered (any status).
pub fn requests(sb: &Sandbox) -> u64 {
    sb.state()["requests"]["total"]
        .as_u64()
        .expect("request count")
}

/// Operations the sandbox received in valid requests (applied, blocked or ignored).
pub fn operations(sb: &Sandbox) -> u64 {
    let ops = &sb.state()["operations"];
    ["applied", "blocked", "ignored"]
        .iter()
        .map(|k| ops[k].as_u64().expect("operation count"))
        .sum()
}

/// Lines of NDJSON output (a dry-run listing), each parsed.
pub fn listing(stdout: &[u8]) -> Vec<Value> {
    std::str::from_utf8(stdout)
        .expect("the listing is UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("listing line {l:?}: {e}")))
        .collect()
}

/// `dry-run ARGS -q` run in `dir`, which must exit 0 (else the test fails with its stderr): its
/// listing.
pub fn dry_run_listing(dir: &Path, args: &[&str]) -> Vec<Value> {
    let out = cio()
        .current_dir(dir)
        .arg("dry-run")
        .args(args)
        .arg("-q")
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    listing(&out.stdout)
}

/// Any one [`dry_run`] may take this long before the harness calls it a hang.
const DRY_RUN_HANG: Duration = Duration::from_secs(60);

/// What one [`dry_run`] did.
pub struct DryRun {
    /// Its exit code.
    pub code: i32,
    /// Its listing, a JSON value a line.
    pub lines: Vec<Value>,
    /// Its standard error.
    pub stderr: String,
}

impl AsRef<[Value]> for DryRun {
    /// The listing.
    fn as_ref(&self) -> &[Value] {
        &self.lines
    }
}

/// `dry-run ARGS --progress never` (`stdin` on its standard input) under a hang guard; the test
/// fails when it panicked or was killed.
pub fn dry_run(args: &[&str], stdin: Option<Vec<u8>>) -> DryRun {
    let mut cmd = cio();
    cmd.arg("dry-run")
        .args(args)
        .args(["--progress", "never"])
        .timeout(DRY_RUN_HANG);
    if let Some(bytes) = stdin {
        cmd.write_stdin(bytes);
    }
    let out = cmd.output().expect("run cio-replay");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("killed (a hang?): {stderr}"));
    DryRun {
        code,
        lines: listing(&out.stdout),
        stderr,
    }
}

/// The `source` (`FILE:LINE`) of every line of a dry-run listing.
pub fn sources(lines: impl AsRef<[Value]>) -> Vec<String> {
    lines
        .as_ref()
        .iter()
        .map(|l| l["source"].as_str().expect("source").to_owned())
        .collect()
}

/// How many lines of a dry-run listing are mapped operations.
pub fn mapped(lines: impl AsRef<[Value]>) -> usize {
    lines
        .as_ref()
        .iter()
        .filter(|l| l.get("operation").is_some())
        .count()
}

/// The `error` of every line of a dry-run listing that has one.
pub fn errors(lines: impl AsRef<[Value]>) -> Vec<String> {
    lines
        .as_ref()
        .iter()
        .filter_map(|l| l.get("error").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

/// `dry-run ARGS` with its listing to `DIR/listing.ndjson` and its summary to
/// `DIR/summary.json`: (exit code, stderr, the summary or `null` when none was written).
pub fn dry_run_summary(dir: &Path, args: &[&str]) -> (i32, String, Value) {
    let summary = dir.join("summary.json");
    let out = cio()
        .arg("dry-run")
        .args(args)
        .arg("--output")
        .arg(dir.join("listing.ndjson"))
        .arg("--summary-json")
        .arg(&summary)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = std::fs::read_to_string(&summary)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), stderr, json)
}

/// A finished command's exit code (-1 when a signal ended it) and its standard error.
pub fn code_and_stderr(out: &Output) -> (i32, String) {
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `data` gzipped.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Write `bytes` to `path`, making its folder first.
pub fn write(path: &Path, bytes: &[u8]) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("make the folder");
    }
    std::fs::write(path, bytes).expect("write temp file");
}

/// Write `lines` to `path`, one a line (JSON values make NDJSON); returns the path.
pub fn write_ndjson(path: &Path, lines: impl IntoIterator<Item = impl Display>) -> PathBuf {
    let text: String = lines.into_iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(path, text).expect("write input");
    path.to_path_buf()
}

/// The JSON file at `path`, parsed.
pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Records below the watermarks of the checkpoint at `checkpoint` (0 when there is none yet).
pub fn watermark(checkpoint: &Path) -> u64 {
    std::fs::read_to_string(checkpoint)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .map_or(0, |cp| {
            cp["inputs"].as_array().map_or(0, |a| {
                a.iter().filter_map(|i| i["watermark"].as_u64()).sum()
            })
        })
}

/// A fresh temporary directory, removed when dropped.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}
pub mod proxy;
pub mod send;
pub mod tls;
pub mod wire;

/// Send the signal `name` (`INT`, `TERM`, `KILL`...) to `child` with `kill`.
pub fn signal(child: &Child, name: &str) {
    let ok = std::process::Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status()
        .expect("kill runs");
    assert!(ok.success());
}

/// Wait for `child`, reading its piped stderr, killing it and failing after `hang`; the test fails
/// too when the child panicked. (exit status, stderr).
pub fn wait_child(mut child: Child, hang: Duration) -> (std::process::ExitStatus, String) {
    let mut stderr = child.stderr.take().expect("piped stderr");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        text
    });
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > hang {
            let _ = child.kill();
            panic!("the child hung for {hang:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stderr = reader.join().unwrap_or_default();
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    (status, stderr)
}
