//! Backfill safety through the binary: campaign-trigger warnings, the refusal of `send` and
//! `--allow-recent`, the histogram and `--quiet`, `--since` / `--until`. Fixtures are written at
//! test time with timestamps relative to the test's own clock.

use crate::common;

use std::fs;
use std::path::Path;

use chrono::{SecondsFormat, Utc};
use cio_replay::sandbox::{Sandbox, SandboxConfig};
use serde_json::{Value, json};

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

fn now() -> i64 {
    Utc::now().timestamp()
}

fn iso(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .expect("valid time")
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn track(user: &str, event: &str, timestamp: Option<Value>) -> Value {
    let mut e = json!({"type": "track", "userId": user, "event": event, "properties": {}});
    if let Some(t) = timestamp {
        e["timestamp"] = t;
    }
    e
}

fn warning<'a>(summary: &'a Value, kind: &str) -> Option<&'a Value> {
    summary["safety"]["warnings"]
        .as_array()?
        .iter()
        .find(|w| w["kind"] == kind)
}

#[test]
fn dry_run_warns_about_every_pattern() {
    let dir = common::tempdir();
    let t = now();
    let file = common::write_ndjson(
        &dir.path().join("mixed.ndjson"),
        &[
            track("u1", "Old", Some(json!(iso(t - 40 * DAY)))),
            track("u1", "Recent", Some(json!(iso(t - 2 * HOUR)))),
            track("u2", "No time", None),
            track("u3", "Future", Some(json!(iso(t + 10 * DAY)))),
            track("u4", "Millis", Some(json!((t - 30 * DAY) * 1000))),
            json!({"type": "identify", "userId": "u5", "timestamp": iso(t - 50 * DAY),
                   "traits": {"created_at": iso(t + 400 * DAY)}}),
        ],
    );
    let (code, stderr, summary) = common::dry_run_summary(dir.path(), &[file.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let name = file.display().to_string();
    let recent = warning(&summary, "recent").expect("recent warning");
    // the future event is not older than 72 hours either
    assert_eq!(recent["count"], 2, "{summary:#}");
    assert_eq!(
        recent["locations"],
        json!([format!("{name}:2"), format!("{name}:4")])
    );
    let untimed = warning(&summary, "no-timestamp").expect("no-timestamp warning");
    assert_eq!(untimed["locations"], json!([format!("{name}:3")]));
    assert_eq!(warning(&summary, "future-timestamp").unwrap()["count"], 1);
    assert_eq!(warning(&summary, "milliseconds").unwrap()["count"], 1);
    assert_eq!(warning(&summary, "future-created-at").unwrap()["count"], 1);
    assert!(warning(&summary, "same-second").is_none());
    assert_eq!(summary["safety"]["campaign_risk"]["recent_events"], 2);
    assert_eq!(summary["safety"]["campaign_risk"]["untimed_events"], 1);
    assert_eq!(
        summary["safety"]["time_range"]["first"],
        json!(iso(t - 50 * DAY))
    );
    for needle in [
        "warning: 2 events are within the last 72 hours",
        "warning: 1 event has no timestamp",
        "warning: 1 record has a timestamp in the future",
        "warning: 1 timestamp was in milliseconds",
        "warning: 1 identify record has created_at in the future",
        "Time range: ",
    ] {
        assert!(stderr.contains(needle), "{needle:?} missing in:\n{stderr}");
    }
}

#[test]
fn a_file_at_one_second_is_flagged_and_old_files_are_quiet() {
    let dir = common::tempdir();
    let stamp = json!(iso(now() - 90 * DAY));
    let same = common::write_ndjson(
        &dir.path().join("same.ndjson"),
        &[
            track("u1", "A", Some(stamp.clone())),
            track("u2", "B", Some(stamp.clone())),
            track("u3", "C", Some(stamp)),
        ],
    );
    let (_, stderr, summary) = common::dry_run_summary(dir.path(), &[same.to_str().unwrap()]);
    let w = warning(&summary, "same-second").expect("same-second warning");
    assert_eq!(w["count"], 3);
    assert!(stderr.contains("are at the same second"), "{stderr}");

    let old = common::write_ndjson(
        &dir.path().join("old.ndjson"),
        &[
            track("u1", "A", Some(json!(iso(now() - 90 * DAY)))),
            track("u2", "B", Some(json!(iso(now() - 80 * DAY)))),
        ],
    );
    let (_, stderr, summary) = common::dry_run_summary(dir.path(), &[old.to_str().unwrap()]);
    assert_eq!(summary["safety"]["warnings"], json!([]), "{summary:#}");
    assert!(!stderr.contains("warning:"), "{stderr}");
}

#[test]
fn histogram_fits_80_columns_and_quiet_hides_it() {
    let dir = common::tempdir();
    let mut events = Vec::new();
    for (month, n) in [(1, 30), (2, 0), (3, 12), (4, 5), (5, 1)] {
        for i in 0..n {
            events.push(track(
                "u1",
                "E",
                Some(json!(format!(
                    "2023-{month:02}-{:02}T10:00:00Z",
                    1 + i % 28
                ))),
            ));
        }
    }
    events.push(json!({"type": "identify", "userId": "u1", "timestamp": "2023-03-05T00:00:00Z"}));
    events.push(json!({"type": "page", "userId": "u1", "name": "Home",
        "properties": {"url": "https://example.com/"}, "timestamp": "2023-05-07T00:00:00Z"}));
    let file = common::write_ndjson(&dir.path().join("months.ndjson"), &events);
    let (code, stderr, summary) = common::dry_run_summary(dir.path(), &[file.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let chart: Vec<&str> = stderr
        .lines()
        .skip_while(|l| !l.starts_with("Records per month"))
        .take(7)
        .collect();
    assert_eq!(
        chart,
        [
            "Records per month by action family:",
            "  P=person E=event V=page-screen",
            "  2023-01  EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE 30",
            "  2023-02                                                      0",
            "  2023-03  PPEEEEEEEEEEEEEEEEEEEE                             13",
            "  2023-04  EEEEEEEE                                            5",
            "  2023-05  EEV                                                 2",
        ],
        "{stderr}"
    );
    for line in stderr.lines() {
        assert!(line.chars().count() <= 80, "too wide: {line}");
    }
    let rows = summary["safety"]["histogram"]["rows"].as_array().unwrap();
    assert_eq!(summary["safety"]["histogram"]["unit"], "month");
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[2]["by_family"], json!({"person": 1, "event": 12}));

    let out = common::cio()
        .args(["dry-run", "--quiet", "--output"])
        .arg(dir.path().join("l.ndjson"))
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("Records per"), "{stderr}");
    assert!(!stderr.contains("Time range"), "{stderr}");
}

#[test]
fn since_until_skip_with_reasons_and_counts_add_up() {
    let dir = common::tempdir();
    let file = common::write_ndjson(
        &dir.path().join("slices.ndjson"),
        &[
            track("u1", "Dec", Some(json!("2023-12-31T23:59:59Z"))),
            track("u1", "Jan", Some(json!("2024-01-01T00:00:00Z"))),
            track("u1", "Jan end", Some(json!("2024-01-31T23:59:59Z"))),
            track("u1", "Feb", Some(json!("2024-02-01T00:00:00Z"))),
            track("u1", "No time", None),
            json!({"type": "track", "event": "no user", "timestamp": "2024-01-10T00:00:00Z"}),
        ],
    );
    let (code, stderr, summary) = common::dry_run_summary(
        dir.path(),
        &[
            file.to_str().unwrap(),
            "--since",
            "2024-01-01",
            "--until",
            "2024-02-01",
        ],
    );
    assert_eq!(code, 1, "one record is invalid: {stderr}");
    assert_eq!(summary["records"], 6);
    assert_eq!(summary["mapped"], 2);
    assert_eq!(summary["skipped"], 3);
    assert_eq!(summary["invalid"], 1);
    let listing = fs::read_to_string(dir.path().join("listing.ndjson")).unwrap();
    let lines: Vec<Value> = listing
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines[0]["skipped"],
        "outside --since/--until window: timestamp 2023-12-31T23:59:59Z is before --since 2024-01-01"
    );
    assert!(lines[1].get("operation").is_some());
    assert!(lines[2].get("operation").is_some());
    assert_eq!(
        lines[3]["skipped"],
        "outside --since/--until window: timestamp 2024-02-01T00:00:00Z is not before --until 2024-02-01"
    );
    assert!(
        lines[4]["skipped"]
            .as_str()
            .unwrap()
            .contains("has no timestamp")
    );
    assert!(lines[5].get("error").is_some(), "invalid stays invalid");
    assert_eq!(summary["safety"]["since"], "2024-01-01");

    let (_, _, strict) = common::dry_run_summary(
        dir.path(),
        &[file.to_str().unwrap(), "--since", "2024-01-01", "--strict"],
    );
    assert_eq!(strict["mapped"], 3, "{strict:#}");
    assert_eq!(strict["skipped"], 0);
    assert_eq!(
        strict["invalid"], 3,
        "outside the window and --strict: invalid"
    );

    let (code, stderr, _) =
        common::dry_run_summary(dir.path(), &[file.to_str().unwrap(), "--since", "soon"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--since \"soon\" is not a time"),
        "{stderr}"
    );
    let (code, stderr, _) = common::dry_run_summary(
        dir.path(),
        &[
            file.to_str().unwrap(),
            "--since",
            "2024-02-01",
            "--until",
            "2024-01-01",
        ],
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("the window is empty"), "{stderr}");
}

/// `send` to the sandbox `sb` (as a normal endpoint, so the safety check applies).
fn send_to(sb: &Sandbox, input: SendInput<'_>, extra: &[&str]) -> (i32, String) {
    let scratch = common::tempdir();
    let mut cmd = common::cio();
    cmd.arg("send")
        .args(["--endpoint", &sb.url(), "--site-id", sb.site_id()])
        .env("CIO_API_KEY", sb.api_key().expose())
        .args(["--progress", "never", "--dead-letter"])
        .arg(scratch.path().join("rejected.ndjson"))
        .args(extra);
    match input {
        SendInput::File(path) => {
            cmd.arg(path);
        }
        SendInput::Stdin(text) => {
            cmd.arg("-").write_stdin(text.to_string());
        }
    }
    let out = cmd.output().expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains(sb.api_key().expose()), "the key leaked");
    (out.status.code().unwrap_or(-1), stderr)
}

