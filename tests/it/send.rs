//! `send` against the in-process sandbox over loopback: exactly-once delivery in both modes,
//! per-person order, 429s and 5xx retried, 207 dead letters read back, 401 exits 3, and the API key
//! never appears anywhere.

use crate::common;

use std::path::{Path, PathBuf};

use cio_replay::sandbox::{Sandbox, SandboxConfig, ScriptedReply};
use serde_json::{Value, json};

const KEY: &str = "k3y-DO-NOT-PRINT-7f3a91";

/// Run `send` against `sb` with the key in the environment; returns (exit code, stdout, stderr).
fn send(sb: &Sandbox, dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = common::send::send(sb, dir, KEY, args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

use crate::common::send::{report, sandbox_with_key};

fn track(user: &str, n: u64) -> Value {
    json!({"type":"track","userId":user,"event":"Clicked","properties":{"n":n},
           "timestamp":"2023-01-01T00:00:00Z","messageId":format!("m-{user}-{n}")})
}

/// Every operation the sandbox processed exactly once: applied + blocked + ignored = accepted, no
/// event de-duplicated.
fn assert_exactly_once(sb: &Sandbox, report: &Value) {
    let state = sb.state();
    let ops = &state["operations"];
    let processed = ops["applied"].as_u64().unwrap_or(0)
        + ops["blocked"].as_u64().unwrap_or(0)
        + ops["ignored"].as_u64().unwrap_or(0);
    assert_eq!(Some(processed), report["accepted"].as_u64(), "{state:#}");
    assert_eq!(state["events"]["duplicates"], 0, "{state:#}");
}

#[test]
fn every_fixture_record_is_accepted_exactly_once_in_both_modes() {
    for mode in ["batch", "sequential"] {
        let sb = common::send::sandbox(KEY);
        let dir = common::tempdir();
        let (code, _, stderr) = send(&sb, dir.path(), &[&common::sample(), "--mode", mode]);
        assert_eq!(code, 0, "{mode}: {stderr}");
        let r = report(dir.path());
        assert_eq!(r["records"], 38, "{r:#}");
        assert_eq!(r["accepted"], r["mapped"], "{mode}: {r:#}");
        assert_eq!(r["rejected"], 0);
        assert_eq!(r["failed"], 0);
        assert_exactly_once(&sb, &r);
        if mode == "sequential" {
            assert_eq!(
                r["requests_sent"], r["accepted"],
                "one request per operation"
            );
        }
        assert!(!dir.path().join("dead.ndjson").exists());
    }
}

#[test]
fn one_persons_records_keep_their_order_at_concurrency_8() {
    let sb = common::send::sandbox(KEY);
    let dir = common::tempdir();
    let lines = (0..25u64).flat_map(|seq| {
        (0..20).map(move |p| {
            json!({"type":"identify","userId":format!("user-{p}"),"traits":{"seq":seq},
                   "timestamp":"2023-01-01T00:00:00Z"})
        })
    });
    common::write_ndjson(&dir.path().join("in.ndjson"), lines);
    let (code, _, stderr) = send(
        &sb,
        dir.path(),
        &["in.ndjson", "--concurrency", "8", "--batch-size", "7"],
    );
    assert_eq!(code, 0, "{stderr}");
    let state = sb.state();
    let people = state["people"].as_array().expect("people");
    assert_eq!(people.len(), 20);
    for person in people {
        assert_eq!(person["attributes"]["seq"], 24, "{person}");
    }
    assert_exactly_once(&sb, &report(dir.path()));
}

#[test]
fn bursts_of_429_with_retry_after_are_waited_out() {
    let sb = common::send::sandbox(KEY);
    sb.script(vec![ScriptedReply::status(429).retry_after(1).times(3)]);
    let dir = common::tempdir();
    common::write_ndjson(
        &dir.path().join("in.ndjson"),
        (0..30).map(|n| track(&format!("u{}", n % 3), n)),
    );
    let (code, _, stderr) = send(&sb, dir.path(), &["in.ndjson", "--concurrency", "2"]);
    assert_eq!(code, 0, "{stderr}");
    let r = report(dir.path());
    assert_eq!(r["accepted"], 30);
    assert_eq!(r["throttled"], 3);
    assert_eq!(r["retries"], 3);
    assert_exactly_once(&sb, &r);
}

#[test]
fn injected_5xx_are_retried_to_success() {
    let sb = common::send::sandbox(KEY);
    sb.script(vec![
        ScriptedReply::status(503).times(2),
        ScriptedReply::status(500),
    ]);
    let dir = common::tempdir();
    common::write_ndjson(
        &dir.path().join("in.ndjson"),
        (0..12).map(|n| track("u", n)),
    );
    let (code, _, stderr) = send(&sb, dir.path(), &["in.ndjson", "--mode", "sequential"]);
    assert_eq!(code, 0, "{stderr}");
    let r = report(dir.path());
    assert_eq!(
        (r["accepted"].as_u64(), r["retries"].as_u64()),
        (Some(12), Some(3))
    );
    assert_exactly_once(&sb, &r);

    // Random faults at a 30% rate, seeded: everything still arrives once.
    let sb = sandbox_with_key(
        SandboxConfig {
            fail_rate: 0.3,
            seed: Some(7),
            ..SandboxConfig::default()
        },
        KEY,
    );
    let dir = common::tempdir();
    common::write_ndjson(
        &dir.path().join("in.ndjson"),
        (0..200).map(|n| track(&format!("u{}", n % 9), n)),
    );
    let (code, _, stderr) = send(
        &sb,
        dir.path(),
        &["in.ndjson", "--batch-size", "5", "--retries", "12"],
    );
    assert_eq!(code, 0, "{stderr}");
    let r = report(dir.path());
    assert_eq!(r["accepted"], 200);
    assert!(r["retries"].as_u64() > Some(0));
    assert_exactly_once(&sb, &r);
}

#[test]
fn a_207_dead_letters_exactly_the_listed_operations_and_they_send_back() {
    let sb = common::send::sandbox(KEY);
    sb.script(vec![ScriptedReply::status(207).body(json!({"errors":[
        {"batch_index":1,"reason":"invalid","field":"name","message":"too long"},
        {"batch_index":3,"reason":"invalid","message":"bad value"},
        {"reason":"no index"}
    ]}))]);
    let dir = common::tempdir();
    common::write_ndjson(
        &dir.path().join("in.ndjson"),
        (0..10).map(|n| track("u", n)),
    );
    let (code, _, stderr) = send(
        &sb,
        dir.path(),
        &["in.ndjson", "--concurrency", "1", "--batch-size", "10"],
    );
    assert_eq!(code, 1, "{stderr}");
    let r = report(dir.path());
    assert_eq!(
        (r["accepted"].as_u64(), r["rejected"].as_u64()),
        (Some(8), Some(2))
    );
    let dead = std::fs::read_to_string(dir.path().join("dead.ndjson")).expect("dead letters");
    let lines: Vec<Value> = dead
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(lines.len(), 2, "{dead}");
    assert_eq!(lines[0]["dead_letter"]["source"], "in.ndjson:2");
    assert_eq!(lines[0]["dead_letter"]["status"], 207);
    assert_eq!(lines[0]["dead_letter"]["stage"], "rejected");
    assert_eq!(lines[0]["dead_letter"]["action"], "track-event");
    assert_eq!(
        lines[0]["dead_letter"]["reason"],
        "name: too long (invalid)"
    );
    assert_eq!(lines[0]["event"], track("u", 1));
    assert_eq!(lines[1]["dead_letter"]["source"], "in.ndjson:4");
    assert_eq!(lines[1]["event"], track("u", 3));

    // The dead-letter file is a valid input as it is.
    std::fs::rename(
        dir.path().join("dead.ndjson"),
        dir.path().join("fixed.ndjson"),
    )
    .expect("mv");
    let (code, _, stderr) = send(&sb, dir.path(), &["fixed.ndjson"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report(dir.path())["accepted"], 2);
}

#[test]
fn a_401_exits_3_at_once() {
    // Credentials revoked mid-run: the preflight passed, then the Track API answers 401.
    let sb = common::send::sandbox(KEY);
    sb.script(vec![ScriptedReply::status(401).times(100)]);
    let dir = common::tempdir();
    common::write_ndjson(
        &dir.path().join("in.ndjson"),
        (0..500).map(|n| track(&format!("u{n}"), n)),
    );
    let (code, _, stderr) = send(&sb, dir.path(), &["in.ndjson", "--batch-size", "5"]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("refused the credentials"), "{stderr}");
    assert!(!stderr.contains(KEY));
    let requests = sb.state()["requests"]["total"].as_u64().unwrap_or(0);
    assert!(requests <= 4, "{requests} requests after the first 401");
    let r = report(dir.path());
    assert_eq!(r["accepted"], 0);
    assert!(r["unsent"].as_u64() > Some(0));
}

#[test]
fn the_preflight_refuses_a_wrong_key_before_reading_the_input() {
    let sb = common::send::sandbox(KEY);
    let dir = common::tempdir();
    common::write_ndjson(
        &dir.path().join("in.ndjson"),
        (0..500).map(|n| track(&format!("u{n}"), n)),
    );
    let out = common::cio()
        .current_dir(dir.path())
        .env("CIO_SITE_ID", "site-1")
        .env("CIO_API_KEY", "wrong-key")
        .args([
            "send",
            "in.ndjson",
            "--endpoint",
            &sb.url(),
            "--allow-recent",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refused the credentials"), "{stderr}");
    assert!(stderr.contains("nothing was sent"), "{stderr}");
    assert!(!stderr.contains("wrong-key"), "{stderr}");
    let state = sb.state();
    assert_eq!(state["requests"]["total"], 0, "no data request: {state}");
    assert_eq!(state["requests"]["region_lookups"], 1);
}

#[test]
fn the_preflight_refuses_a_workspace_in_the_other_region() {
    let sb = sandbox_with_key(
        SandboxConfig {
            region: cio_replay::track::Region::Eu,
            ..SandboxConfig::default()
        },
        KEY,
    );
    let dir = common::tempdir();
    common::write_ndjson(&dir.path().join("in.ndjson"), [track("u", 1)]);
    let (code, _, stderr) = send(&sb, dir.path(), &["in.ndjson"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("EU region"), "{stderr}");
    assert!(stderr.contains("--region eu"), "{stderr}");
    assert_eq!(sb.state()["requests"]["total"], 0);
    // Told the right region, the same run goes ahead.
    let (code, _, stderr) = send(&sb, dir.path(), &["in.ndjson", "--region", "eu"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(sb.state()["requests"]["total"], 1);
}

#[test]
fn credentials_and_endpoints_are_checked_before_anything_is_sent() {
    let dir = common::tempdir();
    common::write_ndjson(&dir.path().join("in.ndjson"), [track("u", 1)]);
    let out = common::cio()
        .current_dir(dir.path())
        .args(["send", "in.ndjson", "--allow-recent"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("CIO_SITE_ID"));
    let out = common::cio()
        .current_dir(dir.path())
        .env("CIO_SITE_ID", "s")
        .env("CIO_API_KEY", KEY)
        .args([
            "send",
            "in.ndjson",
            "--allow-recent",
            "--endpoint",
            "http://track.example.com",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("https"));
    for (flag, value) in [
        ("--batch-bytes", "500001"),
        ("--concurrency", "0"),
        ("--rate", "-1"),
    ] {
        let out = common::cio()
            .current_dir(dir.path())
            .env("CIO_SITE_ID", "s")
            .env("CIO_API_KEY", KEY)
            .args(["send", "in.ndjson", "--allow-recent", flag, value])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
    }
}

#[test]
fn the_api_key_appears_in_no_output_or_file() {
    let sb = common::send::sandbox(KEY);
    let dir = common::tempdir();
    let mut lines: Vec<Value> = (0..20).map(|n| track("u", n)).collect();
    lines.push(json!({"type":"track","userId":"u"})); // invalid: no event name
    common::write_ndjson(&dir.path().join("in.ndjson"), lines);
    std::fs::write(dir.path().join("key.txt"), format!("{KEY}\n")).expect("key file");
    let mut seen = String::new();
    let (code, out, err) = send(&sb, dir.path(), &["in.ndjson"]);
    assert_eq!(code, 1, "{err}");
    seen += &(out + &err);
    // --api-key on the command line works, with a warning.
    let o = common::cio()
        .current_dir(dir.path())
        .args([
            "send",
            "in.ndjson",
            "--endpoint",
            &sb.url(),
            "--allow-recent",
            "--site-id",
            "site-1",
        ])
        .args([
            "--api-key",
            KEY,
            "--dead-letter",
            "dead-flag.ndjson",
            "--report",
            "report-flag.json",
        ])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        stderr.contains("visible") || stderr.contains("can see it"),
        "{stderr}"
    );
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    seen += &(String::from_utf8_lossy(&o.stdout).into_owned() + &stderr);
    // --api-key-file, and a refused run.
    let o = common::cio()
        .current_dir(dir.path())
        .env("CIO_SITE_ID", "other-site")
        .args([
            "send",
            "in.ndjson",
            "--endpoint",
            &sb.url(),
            "--allow-recent",
        ])
        .args([
            "--api-key-file",
            "key.txt",
            "--dead-letter",
            "dead-401.ndjson",
            "--report",
            "report-401.json",
        ])
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(3));
    seen +=
        &(String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr));
    let mut files = 0;
    for entry in std::fs::read_dir(dir.path()).expect("dir").flatten() {
        let path: PathBuf = entry.path();
        if path.file_name().is_some_and(|n| n == "key.txt") {
            continue;
        }
        seen += &std::fs::read_to_string(&path).unwrap_or_default();
        files += 1;
    }
    assert!(files >= 5, "reports and dead letters were written");
    assert!(!seen.is_empty());
    assert!(!seen.contains(KEY), "the key leaked");
    assert!(
        !seen.contains("c2l0ZS0xOmszeS1ETy1OT1QtUFJJTlQtN2YzYTkx"),
        "the key leaked in base64"
    );
}

#[test]
fn send_sandbox_needs_no_account() {
    let dir = common::tempdir();
    let out = common::cio()
        .current_dir(dir.path())
        .args([
            "send",
            &common::sample(),
            "--sandbox",
            "--dead-letter",
            "d.ndjson",
        ])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("38 accepted"), "{stderr}");
    assert!(stderr.contains("sandbox workspace"), "{stderr}");
}

#[test]
fn a_dead_letter_file_with_records_is_not_appended_to_without_asking() {
    let sb = common::send::sandbox(KEY);
    let dir = common::tempdir();
    common::write_ndjson(&dir.path().join("in.ndjson"), [track("u", 1)]);
    std::fs::write(
        dir.path().join("in.ndjson.rejected.ndjson"),
        "{\"old\":1}\n",
    )
    .expect("write");
    let run = |extra: &[&str]| {
        common::cio()
            .current_dir(dir.path())
            .env("CIO_SITE_ID", common::send::SITE)
            .env("CIO_API_KEY", KEY)
            .args([
                "send",
                "in.ndjson",
                "--endpoint",
                &sb.url(),
                "--allow-recent",
            ])
            .args(["--progress", "never"])
            .args(extra)
            .output()
            .expect("runs")
    };
    let out = run(&[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("in.ndjson.rejected.ndjson"), "{stderr}");
    assert!(stderr.contains("--dead-letter-append"), "{stderr}");
    assert_eq!(sb.state()["requests"]["total"], 0, "nothing sent");
    let out = run(&["--dead-letter-append"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(sb.state()["requests"]["total"], 1);
}

#[test]
fn a_canary_sends_the_first_records_and_a_resume_the_rest_once() {
    let sb = common::send::sandbox(KEY);
    let dir = common::tempdir();
    common::write_ndjson(
        &dir.path().join("in.ndjson"),
        (0..250).map(|n| track(&format!("u{}", n % 9), n)),
    );
    let canary = ["in.ndjson", "--checkpoint", "cp.json", "--batch-size", "10"];
    let (code, _, stderr) = send(&sb, dir.path(), &[&canary[..], &["--limit", "30"]].concat());
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("stopped after the first 30 records (--limit)"),
        "{stderr}"
    );
    assert!(stderr.contains("--resume and without --limit"), "{stderr}");
    let r = report(dir.path());
    assert_eq!(r["accepted"], 30);
    assert_eq!(r["limit_reached"], 30);
    assert_eq!(r["status"], "halted");
    assert_eq!(r["exit_code"], 0);
    let events = |sb: &Sandbox| sb.state()["events"].clone();
    assert_eq!(events(&sb)["total"], 30);
    // The checkpoint is not finished: the resume sends the other 220, none of the first 30 again.
    let (code, _, stderr) = send(&sb, dir.path(), &[&canary[..], &["--resume"]].concat());
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report(dir.path())["accepted"], 220);
    // Which count is this run's and which all runs' is said (before: "sent: 220 accepted" beside
    // "whole job so far: 250 records" without a word).
    assert!(stderr.contains("this run sent: 220 accepted"), "{stderr}");
    assert!(
        stderr.contains(
            "whole job so far (all runs of this checkpoint): 250 records:\n    250 accepted"
        ),
        "{stderr}"
    );
    assert_eq!(events(&sb)["total"], 250);
    assert_eq!(events(&sb)["duplicates"], 0);
    // And the job is done.
    let (code, _, stderr) = send(&sb, dir.path(), &[&canary[..], &["--resume"]].concat());
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(events(&sb)["total"], 250);
}

/// The budget of a resumed run counts the whole job (before: only this run's records, so a job
/// could go over `--max-invalid` in slices that each stayed under it): 5 rejected in the canary,
/// 5 more in the resume, 10 over a budget of 7 stops the resume with exit 5; a further resume,
/// already over, sends nothing.
#[test]
fn the_error_budget_of_a_resumed_run_counts_the_whole_job() {
    let sb = common::send::sandbox(KEY);
    // Bisection finds each record of a user "bad-..." and the sandbox rejects it (400).
    sb.script(vec![
        ScriptedReply::status(400).matching("bad-").times(10_000),
    ]);
    let dir = common::tempdir();
    common::write_ndjson(
        &dir.path().join("in.ndjson"),
        (0..100).map(|n| {
            let user = if n % 10 == 0 {
                format!("bad-{n}")
            } else {
                format!("u{}", n % 7)
            };
            track(&user, n)
        }),
    );
    let job = ["in.ndjson", "--checkpoint", "cp.json", "--max-invalid", "7"];
    let flags = ["--batch-size", "10", "--concurrency", "1"];
    let (code, _, stderr) = send(
        &sb,
        dir.path(),
        &[&job[..], &flags, &["--limit", "50"]].concat(),
    );
    assert_eq!(code, 1, "5 rejected, within the budget: {stderr}");
    assert_eq!(report(dir.path())["rejected"], 5);
    let (code, _, stderr) = send(&sb, dir.path(), &[&job[..], &flags, &["--resume"]].concat());
    assert_eq!(code, 5, "5 + 5 rejected over 7: {stderr}");
    assert!(
        stderr.contains("the budget counts the whole job"),
        "{stderr}"
    );
    let requests = common::requests(&sb);
    let (code, _, stderr) = send(&sb, dir.path(), &[&job[..], &flags, &["--resume"]].concat());
    assert_eq!(code, 5, "{stderr}");
    assert!(
        stderr.contains("earlier runs of this checkpoint already"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was sent"), "{stderr}");
    assert!(
        common::requests(&sb) <= requests + 1,
        "at most the preflight"
    );
    // With room for the whole job's records, the resume goes on.
    let room = [
        "in.ndjson",
        "--checkpoint",
        "cp.json",
        "--max-invalid",
        "20",
    ];
    let (code, _, stderr) = send(
        &sb,
        dir.path(),
        &[&room[..], &flags, &["--resume"]].concat(),
    );
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(sb.state()["events"]["unique"], 90, "every good record once");
}

#[test]
fn the_error_budget_refuses_before_sending_and_stops_a_send_over_it() {
    let sb = common::send::sandbox(KEY);
    let dir = common::tempdir();
    let mut lines: Vec<Value> = (0..200).map(|n| track(&format!("u{n}"), n)).collect();
    for n in (0..200).step_by(20) {
        lines[n] = json!({"type": "track", "event": "no user"});
    }
    common::write_ndjson(&dir.path().join("in.ndjson"), lines.clone());
    // The pre-scan counts 10 invalid of 200: over 5, and over 4%; nothing is sent.
    for budget in ["5", "4%"] {
        let (code, _, stderr) = send(&sb, dir.path(), &["in.ndjson", "--max-invalid", budget]);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains("10 of 200 records are invalid"), "{stderr}");
        assert!(stderr.contains("nothing was sent"), "{stderr}");
    }
    assert_eq!(sb.state()["requests"]["total"], 0);
    // Within the budget, the send goes ahead.
    let (code, _, stderr) = send(&sb, dir.path(), &["in.ndjson", "--max-invalid", "5%"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(report(dir.path())["accepted"], 190);
    // Standard input has no pre-scan: the send stops once it is over the budget (exit 5).
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let out = common::cio()
        .current_dir(dir.path())
        .env("CIO_SITE_ID", common::send::SITE)
        .env("CIO_API_KEY", KEY)
        .args(["send", "-", "--endpoint", &sb.url(), "--allow-recent"])
        .args([
            "--progress",
            "never",
            "--max-invalid",
            "3",
            "--batch-size",
            "5",
        ])
        .args([
            "--dead-letter",
            "stdin-dead.ndjson",
            "--report",
            "stdin.json",
        ])
        .write_stdin(text)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("over --max-invalid 3"), "{stderr}");
    let stdin_report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("stdin.json")).unwrap())
            .unwrap();
    assert!(
        stdin_report["accepted"].as_u64() < Some(190),
        "{stdin_report}"
    );
}

/// 2000 track records, gzipped and cut in the middle of the stream, at `path`; returns the text.
fn truncated_gzip(path: &Path) -> String {
    let text: String = (0..2000)
        .map(|n| format!("{}\n", track(&format!("u{n}"), n)))
        .collect();
    let bytes = common::gzip(text.as_bytes());
    std::fs::write(path, &bytes[..bytes.len() / 2]).unwrap();
    text
}

#[test]
fn the_pre_scan_refuses_a_truncated_input_with_nothing_sent() {
    let sb = common::send::sandbox(KEY);
    let dir = common::tempdir();
    truncated_gzip(&dir.path().join("in.ndjson.gz"));
    let (code, _, stderr) = send(&sb, dir.path(), &["in.ndjson.gz", "--max-invalid", "100%"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("in.ndjson.gz:"), "{stderr}");
    assert!(stderr.contains("cannot be read to its end"), "{stderr}");
    assert_eq!(sb.state()["requests"]["total"], 0);
}

#[test]
fn the_report_says_what_ran_where_and_how_it_ended() {
    let sb = common::send::sandbox(KEY);
    let dir = common::tempdir();
    let mut lines: Vec<Value> = (0..20).map(|n| track(&format!("u{n}"), n)).collect();
    lines[3] = json!({"type": "track", "event": "no user"});
    lines[7] = json!({"type": "track", "event": "no user either"});
    common::write_ndjson(&dir.path().join("in.ndjson"), lines);
    let (code, _, stderr) = send(&sb, dir.path(), &["in.ndjson"]);
    assert_eq!(code, 1, "{stderr}");
    let r = report(dir.path());
    assert_eq!(r["report_version"], 1);
    assert_eq!(r["tool_version"], env!("CARGO_PKG_VERSION"));
    for at in ["started_at", "finished_at"] {
        let text = r[at].as_str().expect(at);
        assert!(
            chrono::DateTime::parse_from_rfc3339(text).is_ok(),
            "{at}: {text}"
        );
    }
    assert!(r["elapsed_seconds"].as_f64().is_some());
    assert_eq!(r["status"], "complete");
    assert_eq!(r["exit_code"], 1);
    assert_eq!(r["inputs"][0]["path"], "in.ndjson");
    assert_eq!(r["inputs"][0]["records"], 20);
    assert!(r["inputs"][0]["size"].as_u64() > Some(0));
    assert_eq!(
        r["inputs"][0]["fingerprint"].as_str().map(str::len),
        Some(64)
    );
    let url = sb.url();
    let host = url.trim_start_matches("http://");
    assert_eq!(r["endpoint"], host);
    assert_eq!(r["region"], "custom endpoint");
    let hash = r["site_id_sha256"].as_str().expect("hash");
    assert_eq!(hash.len(), 16);
    assert!(!hash.contains(common::send::SITE));
    let reasons = r["invalid_reasons"].as_object().expect("reasons");
    let total: u64 = reasons
        .values()
        .map(|v| v["count"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(total, 2, "{reasons:?}");
    let first: Vec<&str> = reasons
        .values()
        .flat_map(|v| v["first"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    assert!(
        first.contains(&"in.ndjson:4") && first.contains(&"in.ndjson:8"),
        "{first:?}"
    );
    assert!(r["skipped_reasons"].is_object());
}

#[test]
fn an_input_cut_short_leaves_the_job_unfinished_without_a_pre_scan() {
    let sb = common::send::sandbox(KEY);
    let dir = common::tempdir();
    let text = truncated_gzip(&dir.path().join("in.ndjson.gz"));
    // --allow-recent (the harness's) and no --max-invalid: no pre-scan, the send meets the cut.
    let (code, _, stderr) = send(
        &sb,
        dir.path(),
        &["in.ndjson.gz", "--checkpoint", "cp.json"],
    );
    assert_eq!(code, 1, "{stderr}");
    let r = report(dir.path());
    assert_eq!(r["status"], "halted", "{r}");
    let checkpoint: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("cp.json")).unwrap())
            .unwrap();
    assert_eq!(checkpoint["finished"], false, "{checkpoint}");
    // A complete run of an intact input does mark it finished (the field this test reads).
    std::fs::write(dir.path().join("ok.ndjson"), &text).unwrap();
    let (code, _, stderr) = send(&sb, dir.path(), &["ok.ndjson", "--checkpoint", "ok.json"]);
    assert_eq!(code, 0, "{stderr}");
    let done: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("ok.json")).unwrap())
            .unwrap();
    assert_eq!(done["finished"], true, "{done}");
}
