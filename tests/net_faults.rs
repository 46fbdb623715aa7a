//! `send` and `gdpr` against servers that misbehave on the network level: 207s whose body cannot be
//! read (HTML, invalid JSON, no `errors` list, cut off, over the read limit) and error bodies that
//! echo the request's credentials.

mod common;

use std::path::Path;
use std::process::Output;

use base64::Engine;
use cio_replay::sandbox::{Sandbox, SandboxConfig, ScriptedReply};
use common::send::{SITE, report};
use serde_json::{Value, json};

const KEY: &str = "key-1";

fn sandbox() -> Sandbox {
    common::send::sandbox_with_key(SandboxConfig::default(), KEY)
}

fn input(dir: &Path, n: u64) {
    let text: String = (0..n)
        .map(|i| {
            format!(
                "{}\n",
                json!({"type":"track","userId":format!("u{i}"),"event":"Clicked",
                       "timestamp":"2023-01-01T00:00:00Z","messageId":format!("m{i}")})
            )
        })
        .collect();
    std::fs::write(dir.join("in.ndjson"), text).expect("write input");
}

/// `send in.ndjson` against `sb` (report in `report.json`, dead letters in `dead.ndjson`).
fn send(sb: &Sandbox, dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["in.ndjson"];
    all.extend_from_slice(args);
    common::send::send(sb, dir, KEY, &all)
}

