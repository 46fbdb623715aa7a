//! jq transforms and presets (issue 14): records reshaped before mapping in validate, dry-run and
//! send; zero, one or several records from one; errors located; the transform in the checkpoint;
//! dead letters keep the record as read; a killed transformed send resumes with nothing lost.

use crate::common;

use std::time::{Duration, Instant};

use serde_json::{Value, json};

const KEY: &str = "key-t";

/// The dry-run listing of `args` (exit 0), one JSON value a line.
fn listing(args: &[&str]) -> Vec<Value> {
    common::dry_run_listing(&common::crate_path(""), args)
}

#[test]
fn the_mixpanel_preset_maps_events_identifies_and_profiles() {
    let lines = listing(&[&common::export("mixpanel.ndjson"), "--preset", "mixpanel"]);
    assert_eq!(lines.len(), 4, "{lines:?}");
    let op = |i: usize| &lines[i]["operation"];
    assert_eq!(lines[0]["action"], "track-event");
    assert_eq!(op(0)["identifiers"], json!({"id": "user-1"}));
    assert_eq!(op(0)["timestamp"], 1700000000);
    // Mixpanel's bookkeeping is dropped; other properties stay.
    assert_eq!(op(0)["attributes"]["plan"], "pro");
    assert!(op(0)["attributes"].get("mp_processing_time_ms").is_none());
    // A "$device:" distinct id is an anonymous id; milliseconds are read as such.
    assert_eq!(op(1)["identifiers"], json!({"anonymous_id": "dev-2"}));
    assert_eq!(op(1)["timestamp"], 1700000060);
    assert_eq!(lines[2]["action"], "create-update-person");
    assert_eq!(op(2)["identifiers"], json!({"id": "user-2"}));
    // A profile of the engage export: an identify with its $-names unprefixed.
    assert_eq!(op(3)["attributes"]["email"], "ada@example.com");
}

#[test]
fn the_amplitude_preset_makes_two_records_of_an_event_with_user_properties() {
    let lines = listing(&[&common::export("amplitude.ndjson"), "--preset", "amplitude"]);
    let sources: Vec<&str> = lines
        .iter()
        .map(|l| l["source"].as_str().unwrap_or(""))
        .collect();
    let file = common::export("amplitude.ndjson");
    assert_eq!(
        sources,
        [
            format!("{file}:1#1"),
            format!("{file}:1#2"),
            format!("{file}:2"),
            format!("{file}:3")
        ]
    );
    assert_eq!(lines[0]["action"], "create-update-person");
    assert_eq!(lines[0]["operation"]["attributes"]["plan"], "pro");
    assert_eq!(lines[1]["action"], "track-event");
    assert_eq!(lines[1]["operation"]["name"], "Played Song");
    // event_time is UTC without a zone: read as UTC, 2024-01-15T10:02:03Z.
    assert_eq!(lines[1]["operation"]["timestamp"], 1705312923);
    assert_eq!(
        lines[3]["operation"]["attributes"]["email"],
        "grace@example.com"
    );
}

