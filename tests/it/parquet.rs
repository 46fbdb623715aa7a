//! Parquet unloads (issue 14, item 7): rows read as objects in validate, dry-run and send, under a
//! transform; folders of part files; files that cannot be read refused before anything is sent; a
//! killed send of a Parquet file resumes with nothing lost; dead letters replay with the same flags.

#[path = "../../benches/support/parquet_unload.rs"]
mod parquet_unload;

use crate::common;

use std::path::Path;
use std::time::{Duration, Instant};

use parquet::basic::Compression;
use serde_json::{Value, json};

const KEY: &str = "key-p";

/// Write `rows` rows of the warehouse `tracks` table to `path`.
fn unload(path: &Path, rows: u64, seed: u64, group_rows: u64) {
    unload_as(
        parquet_unload::Shape::Warehouse,
        path,
        rows,
        seed,
        group_rows,
    );
}

/// Write `rows` rows as `shape` to `path` (zstd pages: the other codecs are in the unit tests).
fn unload_as(shape: parquet_unload::Shape, path: &Path, rows: u64, seed: u64, group_rows: u64) {
    let file = std::fs::File::create(path).expect("create");
    let zstd = Compression::ZSTD(Default::default());
    parquet_unload::write_tracks(file, shape, rows, seed, group_rows, zstd).expect("write");
}

#[test]
fn the_fixture_unload_maps_under_its_transform() {
    let (parquet, jq) = (
        common::export("tracks.parquet"),
        common::export("tracks.jq"),
    );
    let here = common::crate_path("");
    let lines = common::dry_run_listing(&here, &[&parquet, "--transform-file", &jq]);
    assert_eq!(lines.len(), 6);
    for (i, line) in lines.iter().enumerate() {
        let source = line["source"].as_str().expect("source");
        assert!(
            source.ends_with(&format!("tracks.parquet:{}", i + 1)),
            "{source}"
        );
        assert_eq!(line["action"], "track-event");
    }
    let op = &lines[0]["operation"];
    assert_eq!(op["identifiers"], json!({"id": "user-13499"}));
    assert_eq!(op["name"], "Checkout Started");
    // TIMESTAMP_MICROS read as an RFC 3339 time, DECIMAL(18,2) as a number, the list as an array.
    assert_eq!(op["timestamp"], 1711591254);
    assert_eq!(
        op["attributes"],
        json!({"tags": [], "quantity": 6, "revenue": 444.21, "plan": "free"})
    );
    // A row whose user_id is null is left without it: the anonymous id identifies it.
    assert_eq!(
        lines[5]["operation"]["identifiers"],
        json!({"anonymous_id": "anon-144600"})
    );
}

/// Segment-spec columns, `properties` and `context` as groups (or as JSON text in a flat file):
/// mapped as they are, and the same operations as the warehouse table under its transform.
#[test]
fn segment_shaped_rows_map_with_no_transform() {
    let dir = common::tempdir();
    unload_as(
        parquet_unload::Shape::Segment,
        &dir.path().join("events.parquet"),
        50,
        9,
        20,
    );
    unload(&dir.path().join("tracks.parquet"), 50, 9, 20);
    let operations = |args: &[&str]| -> Vec<Value> {
        common::dry_run_listing(dir.path(), args)
            .into_iter()
            .map(|l| l["operation"].clone())
            .collect()
    };
    unload_as(
        parquet_unload::Shape::Flat,
        &dir.path().join("flat.parquet"),
        50,
        9,
        20,
    );
    let segment = operations(&["events.parquet"]);
    // Flat columns with JSON text (read by the column readers): the very same operations.
    assert_eq!(operations(&["flat.parquet"]), segment);
    let warehouse = operations(&[
        "tracks.parquet",
        "--transform-file",
        &common::export("tracks.jq"),
    ]);
    assert_eq!(segment.len(), 50);
    // The transform writes properties in another order, which object equality ignores.
    let same = segment
        .iter()
        .zip(&warehouse)
        .filter(|(a, b)| a == b)
        .count();
    assert_eq!(same, 50, "operations that differ: {}", 50 - same);
    assert!(segment.iter().any(|op| {
        op["attributes"]["tags"]
            .as_array()
            .is_some_and(|t| !t.is_empty())
    }));
}

#[test]
fn rows_without_a_transform_get_a_hint_naming_it() {
    let out = common::cio()
        .args(["validate", &common::export("tracks.parquet")])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let text = format!("{stdout}{stderr}");
    assert!(
        text.contains("tracks.parquet:1: type:")
            && text.contains("look like a Segment warehouse table")
            && text.contains("--transform"),
        "{text}"
    );
}

#[test]
fn a_folder_of_part_files_is_read_in_path_order() {
    let dir = common::tempdir();
    let unloaded = dir.path().join("unload");
    std::fs::create_dir(&unloaded).expect("mkdir");
    unload(&unloaded.join("part-00001.snappy.parquet"), 7, 2, 3);
    unload(&unloaded.join("part-00000.snappy.parquet"), 5, 1, 100);
    std::fs::write(unloaded.join("_SUCCESS"), "").expect("write");
    std::fs::write(unloaded.join(".part-00000.snappy.parquet.crc"), "crc").expect("write");
    let jq = common::export("tracks.jq");
    let sources: Vec<String> =
        common::dry_run_listing(dir.path(), &["unload", "--transform-file", &jq])
            .iter()
            .map(|l| l["source"].as_str().expect("source").to_owned())
            .collect();
    let want: Vec<String> = (1..=5)
        .map(|row| format!("unload/part-00000.snappy.parquet:{row}"))
        .chain((1..=7).map(|row| format!("unload/part-00001.snappy.parquet:{row}")))
        .collect();
    assert_eq!(sources, want);
}

