//! Shared test harness: the binary with a scrubbed environment (as an `assert_cmd` command or a
//! plain process), unique temp dirs, paths into `tests/data`, the sandbox's counters. Every test
//! module says `use crate::common;`; a helper more than one module needs lives here, once.
#![allow(dead_code)]

use std::path::PathBuf;

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

/// Requests the sandbox answered (any status).
pub fn requests(sb: &cio_replay::sandbox::Sandbox) -> u64 {
    sb.state()["requests"]["total"]
        .as_u64()
        .expect("request count")
}

/// Operations the sandbox received in valid requests (applied, blocked or ignored).
pub fn operations(sb: &cio_replay::sandbox::Sandbox) -> u64 {
    let ops = &sb.state()["operations"];
    ["applied", "blocked", "ignored"]
        .iter()
        .map(|k| ops[k].as_u64().expect("operation count"))
        .sum()
}

/// A fresh temporary directory, removed when dropped.
/// Lines of NDJSON output (a dry-run listing), each parsed.
pub fn listing(stdout: &[u8]) -> Vec<serde_json::Value> {
    std::str::from_utf8(stdout)
        .expect("the listing is UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("listing line is JSON"))
        .collect()
}

/// `dry-run ARGS -q` run in `dir`, which must exit 0 (else the test fails with its stderr): its
/// listing.
pub fn dry_run_listing(dir: &std::path::Path, args: &[&str]) -> Vec<serde_json::Value> {
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

pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}
pub mod proxy;
pub mod send;
pub mod tls;
pub mod wire;

/// Wait for `child`, reading its piped stderr, killing it and failing after `hang`; the test fails
/// too when the child panicked. (exit status, stderr).
pub fn wait_child(
    mut child: std::process::Child,
    hang: std::time::Duration,
) -> (std::process::ExitStatus, String) {
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
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    let stderr = reader.join().unwrap_or_default();
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    (status, stderr)
}
