//! `dry-run` through the binary: listing shape and order, endpoints per mode, `--output`, the
//! summary and `--summary-json`, a closed pipe, bad flags and bad mapping files.

use crate::common;

use std::io::Read;
use std::process::Stdio;

use crate::common::{cio, crate_path, listing, sample, tempdir};
use serde_json::Value;

#[test]
fn every_sample_record_maps_in_input_order() {
    let out = cio()
        .args(["dry-run", &sample(), "--progress", "never"])
        .output()
        .unwrap();
    let lines = listing(&out.stdout);
    let records = std::fs::read_to_string(sample()).unwrap().lines().count();
    assert_eq!(lines.len(), records);
    for (i, line) in lines.iter().enumerate() {
        let keys: Vec<&str> = line
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            ["source", "action", "endpoint", "operation"],
            "{line}"
        );
        assert_eq!(line["source"], format!("{}:{}", sample(), i + 1));
        let expected = if line["action"] == "report-delivery-event" {
            "POST /api/v1/metrics"
        } else {
            "POST /api/v2/batch"
        };
        assert_eq!(line["endpoint"], expected);
    }
    let actions: std::collections::BTreeSet<&str> =
        lines.iter().filter_map(|l| l["action"].as_str()).collect();
    assert_eq!(
        actions.len(),
        15,
        "the sample covers all 15 actions: {actions:?}"
    );
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{records} records read: {records} mapped, 0 skipped, 0 invalid"
        )),
        "{stderr}"
    );
}

#[test]
fn sequential_mode_reports_the_entity_endpoint() {
    let out = cio()
        .args(["dry-run", &sample(), "--mode", "sequential", "--quiet"])
        .output()
        .unwrap();
    for line in listing(&out.stdout) {
        if line["action"] != "report-delivery-event" {
            assert_eq!(line["endpoint"], "POST /api/v2/entity");
        }
    }
}