#[test]
fn files_that_cannot_be_read_are_usage_errors() {
    let dir = common::tempdir();
    std::fs::write(dir.path().join("events.parquet"), "{\"type\":\"track\"}\n").expect("write");
    let run = |args: &[&str]| {
        let out = common::cio()
            .current_dir(dir.path())
            .args(args)
            .output()
            .expect("runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stderr) = run(&["dry-run", "events.parquet"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("events.parquet is not a readable Parquet file"),
        "{stderr}"
    );
    let (code, stderr) = run(&["dry-run", "-", "--input-format", "parquet"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("standard input"), "{stderr}");
}

/// A page cut in the middle of the file: `send`'s pre-scan (made to run under `--allow-recent` by
/// the error budget) meets the read error and refuses before sending anything.
#[test]
fn a_corrupt_unload_is_refused_before_anything_is_sent() {
    let sb = common::send::sandbox(KEY);
    let dir = common::tempdir();
    let path = dir.path().join("tracks.parquet");
    unload(&path, 2000, 3, 1000);
    let reader = parquet::file::serialized_reader::SerializedFileReader::try_from(path.as_path())
        .expect("footer");
    let start = parquet::file::reader::FileReader::metadata(&reader)
        .row_group(1)
        .column(3)
        .byte_range()
        .0;
    let mut bytes = std::fs::read(&path).expect("read");
    let start = usize::try_from(start).expect("offset");
    bytes[start..start + 48].fill(0xA5);
    std::fs::write(&path, bytes).expect("write");

    let tracks = common::export("tracks.jq");
    let out = common::send::send(
        &sb,
        dir.path(),
        KEY,
        &[
            "tracks.parquet",
            "--transform-file",
            &tracks,
            "--max-invalid",
            "100%",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("tracks.parquet:1001"), "{stderr}");
    assert_eq!(common::operations(&sb), 0, "nothing sent");
}

/// `kill -9` in the middle of a send of a Parquet unload, then `--resume`: every row settled once;
/// the rows the transform rejects reach the dead-letter file as read, and replay from it with a
/// fixed transform.
#[test]
fn a_killed_parquet_send_resumes_and_its_dead_letters_replay() {
    let sb = common::send::sandbox(KEY);
    let dir = common::tempdir();
    let n = 1200u64;
    unload(&dir.path().join("tracks.parquet"), n, 5, 500);
    // Coupon rows lose their event name, which makes them invalid.
    let strict = r#"{type: "track", messageId: .id, userId: .user_id, anonymousId: .anonymous_id,
        timestamp, event: (if .event == "Coupon Applied" then "" else .event end)}"#;
    std::fs::write(dir.path().join("strict.jq"), strict).expect("write");
    let args = |rate: &'static str, resume: bool| {
        let mut args = vec!["tracks.parquet", "--transform-file", "strict.jq"];
        args.extend(["--checkpoint", "cp.json", "--dead-letter", "dead.ndjson"]);
        args.extend(["--batch-size", "20", "--rate", rate]);
        if resume {
            args.push("--resume");
        }
        args
    };
    let mut child = common::send::spawn(&sb, dir.path(), KEY, &args("40", false));
    let cp_path = dir.path().join("cp.json");
    let started = Instant::now();
    while sb.state()["operations"]["applied"].as_u64().unwrap_or(0) < 300 || !cp_path.exists() {
        assert!(started.elapsed() < Duration::from_secs(60), "no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    let applied = sb.state()["operations"]["applied"].as_u64().unwrap_or(0);
    assert!(applied < n, "killed before the end: {applied}");

    let child = common::send::spawn(&sb, dir.path(), KEY, &args("1000", true));
    let (status, stderr) = common::wait_child(child, Duration::from_secs(120));
    // Some rows were invalid: the run finishes, with exit 1.
    assert_eq!(status.code(), Some(1), "{stderr}");
    let cp: Value =
        serde_json::from_str(&std::fs::read_to_string(&cp_path).expect("cp")).expect("json");
    assert_eq!(cp["finished"], true);
    let counters = &cp["counters"];
    assert_eq!(counters["read"], n, "{cp}");
    let (accepted, invalid) = (
        counters["accepted"].as_u64().expect("accepted"),
        counters["invalid"].as_u64().expect("invalid"),
    );
    assert_eq!(accepted + invalid, n, "{cp}");
    assert!(
        invalid > 100,
        "about a fifth of the rows are coupons: {invalid}"
    );
    assert_eq!(sb.state()["events"]["unique"], accepted);

    // Each dead letter is the row as read (before the transform), located at its row.
    let dead = std::fs::read_to_string(dir.path().join("dead.ndjson")).expect("dead letters");
    let dead: Vec<Value> = dead
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(dead.len() as u64, invalid);
    for letter in &dead {
        assert_eq!(letter["event"]["event"], "Coupon Applied", "{letter}");
        assert!(
            letter["event"]["id"]
                .as_str()
                .is_some_and(|id| id.starts_with("msg-"))
        );
        assert!(
            letter["dead_letter"]["source"]
                .as_str()
                .is_some_and(|s| s.starts_with("tracks.parquet:"))
        );
    }
    // Replayed with the table's own transform, every one of them lands.
    let out = common::send::send(
        &sb,
        dir.path(),
        KEY,
        &[
            "dead.ndjson",
            "--transform-file",
            &common::export("tracks.jq"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(sb.state()["events"]["unique"], n);
}
