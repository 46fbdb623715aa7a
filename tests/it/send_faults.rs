//! `send` under faults from the sandbox: dropped connections, timeouts, redirects, whole-request
//! 400s (bisected in batch mode, rejected in sequential mode).

use crate::common;

use std::time::Duration;

use cio_replay::sandbox::{SandboxConfig, ScriptedReply};
use serde_json::{Value, json};

const KEY: &str = "key-1";

use crate::common::send::{report, sandbox_with_key};

#[test]
fn dropped_connections_are_retried() {
    let sb = common::send::sandbox(KEY);
    sb.script(vec![ScriptedReply::close().times(2)]);
    let dir = common::tempdir();
    common::send::input(dir.path(), 10, |_| "u".into());
    let (code, stderr) = common::send::send_input(&sb, dir.path(), KEY, &["--concurrency", "1"]);
    assert_eq!(code, 0, "{stderr}");
    let r = report(dir.path());
    assert_eq!(
        (r["accepted"].as_u64(), r["retries"].as_u64()),
        (Some(10), Some(2))
    );
}

#[test]
fn timeouts_exhaust_retries_and_dead_letter_the_records_as_failed() {
    let sb = sandbox_with_key(
        SandboxConfig {
            latency: Duration::from_millis(1500),
            ..SandboxConfig::default()
        },
        KEY,
    );
    let dir = common::tempdir();
    common::send::input(dir.path(), 2, |_| "u".into());
    let (code, stderr) = common::send::send_input(
        &sb,
        dir.path(),
        KEY,
        &["--mode", "sequential", "--timeout", "0.3", "--retries", "1"],
    );
    assert_eq!(code, 1, "{stderr}");
    let dead = common::send::dead_letters(dir.path());
    assert_eq!(dead.len(), 2);
    for line in &dead {
        assert_eq!(line["dead_letter"]["stage"], "failed");
        assert_eq!(line["dead_letter"]["status"], Value::Null);
        let reason = line["dead_letter"]["reason"].as_str().unwrap_or("");
        assert!(reason.contains("gave up after 2 attempts"), "{reason}");
    }
    assert_eq!(report(dir.path())["failed"], 2);
}

#[test]
fn a_redirect_is_a_configuration_error() {
    let sb = common::send::sandbox(KEY);
    sb.script(vec![ScriptedReply::status(301)]);
    let dir = common::tempdir();
    common::send::input(dir.path(), 3, |_| "u".into());
    let (code, stderr) = common::send::send_input(&sb, dir.path(), KEY, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("redirects are not followed"), "{stderr}");
}

#[test]
fn a_whole_batch_400_is_bisected_and_the_rest_sent() {
    let sb = common::send::sandbox(KEY);
    sb.script(vec![ScriptedReply::status(400)]);
    let dir = common::tempdir();
    common::send::input(dir.path(), 10, |_| "u".into());
    let (code, stderr) = common::send::send_input(
        &sb,
        dir.path(),
        KEY,
        &["--concurrency", "1", "--batch-size", "10"],
    );
    assert_eq!(code, 0, "{stderr}");
    let r = report(dir.path());
    assert_eq!(r["accepted"], 10);
    assert_eq!(
        r["requests_sent"], 3,
        "one refused batch, then its two halves"
    );
}

#[test]
fn a_400_for_one_operation_rejects_it_with_the_servers_message() {
    let sb = common::send::sandbox(KEY);
    sb.script(vec![ScriptedReply::status(400).body(
        json!({"errors":[{"reason":"invalid","field":"identifiers.id","message":"bad id"}]}),
    )]);
    let dir = common::tempdir();
    common::send::input(dir.path(), 3, |_| "u".into());
    let (code, stderr) = common::send::send_input(&sb, dir.path(), KEY, &["--mode", "sequential"]);
    assert_eq!(code, 1, "{stderr}");
    let dead = common::send::dead_letters(dir.path());
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["dead_letter"]["source"], "in.ndjson:1");
    assert_eq!(dead[0]["dead_letter"]["status"], 400);
    assert_eq!(
        dead[0]["dead_letter"]["reason"],
        "HTTP 400: identifiers.id: bad id (invalid)"
    );
    assert_eq!(report(dir.path())["accepted"], 2);
}

#[test]
fn ctrl_c_stops_promptly_lets_in_flight_requests_finish_and_exits_130() {
    let sb = sandbox_with_key(
        SandboxConfig {
            latency: Duration::from_millis(50),
            ..SandboxConfig::default()
        },
        KEY,
    );
    let dir = common::tempdir();
    common::send::input(dir.path(), 2000, |_| "u".into());
    let mut child = common::process()
        .current_dir(dir.path())
        .env("CIO_SITE_ID", "site-1")
        .env("CIO_API_KEY", "key-1")
        .args([
            "send",
            "in.ndjson",
            "--endpoint",
            &sb.url(),
            "--allow-recent",
            "--quiet",
        ])
        .args(["--mode", "sequential", "--report", "report.json"])
        .spawn()
        .expect("spawns");
    // Wait until it is sending, then interrupt it.
    while sb.state()["requests"]["total"].as_u64().unwrap_or(0) < 3 {
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("waits");
    assert_eq!(status.code(), Some(130));
    let r = report(dir.path());
    assert_eq!(r["interrupted"], true);
    let accepted = r["accepted"].as_u64().unwrap_or(0);
    assert!(accepted > 0 && accepted < 2000, "{r:#}");
    let unsent = r["unsent"].as_u64().unwrap_or(0);
    assert_eq!(
        r["records"].as_u64(),
        Some(accepted + unsent),
        "every record read is settled or counted unsent"
    );
    let watermark = &r["watermarks"][0]["settled_below"];
    assert_eq!(watermark.as_u64(), Some(accepted));
    assert_eq!(
        sb.state()["operations"]["applied"].as_u64(),
        Some(accepted),
        "the sandbox holds exactly what was reported accepted"
    );
}