enum SendInput<'a> {
    File(&'a Path),
    Stdin(&'a str),
}

fn nothing_arrived(sb: &Sandbox) -> bool {
    let t = sb.totals();
    t.people == 0 && t.events == 0
}

#[test]
fn send_refuses_recent_and_untimed_events_and_sends_nothing() {
    let dir = common::tempdir();
    let t = now();
    let file = common::write_ndjson(
        &dir.path().join("recent.ndjson"),
        &[
            track("u1", "Old", Some(json!(iso(t - 10 * DAY)))),
            track("u1", "Recent", Some(json!(t - 71 * HOUR))),
            track("u2", "No time", None),
        ],
    );
    let sb = common::sandbox(SandboxConfig::default());
    let (code, stderr) = send_to(&sb, SendInput::File(&file), &[]);
    assert_eq!(code, 2, "{stderr}");
    let name = file.display().to_string();
    assert!(stderr.contains("refusing to send"), "{stderr}");
    assert!(
        stderr.contains("1 event is within the last 72 hours"),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("{name}:2")), "{stderr}");
    assert!(stderr.contains("1 event has no timestamp"), "{stderr}");
    assert!(stderr.contains(&format!("{name}:3")), "{stderr}");
    assert!(stderr.contains("--allow-recent"), "{stderr}");
    assert!(
        nothing_arrived(&sb),
        "nothing may be sent: {}",
        sb.summary()
    );

    // --until leaves the recent and the timestamp-less events out: the gate opens
    let until = iso(t - 72 * HOUR);
    let (code, stderr) = send_to(&sb, SendInput::File(&file), &["--until", &until]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(sb.totals().events, 1, "{}", sb.summary());
}

#[test]
fn allow_recent_lifts_the_refusal() {
    let dir = common::tempdir();
    let file = common::write_ndjson(
        &dir.path().join("recent.ndjson"),
        &[track("u1", "Recent", Some(json!(iso(now() - HOUR))))],
    );
    let sb = common::sandbox(SandboxConfig::default());
    let (code, _) = send_to(&sb, SendInput::File(&file), &[]);
    assert_eq!(code, 2);
    assert!(nothing_arrived(&sb));
    let report = dir.path().join("report.json");
    let (code, stderr) = send_to(
        &sb,
        SendInput::File(&file),
        &["--allow-recent", "--report", report.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(sb.totals().events, 1);
    assert!(
        stderr.contains("warning: 1 event is within the last 72 hours"),
        "{stderr}"
    );
    let report: Value = serde_json::from_str(&fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(
        report["safety"]["campaign_risk"]["recent_events"], 1,
        "{report:#}"
    );
}

#[test]
fn send_from_stdin_needs_allow_recent() {
    let line = format!(
        "{}\n",
        track("u1", "Old", Some(json!(iso(now() - 30 * DAY))))
    );
    let sb = common::sandbox(SandboxConfig::default());
    let (code, stderr) = send_to(&sb, SendInput::Stdin(&line), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("standard input"), "{stderr}");
    assert!(nothing_arrived(&sb));
    let (code, stderr) = send_to(&sb, SendInput::Stdin(&line), &["--allow-recent"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(sb.totals().events, 1);
}
