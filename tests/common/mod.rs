//! Shared test harness: the binary with a scrubbed environment, unique temp dirs, paths into
//! `tests/data`. Each test file says `mod common;`. Add new helpers at the end; keep old ones stable.
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
    for var in [
        "CIO_SITE_ID",
        "CIO_API_KEY",
        "CIO_REGION",
        "CIO_ENDPOINT",
        "RUST_BACKTRACE",
        "NO_COLOR",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// A fresh temporary directory, removed when dropped.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}
pub mod proxy;
pub mod send;
pub mod tls;

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