#[test]
fn skipped_and_invalid_lines_have_their_shape() {
    let dir = tempdir();
    let path = dir.path().join("mixed.ndjson");
    std::fs::write(
        &path,
        concat!(
            r#"{"type":"identify","anonymousId":"a1","traits":{"plan":"x"}}"#,
            "\n",
            r#"{"type":"track","userId":"u1"}"#,
            "\n",
            r#"{"type":"track","event":"Application Installed","userId":"u1"}"#,
            "\n"
        ),
    )
    .unwrap();
    let out = cio()
        .args(["dry-run", path.to_str().unwrap(), "--quiet"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let lines = listing(&out.stdout);
    assert_eq!(lines[0]["action"], "create-update-person");
    assert!(lines[0]["skipped"].as_str().unwrap().contains("anonymous"));
    assert!(
        lines[1].get("action").is_none(),
        "no event name: not routed"
    );
    assert!(lines[1]["error"].is_string());
    assert!(lines[1].as_object().unwrap().contains_key("field"));
    assert_eq!(
        lines[2]["action"], "create-update-device",
        "routed, then invalid"
    );
    assert!(lines[2]["error"].is_string());

    let strict = cio()
        .args(["dry-run", path.to_str().unwrap(), "--quiet", "--strict"])
        .output()
        .unwrap();
    let lines = listing(&strict.stdout);
    assert!(lines[0]["error"].as_str().unwrap().contains("--strict"));
}

#[test]
fn output_file_and_summary_json_add_up() {
    let dir = tempdir();
    let out_path = dir.path().join("listing.ndjson");
    let summary_path = dir.path().join("summary.json");
    let bad = crate_path("fixtures/bad/bad.ndjson");
    let out = cio()
        .args(["dry-run", &sample(), bad.to_str().unwrap(), "-o"])
        .arg(&out_path)
        .arg("--summary-json")
        .arg(&summary_path)
        // One lane: the batches are then the batch operations in tens (dry-run packs per lane,
        // as `send --concurrency` does).
        .args(["--batch-size", "10", "--rate", "2", "--concurrency", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let lines = listing(&std::fs::read(&out_path).unwrap());
    let summary: Value = serde_json::from_slice(&std::fs::read(&summary_path).unwrap()).unwrap();
    let n = |v: &Value| v.as_u64().unwrap();
    assert_eq!(n(&summary["records"]), lines.len() as u64);
    assert_eq!(
        n(&summary["mapped"]) + n(&summary["skipped"]) + n(&summary["invalid"]),
        n(&summary["records"])
    );
    let per_action: u64 = summary["actions"]
        .as_object()
        .unwrap()
        .values()
        .map(|c| n(&c["mapped"]) + n(&c["skipped"]) + n(&c["invalid"]))
        .sum();
    assert_eq!(
        per_action + n(&summary["invalid_unrouted"]),
        n(&summary["records"])
    );
    let mapped = lines
        .iter()
        .filter(|l| l.get("operation").is_some())
        .count() as u64;
    assert_eq!(n(&summary["mapped"]), mapped);
    let metrics = lines
        .iter()
        .filter(|l| l["endpoint"] == "POST /api/v1/metrics")
        .count() as u64;
    let requests = &summary["requests"];
    assert_eq!(n(&requests["metrics"]), metrics);
    assert_eq!(n(&requests["batch"]), (mapped - metrics).div_ceil(10));
    assert_eq!(n(&requests["total"]), n(&requests["batch"]) + metrics);
    let seconds = summary["estimated_seconds"].as_f64().unwrap();
    assert!((seconds - n(&requests["total"]) as f64 / 2.0).abs() < 1e-9);
}

#[test]
fn a_closed_pipe_is_success() {
    let dir = tempdir();
    let path = dir.path().join("many.ndjson");
    let line = r#"{"type":"track","event":"E","userId":"u1","timestamp":"2023-05-01T00:00:00Z"}"#;
    std::fs::write(&path, format!("{line}\n").repeat(50_000)).unwrap();
    let mut child = common::process()
        .args(["dry-run", path.to_str().unwrap(), "--quiet"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 100];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn bad_flags_and_mapping_files_exit_2() {
    let dir = tempdir();
    let bad_toml = dir.path().join("bad.toml");
    std::fs::write(&bad_toml, "this is = = not toml").unwrap();
    let missing = dir.path().join("missing.toml");
    let cases: Vec<Vec<String>> = vec![
        vec!["--rate".into(), "0".into()],
        vec!["--batch-size".into(), "0".into()],
        vec!["--batch-bytes".into(), "600000".into()],
        vec!["--endpoint".into(), "track.customer.io".into()],
        vec!["--mode".into(), "parallel".into()],
        vec!["--no-such-flag".into()],
        vec!["--mapping".into(), bad_toml.to_string_lossy().into_owned()],
        vec!["--mapping".into(), missing.to_string_lossy().into_owned()],
    ];
    for args in cases {
        let out = cio()
            .arg("dry-run")
            .arg(sample())
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        if args[0] == "--mapping" {
            assert!(
                stderr.contains(&args[1]),
                "the error names the file: {stderr}"
            );
        }
    }
}

/// Many people, each record touching one entity (a person, or a delivery for a metric), with
/// properties of varied sizes, and a few events too big for a 5000-byte batch.
fn one_entity_records() -> String {
    let mut text = String::new();
    for i in 0..600u64 {
        let user = format!("u-{}", (i * 7) % 53);
        let ts = format!("2023-0{}-1{}T10:00:00Z", 1 + i % 9, i % 10);
        let pad = "x".repeat(((i * 37) % 900) as usize);
        let record = match i % 6 {
            0 => serde_json::json!({"type":"identify","userId":user,"timestamp":ts,
                "messageId":format!("m-{i}"),"traits":{"plan":"pro","note":pad}}),
            1 | 2 => serde_json::json!({"type":"track","userId":user,"event":"Clicked",
                "timestamp":ts,"messageId":format!("m-{i}"),"properties":{"n":i,"pad":pad}}),
            3 => serde_json::json!({"type":"page","userId":user,"name":"Home","timestamp":ts,
                "messageId":format!("m-{i}"),"properties":{"url":"https://example.com/","pad":pad}}),
            4 if i % 12 == 4 => serde_json::json!({"type":"track","userId":user,
                "event":"Report Delivery Event","timestamp":ts,"messageId":format!("m-{i}"),
                "properties":{"deliveryId":format!("d-{}", i % 5),"metric":"opened"}}),
            4 => serde_json::json!({"type":"screen","userId":user,"name":"Settings",
                "timestamp":ts,"messageId":format!("m-{i}"),"properties":{"pad":pad}}),
            _ if i % 150 == 5 => serde_json::json!({"type":"track","userId":user,"event":"Big",
                "timestamp":ts,"messageId":format!("m-{i}"),
                "properties":{"blob":"y".repeat(6000)}}),
            _ => serde_json::json!({"type":"track","userId":user,"event":"Viewed",
                "timestamp":ts,"messageId":format!("m-{i}"),"properties":{"i":i}}),
        };
        text.push_str(&record.to_string());
        text.push('\n');
    }
    text
}

/// The `--summary-json` of `dry-run INPUT FLAGS`.
fn estimate(dir: &std::path::Path, input: &str, flags: &[&str]) -> Value {
    let mut args = vec![input, "--quiet"];
    args.extend_from_slice(flags);
    let (code, stderr, summary) = common::dry_run_summary(dir, &args);
    assert_eq!(code, 0, "{flags:?}: {stderr}");
    summary
}

/// `send INPUT FLAGS` to a fresh sandbox: its `--report` and what the sandbox counted.
fn sent(dir: &std::path::Path, input: &str, flags: &[&str]) -> (Value, Value) {
    const KEY: &str = "estimate-key";
    let sb = common::send::sandbox(KEY);
    // A lane sends a batch that is not full only at the end: no timing in the count. (The rate
    // changes how long it takes, not the requests.)
    let mut args = vec![input, "--linger", "600000", "--rate", "0"];
    args.extend_from_slice(flags);
    let out = common::send::send(&sb, dir, KEY, &args);
    let code = out.status.code();
    assert!(matches!(code, Some(0 | 1)), "{flags:?}: {out:?}");
    (common::send::report(dir), sb.state()["requests"].clone())
}

#[test]
fn the_request_estimate_is_what_send_makes_with_the_same_flags() {
    let dir = tempdir();
    let generated = dir.path().join("one-entity.ndjson");
    std::fs::write(&generated, one_entity_records()).unwrap();
    let generated = generated.to_string_lossy().into_owned();
    let sample = sample();
    let cases: &[(&str, &[&str])] = &[
        // One lane: exact for any input (merges and relationship changes included).
        (&sample, &["--concurrency", "1", "--batch-size", "3"]),
        (&sample, &["--concurrency", "1", "--mode", "sequential"]),
        // Four lanes: exact when every operation touches one entity.
        (&generated, &["--concurrency", "4"]),
        (&generated, &["--concurrency", "4", "--batch-size", "7"]),
        (&generated, &["--concurrency", "4", "--batch-bytes", "5000"]),
        (
            &generated,
            &[
                "--concurrency",
                "3",
                "--batch-size",
                "150",
                "--batch-bytes",
                "20000",
            ],
        ),
        (&generated, &["--concurrency", "4", "--mode", "sequential"]),
        (&generated, &["--concurrency", "1", "--batch-size", "7"]),
    ];
    for (input, flags) in cases {
        let estimated = estimate(dir.path(), input, flags);
        let (report, server) = sent(dir.path(), input, flags);
        let what = format!("{flags:?}\nestimate {estimated:#}\nreport {report:#}");
        assert_eq!(report["retries"], 0, "{what}");
        assert_eq!(server["total"], report["requests_sent"], "{what}");
        assert_eq!(
            estimated["requests"]["total"], report["requests_sent"],
            "{what}"
        );
        assert_eq!(estimated["request_bytes"], report["bytes_sent"], "{what}");
        assert_eq!(estimated["oversize"], report["rejected"], "{what}");
        assert_eq!(estimated["mapped"], report["operations"], "{what}");
        // The estimate in send's own report is the same plan.
        assert_eq!(report["requests"], estimated["requests"], "{what}");
    }
    // The lanes matter for this input: one lane would pack it into fewer requests.
    let lanes = |n: &str| estimate(dir.path(), &generated, &["--concurrency", n]);
    let (one, four) = (lanes("1"), lanes("4"));
    assert!(
        one["requests"]["batch"].as_u64() < four["requests"]["batch"].as_u64(),
        "{one:#}\n{four:#}"
    );
    // --batch-bytes 5000 leaves some events too big to send: counted, not sent.
    let small = estimate(dir.path(), &generated, &["--batch-bytes", "5000"]);
    assert_eq!(small["oversize"], 4, "{small:#}");
}

#[test]
fn dry_run_and_send_accept_and_refuse_the_same_batch_and_lane_flags() {
    let first_line = |out: &std::process::Output| {
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        stderr.lines().next().unwrap_or_default().to_owned()
    };
    for (flag, value) in [
        ("--batch-bytes", "999"),
        ("--batch-bytes", "500001"),
        ("--batch-size", "0"),
        ("--concurrency", "0"),
        ("--concurrency", "65"),
    ] {
        let dry = cio()
            .args(["dry-run", &sample(), "--quiet", flag, value])
            .output()
            .unwrap();
        let send = cio()
            .args(["send", &sample(), "--sandbox", "--quiet", flag, value])
            .output()
            .unwrap();
        assert_eq!(dry.status.code(), Some(2), "dry-run {flag} {value}");
        assert_eq!(send.status.code(), Some(2), "send {flag} {value}");
        assert_eq!(first_line(&dry), first_line(&send), "{flag} {value}");
        assert!(first_line(&dry).contains(flag), "{}", first_line(&dry));
    }
    for (flag, value) in [("--batch-bytes", "1000"), ("--batch-bytes", "5000")] {
        let dry = cio()
            .args([
                "dry-run",
                &sample(),
                "--quiet",
                "-o",
                "/dev/null",
                flag,
                value,
            ])
            .output()
            .unwrap();
        assert_ne!(
            dry.status.code(),
            Some(2),
            "dry-run {flag} {value}: {dry:?}"
        );
    }
}