#[test]
fn a_warehouse_csv_is_reshaped_by_a_transform_file_and_refused_with_a_hint_without_one() {
    let lines = listing(&[
        &common::export("warehouse.csv"),
        "--transform-file",
        &common::export("warehouse.jq"),
    ]);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["operation"]["name"], "Order Completed");
    assert_eq!(lines[0]["operation"]["attributes"]["total"], 42.5);
    let out = common::cio()
        .args(["validate", &common::export("warehouse.csv")])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(
            "none of its fields (user_id, event_name, occurred_at, props_json) is a Segment field"
        ) && stdout.contains("--transform"),
        "{stdout}"
    );
    // An export the tool knows is named.
    let dir = common::tempdir();
    let path = dir.path().join("amp.ndjson");
    std::fs::write(&path, "{\"event_type\":\"x\",\"user_id\":\"u\"}\n").expect("write");
    let out = common::cio()
        .arg("validate")
        .arg(&path)
        .output()
        .expect("runs");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("add --preset amplitude"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn no_record_is_skipped_a_jq_error_is_invalid_and_located() {
    let dir = common::tempdir();
    let path = dir.path().join("in.ndjson");
    std::fs::write(
        &path,
        "{\"keep\":false}\n{\"keep\":true,\"u\":\"a\"}\n{\"keep\":\"x\",\"u\":1}\n",
    )
    .expect("write");
    let program = r#"if .keep == false then empty elif .keep == true then {type: "identify", userId: .u} else error("bad keep: \(.keep)") end"#;
    let out = common::cio()
        .args(["validate", "--transform", program])
        .arg(&path)
        .output()
        .expect("runs");
    let stdout = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let file = path.display();
    assert!(
        stdout.contains(&format!(
            "{file}:1: skipped: the transform produced no record"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{file}:3: the transform failed: bad keep: x")),
        "{stdout}"
    );
    assert!(
        stdout.contains("3 records read: 1 mapped, 1 skipped, 1 invalid"),
        "{stdout}"
    );
}

#[test]
fn a_program_that_does_not_compile_is_a_usage_error_that_says_where() {
    let dry_run = |program: &str| {
        common::cio()
            .args(["dry-run", "--transform", program])
            .arg(common::export("mixpanel.ndjson"))
            .output()
            .expect("runs")
    };
    let out = dry_run("{type: \"track\",\n event: (.e | }");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--transform: ") && stderr.contains("at line 2, column"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
    // The environment, where the API key is, is out of reach.
    let out = dry_run("{type: \"identify\", userId: env.CIO_API_KEY}");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not available in transforms"));
}

#[test]
fn print_transform_prints_the_preset_and_an_unknown_preset_lists_the_known_ones() {
    let out = common::cio()
        .args(["dry-run", "--preset", "mixpanel", "--print-transform"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let shipped = std::fs::read_to_string(common::crate_path("src/transform/presets/mixpanel.jq"))
        .expect("preset file");
    assert_eq!(String::from_utf8_lossy(&out.stdout), shipped);
    // The printed program, used as a file, gives the same records as the preset.
    let dir = common::tempdir();
    let copy = dir.path().join("mine.jq");
    std::fs::write(&copy, &out.stdout).expect("write");
    let input = common::export("mixpanel.ndjson");
    assert_eq!(
        listing(&[&input, "--transform-file", &copy.display().to_string()]),
        listing(&[&input, "--preset", "mixpanel"])
    );
    let out = common::cio()
        .args(["dry-run", "--preset", "segment", "x.ndjson"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("mixpanel") && stderr.contains("amplitude"),
        "{stderr}"
    );
}

/// A send of a transformed input: dead letters hold the record as read (before the transform),
/// and a resume with another transform is refused.
#[test]
fn a_transformed_send_dead_letters_the_record_as_read_and_keeps_its_transform() {
    let sb = common::send::sandbox(KEY);
    let dir = common::tempdir();
    std::fs::write(
        dir.path().join("in.ndjson"),
        "{\"u\":\"a\",\"e\":\"Clicked\"}\n{\"e\":\"No User\"}\n",
    )
    .expect("write");
    let program = r#"{type: "track", userId: .u, event: .e, timestamp: "2023-01-01T00:00:00Z"}"#;
    let out = common::send::send(
        &sb,
        dir.path(),
        KEY,
        &[
            "in.ndjson",
            "--transform",
            program,
            "--checkpoint",
            "cp.json",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(sb.state()["events"]["unique"], 1);
    let dead = std::fs::read_to_string(dir.path().join("dead.ndjson")).expect("dead letters");
    let dead: Value = serde_json::from_str(dead.trim()).expect("one dead letter");
    assert_eq!(dead["event"], json!({"e": "No User"}), "{dead}");
    // Sent again as it is, with the same flags, it meets the same error (not a double transform).
    let out = common::cio()
        .args(["validate", "--transform", program])
        .arg(dir.path().join("dead.ndjson"))
        .output()
        .expect("runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("1 records read: 0 mapped, 0 skipped, 1 invalid"),
        "{said}"
    );
    // The transform is part of the checkpoint's settings.
    let out = common::send::send(
        &sb,
        dir.path(),
        KEY,
        &[
            "in.ndjson",
            "--transform",
            ".",
            "--checkpoint",
            "cp.json",
            "--resume",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("transform"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `kill -9` in the middle of a transformed send (each record making two), then `--resume`:
/// every record made is settled once, nothing lost.
#[test]
fn a_killed_transformed_send_resumes_with_nothing_lost() {
    let sb = common::send::sandbox(KEY);
    let dir = common::tempdir();
    let n = 1500u64;
    let text: String = (0..n)
        .map(|i| {
            format!(
                "{}\n",
                json!({"event_type": "Played", "user_id": format!("u{}", i % 300), "insert_id": format!("ins-{i}"),
                       "event_time": "2023-01-01 00:00:00.000000", "event_properties": {"n": i},
                       "user_properties": {"plan": "pro"}})
            )
        })
        .collect();
    std::fs::write(dir.path().join("in.ndjson"), text).expect("write");
    let args = |resume: bool| {
        let mut args = vec![
            "in.ndjson",
            "--preset",
            "amplitude",
            "--checkpoint",
            "cp.json",
        ];
        args.extend([
            "--batch-size",
            "20",
            "--rate",
            if resume { "1000" } else { "40" },
        ]);
        if resume {
            args.push("--resume");
        }
        args
    };
    let mut child = common::send::spawn(&sb, dir.path(), KEY, &args(false));
    let cp_path = dir.path().join("cp.json");
    let started = Instant::now();
    while sb.state()["operations"]["applied"].as_u64().unwrap_or(0) < 600 || !cp_path.exists() {
        assert!(started.elapsed() < Duration::from_secs(60), "no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    let applied = sb.state()["operations"]["applied"].as_u64().unwrap_or(0);
    assert!(applied < 2 * n, "killed before the end: {applied}");
    let (status, stderr) = common::wait_child(
        common::send::spawn(&sb, dir.path(), KEY, &args(true)),
        Duration::from_secs(120),
    );
    assert_eq!(status.code(), Some(0), "{stderr}");
    let cp: Value =
        serde_json::from_str(&std::fs::read_to_string(&cp_path).expect("cp")).expect("json");
    assert_eq!(cp["finished"], true);
    assert_eq!(cp["counters"]["read"], 2 * n, "{cp}");
    assert_eq!(cp["counters"]["accepted"], 2 * n, "{cp}");
    // Every event once (the de-duplication id comes from insert_id).
    assert_eq!(sb.state()["events"]["unique"], n);
}
