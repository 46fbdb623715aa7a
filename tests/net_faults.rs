//! `send` and `gdpr` against servers that misbehave on the network level: 207s whose body cannot be
//! read (HTML, invalid JSON, no `errors` list, cut off, over the read limit).

mod common;

use std::path::Path;
use std::process::Output;

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