fn code_and_stderr(out: &Output) -> (i32, String) {
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn dead_letters(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("dead.ndjson"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

fn requests(sb: &Sandbox) -> u64 {
    sb.state()["requests"]["total"].as_u64().unwrap_or(0)
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_default()
}

/// `gdpr delete --yes forget.txt` against `sb` (receipt in `receipt.csv`).
fn gdpr(sb: &Sandbox, dir: &Path, args: &[&str]) -> Output {
    common::cio()
        .current_dir(dir)
        .env("CIO_SITE_ID", SITE)
        .env("CIO_API_KEY", KEY)
        .args([
            "gdpr",
            "delete",
            "--endpoint",
            &sb.url(),
            "--progress",
            "never",
        ])
        .args(["--yes", "--receipt", "receipt.csv"])
        .args(args)
        .arg("forget.txt")
        .output()
        .expect("runs")
}

/// 207 replies that say nothing readable about which operations failed.
fn unreadable_207s() -> Vec<(&'static str, ScriptedReply)> {
    let listed = json!({"errors":[{"batch_index":0,"reason":"invalid","message":"bad"}]});
    vec![
        (
            "html",
            ScriptedReply::status(207).text("<html><body><h1>Multi-Status</h1></body></html>"),
        ),
        (
            "invalid JSON",
            ScriptedReply::status(207).text(r#"{"errors":[{"batch_index":0,"#),
        ),
        (
            "no errors list",
            ScriptedReply::status(207).body(json!({"status": "partial"})),
        ),
        ("cut", ScriptedReply::status(207).body(listed.clone()).cut()),
        (
            "oversize",
            ScriptedReply::status(207).body(listed).pad(2 << 20),
        ),
    ]
}

#[test]
fn an_unreadable_207_is_an_unknown_outcome_and_the_batch_is_sent_again() {
    for (name, reply) in unreadable_207s() {
        let sb = sandbox();
        sb.script(vec![reply]);
        let dir = common::tempdir();
        input(dir.path(), 10);
        let (code, stderr) = code_and_stderr(&send(
            &sb,
            dir.path(),
            &["--concurrency", "1", "--retries", "2"],
        ));
        assert_eq!(code, 0, "{name}: {stderr}");
        let r = report(dir.path());
        assert_eq!(
            (
                r["accepted"].as_u64(),
                r["retries"].as_u64(),
                r["requests_sent"].as_u64()
            ),
            (Some(10), Some(1), Some(2)),
            "{name}: the unreadable 207 counted as an answer: {r}"
        );
        assert_eq!(requests(&sb), 2, "{name}");
        assert_eq!(
            sb.totals().events,
            10,
            "{name}: the retry delivered the batch"
        );
    }
}

#[test]
fn a_207_that_stays_unreadable_fails_every_operation_to_the_dead_letter_file() {
    for (name, reply) in unreadable_207s() {
        let sb = sandbox();
        sb.script(vec![reply.times(3)]);
        let dir = common::tempdir();
        input(dir.path(), 10);
        let (code, stderr) = code_and_stderr(&send(
            &sb,
            dir.path(),
            &["--concurrency", "1", "--retries", "2"],
        ));
        assert_eq!(code, 1, "{name}: {stderr}");
        let r = report(dir.path());
        assert_eq!(
            (r["accepted"].as_u64(), r["failed"].as_u64()),
            (Some(0), Some(10)),
            "{name}: {r}"
        );
        let dead = dead_letters(dir.path());
        assert_eq!(dead.len(), 10, "{name}");
        for line in &dead {
            let d = &line["dead_letter"];
            assert_eq!(d["stage"], "failed", "{name}: {d}");
            assert_eq!(d["status"], 207, "{name}: {d}");
            let reason = d["reason"].as_str().unwrap_or("");
            assert!(
                reason.contains("gave up after 3 attempts: 207 with an unreadable body: "),
                "{name}: {reason}"
            );
        }
        assert_eq!(requests(&sb), 3, "{name}");
    }
}

#[test]
fn gdpr_fails_the_people_of_a_207_that_stays_unreadable() {
    let sb = sandbox();
    sb.script(vec![
        ScriptedReply::status(207)
            .text("<html>Multi-Status</html>")
            .times(3),
    ]);
    let dir = common::tempdir();
    std::fs::write(dir.path().join("forget.txt"), "u1\nu2\n").expect("list");
    let out = gdpr(&sb, dir.path(), &["--retries", "2", "--concurrency", "1"]);
    let (code, stderr) = code_and_stderr(&out);
    assert_eq!(code, 1, "{stderr}");
    let receipt = read(dir.path(), "receipt.csv");
    let rows: Vec<&str> = receipt.lines().filter(|l| l.starts_with('u')).collect();
    assert_eq!(rows.len(), 2, "{receipt}");
    for row in rows {
        assert!(
            row.contains(",delete,failed,207,\"gave up after 3 attempts: 207 with an unreadable body: not JSON"),
            "{row}"
        );
    }
    assert!(receipt.contains("# accepted,0\n"), "{receipt}");
    assert_eq!(requests(&sb), 3);
}

#[test]
fn a_readable_207_still_rejects_only_the_listed_operations() {
    let sb = sandbox();
    sb.script(vec![ScriptedReply::status(207).body(
        json!({"errors":[{"batch_index":3,"reason":"invalid","field":"name","message":"too long"}]}),
    )]);
    let dir = common::tempdir();
    input(dir.path(), 5);
    let (code, stderr) = code_and_stderr(&send(&sb, dir.path(), &["--concurrency", "1"]));
    assert_eq!(code, 1, "{stderr}");
    let r = report(dir.path());
    assert_eq!(
        (
            r["accepted"].as_u64(),
            r["rejected"].as_u64(),
            r["retries"].as_u64()
        ),
        (Some(4), Some(1), Some(0))
    );
    let dead = dead_letters(dir.path());
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["dead_letter"]["source"], "in.ndjson:4");
    assert_eq!(dead[0]["dead_letter"]["reason"], "name: too long (invalid)");
}

/// The forms of the key a server could echo: the key, the Basic token, the key's base64.
fn secret_forms() -> Vec<String> {
    let b64 = |t: &str| {
        base64::engine::general_purpose::STANDARD
            .encode(t)
            .trim_end_matches('=')
            .to_string()
    };
    vec![KEY.to_string(), b64(&format!("{SITE}:{KEY}")), b64(KEY)]
}

fn assert_no_secret(what: &str, text: &str) {
    for form in secret_forms() {
        assert!(!text.contains(&form), "{what} holds {form:?}:\n{text}");
    }
}

#[test]
fn a_401_page_echoing_the_authorization_header_is_redacted_on_stderr_and_in_the_report() {
    let sb = sandbox();
    sb.script(vec![
        ScriptedReply::status(401)
            .text("<html><title>401 Unauthorized</title>")
            .echo_headers(),
    ]);
    let dir = common::tempdir();
    input(dir.path(), 3);
    let (code, stderr) = code_and_stderr(&send(&sb, dir.path(), &["--concurrency", "1"]));
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("401 Unauthorized"), "{stderr}");
    assert!(
        stderr.contains("Basic (redacted)"),
        "the echo should be visible, redacted: {stderr}"
    );
    assert_no_secret("stderr", &stderr);
    let report = read(dir.path(), "report.json");
    assert!(report.contains("(redacted)"), "{report}");
    assert_no_secret("the report", &report);
}

#[test]
fn rejections_echoing_credentials_are_redacted_in_dead_letters_and_the_report() {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{SITE}:{KEY}"));
    let key_b64 = base64::engine::general_purpose::STANDARD.encode(KEY);
    // A 422 (sequential mode) echoing the headers, and a 207 whose messages quote the key in each
    // of its forms.
    let cases: Vec<(&str, Vec<&str>, ScriptedReply)> = vec![
        (
            "422",
            vec!["--mode", "sequential"],
            ScriptedReply::status(422).echo_headers().times(3),
        ),
        (
            "207",
            vec!["--concurrency", "1"],
            ScriptedReply::status(207).body(json!({"errors":[
                {"batch_index":0,"message":format!("bad header: Basic {token}")},
                {"batch_index":1,"message":format!("key {KEY} is not allowed here")},
                {"batch_index":2,"message":format!("decoded {key_b64}")},
            ]})),
        ),
    ];
    for (name, args, reply) in cases {
        let sb = sandbox();
        sb.script(vec![reply]);
        let dir = common::tempdir();
        input(dir.path(), 3);
        let (code, stderr) = code_and_stderr(&send(&sb, dir.path(), &args));
        assert_eq!(code, 1, "{name}: {stderr}");
        assert_no_secret("stderr", &stderr);
        let dead = read(dir.path(), "dead.ndjson");
        assert_eq!(dead.lines().count(), 3, "{name}: {dead}");
        for line in dead.lines() {
            assert!(line.contains("(redacted)"), "{name}: {line}");
        }
        assert_no_secret("the dead-letter file", &dead);
        assert_no_secret("the report", &read(dir.path(), "report.json"));
    }
}

#[test]
fn gdpr_receipts_never_hold_echoed_credentials() {
    let sb = sandbox();
    sb.script(vec![ScriptedReply::status(422).echo_headers().times(2)]);
    let dir = common::tempdir();
    std::fs::write(dir.path().join("forget.txt"), "u1\nu2\n").expect("list");
    let out = gdpr(&sb, dir.path(), &["--mode", "sequential"]);
    let (code, stderr) = code_and_stderr(&out);
    assert_eq!(code, 1, "{stderr}");
    assert_no_secret("stderr", &stderr);
    let receipt = read(dir.path(), "receipt.csv");
    assert!(receipt.contains("(redacted)"), "{receipt}");
    assert_no_secret("the receipt", &receipt);
}
