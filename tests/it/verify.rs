//! `verify` against an in-process sandbox: the fixtures sent and read back match; one changed
//! attribute, a person deleted after the send and a person the input deletes but the workspace
//! holds are each exactly one difference; a wrong App API key exits 3 without being printed;
//! the App API's 10 requests a second hold (a 429 is waited out) and `--sample` checks N people.

use crate::common;

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use cio_replay::sandbox::Sandbox;
use serde_json::Value;

use crate::common::send::send;
use crate::common::{listing, sample};

const KEY: &str = "track-key";

/// `verify ARGS` in `dir` against `sb`'s App API with `app_key`, the report in `verify.json`.
fn verify_with_key(sb: &Sandbox, dir: &Path, app_key: &str, args: &[&str]) -> Output {
    common::cio()
        .current_dir(dir)
        .env("CIO_APP_API_KEY", app_key)
        .args(["verify", "--app-endpoint", &sb.url(), "--progress", "never"])
        .args(["--report", "verify.json"])
        .args(args)
        .output()
        .expect("runs")
}

fn verify(sb: &Sandbox, dir: &Path, args: &[&str]) -> Output {
    verify_with_key(sb, dir, sb.app_api_key().expose(), args)
}

/// The `--report` JSON the last `verify` in `dir` wrote.
fn report(dir: &Path) -> Value {
    common::read_json(&dir.join("verify.json"))
}

/// A sandbox holding the fixtures, sent as `send` sends them.
fn sent_fixtures(dir: &Path) -> Sandbox {
    let sb = common::send::sandbox(KEY);
    let out = send(&sb, dir, KEY, &[&sample()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    sb
}

fn send_records(sb: &Sandbox, dir: &Path, name: &str, records: &str) {
    let path = dir.join(name);
    std::fs::write(&path, records).expect("write input");
    let out = send(sb, dir, KEY, &[path.to_str().expect("utf-8 path")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_fixtures_sent_then_verified_match() {
    let dir = common::tempdir();
    let sb = sent_fixtures(dir.path());
    let out = verify(&sb, dir.path(), &[&sample()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(stderr.contains("events are not compared"), "{stderr}");
    let r = report(dir.path());
    assert_eq!(r["differences"]["total"], 0, "{r}");
    assert_eq!(r["people_checked"], r["matching"], "{r}");
    assert!(r["people_checked"].as_u64() > Some(4), "{r}");
}

#[test]
fn one_changed_attribute_is_exactly_one_difference() {
    let dir = common::tempdir();
    let sb = sent_fixtures(dir.path());
    send_records(
        &sb,
        dir.path(),
        "extra.ndjson",
        r#"{"type":"identify","userId":"u-1002","timestamp":"2024-05-01T00:00:00Z","traits":{"plan":"enterprise"}}"#,
    );
    let out = verify(&sb, dir.path(), &[&sample()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        listing(&out.stdout),
        [
            serde_json::json!({"difference": "attribute", "person": {"id": "u-1002"},
                            "name": "plan", "expected": "basic", "actual": "enterprise"})
        ]
    );
    let r = report(dir.path());
    assert_eq!(r["differences"]["attribute"], 1, "{r}");
    assert_eq!(r["exit"], 1, "{r}");
}

#[test]
fn a_person_deleted_after_the_send_is_missing() {
    let dir = common::tempdir();
    let sb = sent_fixtures(dir.path());
    send_records(
        &sb,
        dir.path(),
        "delete.ndjson",
        r#"{"type":"track","event":"User Deleted","userId":"u-1003","timestamp":"2024-05-01T00:00:00Z"}"#,
    );
    let out = verify(&sb, dir.path(), &[&sample()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        listing(&out.stdout),
        [serde_json::json!({"difference": "missing", "person": {"id": "u-1003"}})]
    );
}

#[test]
fn a_person_the_input_deletes_but_the_workspace_holds_is_unexpected() {
    let dir = common::tempdir();
    let sb = common::send::sandbox(KEY);
    let identify = r#"{"type":"identify","userId":"u-7","timestamp":"2024-01-01T00:00:00Z","traits":{"plan":"pro"}}"#;
    send_records(&sb, dir.path(), "sent.ndjson", identify);
    // The input says the person was deleted; the delete never reached the workspace.
    let input = dir.path().join("input.ndjson");
    let deleted = r#"{"type":"track","event":"User Deleted","userId":"u-7","timestamp":"2024-02-01T00:00:00Z"}"#;
    std::fs::write(&input, format!("{identify}\n{deleted}\n")).expect("write");
    let out = verify(&sb, dir.path(), &[input.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    let got = listing(&out.stdout);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["difference"], "unexpected");
    assert_eq!(got[0]["person"], serde_json::json!({"id": "u-7"}));
}

#[test]
fn a_wrong_app_api_key_exits_3_and_is_never_printed() {
    let dir = common::tempdir();
    let sb = sent_fixtures(dir.path());
    let wrong = "wrong-app-key-6f1c";
    let out = verify_with_key(&sb, dir.path(), wrong, &[&sample()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("refused the key"), "{stderr}");
    assert!(!stderr.contains(wrong), "{stderr}");
    assert!(out.stdout.is_empty());
    // The Track key is not an App API key either.
    let out = verify_with_key(&sb, dir.path(), KEY, &[&sample()]);
    assert_eq!(out.status.code(), Some(3));
    // No key at all is a usage error.
    let out = common::cio()
        .current_dir(dir.path())
        .args(["verify", "--app-endpoint", &sb.url(), &sample()])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("CIO_APP_API_KEY"));
}

#[test]
fn plain_http_is_refused_outside_loopback() {
    let out = common::cio()
        .env("CIO_APP_API_KEY", "k")
        .args([
            "verify",
            "--app-endpoint",
            "http://api.customer.io",
            &sample(),
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--app-endpoint"));
}

/// `n` people, one identify each.
fn people(n: usize) -> String {
    people_with(n, 0)
}

/// `n` people whose attribute `n` is their number plus `shift`.
fn people_with(n: usize, shift: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{{\"type\":\"identify\",\"userId\":\"r-{i}\",\"timestamp\":\"2023-01-01T00:00:00Z\",\"traits\":{{\"n\":{},\"vip\":{}}}}}\n",
                i + shift,
                i % 2 == 0
            )
        })
        .collect()
}

#[test]
fn ten_requests_a_second_and_a_429_is_waited_out() {
    let dir = common::tempdir();
    let sb = common::send::sandbox(KEY);
    send_records(&sb, dir.path(), "people.ndjson", &people(2500));
    let input = dir.path().join("people.ndjson");
    // Someone else spends the second's ten requests just before verify starts.
    let agent = ureq::Agent::new_with_defaults();
    let bearer = format!("Bearer {}", sb.app_api_key().expose());
    for _ in 0..10 {
        let _ = agent
            .get(format!("{}/v1/customers/r-1/attributes", sb.url()))
            .header("Authorization", &bearer)
            .call();
    }
    let started = Instant::now();
    let out = verify(&sb, dir.path(), &[input.to_str().expect("utf-8")]);
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let r = report(dir.path());
    assert_eq!(r["people_checked"], 2500, "{r}");
    assert_eq!(r["matching"], 2500, "{r}");
    let requests = &r["requests"];
    let throttled = requests["throttled"].as_u64().expect("count");
    // 25 lookups of 100 and the key check, each answered once with something other than 429.
    assert_eq!(requests["total"].as_u64(), Some(26 + throttled), "{r}");
    assert!(throttled >= 1, "{r}");
    assert_eq!(requests["retries"].as_u64(), Some(throttled), "{r}");
    // 26 requests at 10 a second take at least 1.6 s (and the first waited out a Retry-After).
    assert!(took >= Duration::from_millis(1600), "{took:?}");
    let by_status = &sb.state()["requests"]["by_status"];
    assert!(by_status["429"].as_u64() >= Some(throttled), "{by_status}");
}

#[test]
fn a_sample_checks_the_same_n_people_for_the_same_seed() {
    let dir = common::tempdir();
    let sb = common::send::sandbox(KEY);
    send_records(&sb, dir.path(), "people.ndjson", &people(300));
    let input = dir.path().join("people.ndjson");
    let input = input.to_str().expect("utf-8");
    let out = verify(&sb, dir.path(), &["--sample", "40", "--seed", "9", input]);
    assert_eq!(out.status.code(), Some(0));
    let r = report(dir.path());
    assert_eq!(r["people_checked"], 40, "{r}");
    assert_eq!(r["people_in_input"], 300, "{r}");
    assert_eq!(r["sample"], serde_json::json!({"size": 40, "seed": 9}));
    // One lookup of 40 ids and the key check.
    assert_eq!(r["requests"]["total"], 2, "{r}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("a sample of 40 of the 300 people"),
        "{stderr}"
    );
    let out = verify(&sb, dir.path(), &["--sample", "0", input]);
    assert_eq!(out.status.code(), Some(2));
    // Everyone changed since: the same seed shows the same 40 people, another seed others.
    send_records(&sb, dir.path(), "changed.ndjson", &people_with(300, 1));
    let sampled = |seed: &str| {
        let out = verify(&sb, dir.path(), &["--sample", "40", "--seed", seed, input]);
        assert_eq!(out.status.code(), Some(1));
        let mut who: Vec<String> = listing(&out.stdout)
            .iter()
            .map(|l| l["person"]["id"].to_string())
            .collect();
        who.sort();
        who
    };
    let first = sampled("9");
    assert_eq!(first.len(), 40);
    assert_eq!(first, sampled("9"));
    assert_ne!(first, sampled("10"));
}
