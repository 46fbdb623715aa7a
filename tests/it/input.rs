//! Input readers through the binary: NDJSON quirks, CSV typing and locations, gzip, stdin, bad
//! records of every kind (reported with file:line, the run goes on, exit 1) and unreadable inputs
//! (exit 2 before anything is read).

use std::io::Write;

use crate::common::{DryRun, cio, crate_path, dry_run, tempdir, write};
use serde_json::Value;

fn source(line: &Value) -> &str {
    line["source"].as_str().expect("source")
}

const TRACK: &str =
    r#"{"type":"track","event":"Signed Up","userId":"u1","timestamp":"2023-05-01T00:00:00Z"}"#;

#[test]
fn bom_crlf_and_blank_lines_are_tolerated() {
    let dir = tempdir();
    let path = dir.path().join("events.ndjson");
    let text = format!("\u{feff}{TRACK}\r\n\r\n   \n{TRACK}\r\n\n");
    write(&path, text.as_bytes());
    let DryRun { lines, .. } = dry_run(&[path.to_str().unwrap()], None);
    assert_eq!(lines.len(), 2);
    assert!(source(&lines[0]).ends_with("events.ndjson:1"));
    assert!(source(&lines[1]).ends_with("events.ndjson:4"));
    for line in &lines {
        assert!(
            line.get("error")
                .is_none_or(|e| !e.as_str().unwrap_or("").contains("JSON"))
        );
    }
}

#[test]
fn bad_records_are_reported_and_the_run_continues() {
    let path = crate_path("fixtures/bad/bad.ndjson");
    let DryRun { code, lines, .. } = dry_run(&[path.to_str().unwrap()], None);
    assert_eq!(code, 1);
    assert_eq!(lines.len(), 10, "one line per record: {lines:?}");
    for (i, line) in lines.iter().enumerate() {
        assert!(
            source(line).ends_with(&format!("bad.ndjson:{}", i + 1)),
            "{line}"
        );
    }
    let error = |i: usize| lines[i]["error"].as_str().unwrap_or("").to_owned();
    assert!(error(1).contains("malformed JSON"), "{}", error(1));
    assert!(error(2).contains("must be a JSON object, not an array"));
    assert!(error(3).contains("must be a JSON object, not a string"));
    assert!(error(6).contains("not valid UTF-8"), "{}", error(6));
    // Wrong types, no event name, bad timestamp: the mapping's reasons.
    for i in [4, 5, 7, 8] {
        assert!(
            lines[i].get("error").is_some(),
            "record {} must be invalid",
            i + 1
        );
    }
}

#[test]
fn a_huge_line_is_one_invalid_record() {
    let dir = tempdir();
    let path = dir.path().join("huge.ndjson");
    let mut file = std::fs::File::create(&path).unwrap();
    writeln!(file, "{TRACK}").unwrap();
    let blob = "x".repeat(40 * 1024 * 1024);
    writeln!(
        file,
        r#"{{"type":"track","event":"big","userId":"u","properties":{{"b":"{blob}"}}}}"#
    )
    .unwrap();
    writeln!(file, "{TRACK}").unwrap();
    drop(file);
    let DryRun { code, lines, .. } = dry_run(&[path.to_str().unwrap(), "--quiet"], None);
    assert_eq!(code, 1);
    assert_eq!(lines.len(), 3);
    assert!(source(&lines[1]).ends_with("huge.ndjson:2"));
    let error = lines[1]["error"].as_str().unwrap();
    let limit = format!(
        "above the {}-byte limit",
        cio_replay::source::MAX_LINE_BYTES
    );
    assert!(error.contains(&limit), "{error}");
    assert!(source(&lines[2]).ends_with("huge.ndjson:3"));
}

#[test]
fn csv_cells_are_typed_and_located() {
    let path = crate_path("fixtures/sample.csv");
    let DryRun { lines, .. } = dry_run(&[path.to_str().unwrap()], None);
    assert_eq!(lines.len(), 6);
    let lines_at: Vec<&str> = lines
        .iter()
        .map(|l| source(l).rsplit(':').next().unwrap())
        .collect();
    // The fourth record's note cell holds a newline, so the next record starts a line later.
    assert_eq!(lines_at, ["2", "3", "4", "6", "7", "8"]);
}

#[test]
fn ragged_rows_and_bad_cells_are_invalid_records() {
    let path = crate_path("fixtures/bad/ragged.csv");
    let DryRun { code, lines, .. } = dry_run(&[path.to_str().unwrap()], None);
    assert_eq!(code, 1);
    assert_eq!(lines.len(), 5);
    let error = |i: usize| lines[i]["error"].as_str().unwrap_or("").to_owned();
    assert!(
        error(1).contains("row has 3 cells but the header has 4 columns"),
        "{}",
        error(1)
    );
    assert!(error(2).contains("is not a number"), "{}", error(2));
    assert_eq!(lines[2]["field"], "properties.total");
    assert!(error(3).contains("row has 5 cells"), "{}", error(3));
    assert!(source(&lines[4]).ends_with("ragged.csv:6"));
}

#[test]
fn csv_typing_reaches_the_event() {
    let dir = tempdir();
    let path = dir.path().join("t.csv");
    write(
        &path,
        b"\xEF\xBB\xBFtype,userId,event,properties.total:number,properties.gift:bool,properties.tags:json,properties.empty\r\n\
          track,u1,Bought,12.5,TRUE,\"[\"\"a\"\"]\",\r\n",
    );
    let DryRun { lines, .. } = dry_run(&[path.to_str().unwrap(), "--event-id", "none"], None);
    assert_eq!(lines.len(), 1);
    if let Some(op) = lines[0].get("operation") {
        assert_eq!(
            op["attributes"],
            serde_json::json!({"total": 12.5, "gift": true, "tags": ["a"]})
        );
    } else {
        panic!("expected a mapped record: {}", lines[0]);
    }
}

#[test]
fn bad_csv_headers_exit_2_before_reading() {
    let dir = tempdir();
    for (name, header) in [
        ("conflict.csv", "type,traits,traits.email\n"),
        ("suffix.csv", "type,traits.age:integer\n"),
        ("empty.csv", "type,,userId\n"),
    ] {
        let path = dir.path().join(name);
        write(&path, format!("{header}identify,1,2\n").as_bytes());
        let ok = crate_path("fixtures/sample.ndjson");
        let out = cio()
            .args(["dry-run", ok.to_str().unwrap(), path.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(
            out.stdout.is_empty(),
            "nothing is listed before the header check"
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains(name));
    }
}

#[test]
fn gzip_is_read_by_extension() {
    let plain = crate_path("fixtures/sample.ndjson");
    let gz = crate_path("fixtures/sample.ndjson.gz");
    let DryRun { lines: a, .. } = dry_run(&[plain.to_str().unwrap(), "--quiet"], None);
    let DryRun { lines: b, .. } = dry_run(&[gz.to_str().unwrap(), "--quiet"], None);
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.get("operation"), y.get("operation"));
        assert!(source(y).contains("sample.ndjson.gz:"));
    }
}

#[test]
fn a_corrupt_gzip_ends_that_input_only() {
    let dir = tempdir();
    let bytes = std::fs::read(crate_path("fixtures/sample.ndjson.gz")).unwrap();
    let cut = dir.path().join("cut.ndjson.gz");
    write(&cut, &bytes[..bytes.len() / 2]);
    let next = dir.path().join("next.ndjson");
    write(&next, format!("{TRACK}\n").as_bytes());
    let DryRun {
        code,
        lines,
        stderr,
    } = dry_run(&[cut.to_str().unwrap(), next.to_str().unwrap()], None);
    assert_eq!(code, 1, "{stderr}");
    let last_cut = lines
        .iter()
        .rev()
        .find(|l| source(l).contains("cut.ndjson.gz"))
        .unwrap();
    assert!(
        last_cut["error"]
            .as_str()
            .unwrap()
            .contains("the rest of this input was not read")
    );
    assert!(source(lines.last().unwrap()).ends_with("next.ndjson:1"));
}

#[test]
fn stdin_is_read_with_dash_or_no_file() {
    let input = format!("{TRACK}\n{TRACK}\n").into_bytes();
    let DryRun { lines, .. } = dry_run(&[], Some(input.clone()));
    assert_eq!(lines.len(), 2);
    assert_eq!(source(&lines[1]), "-:2");
    let csv = b"type,userId,event\ntrack,u1,Go\n".to_vec();
    let DryRun { lines, .. } = dry_run(&["-", "--input-format", "csv"], Some(csv));
    assert_eq!(lines.len(), 1);
    assert_eq!(source(&lines[0]), "-:2");
}

#[test]
fn unreadable_inputs_exit_2_before_anything_is_read() {
    let dir = tempdir();
    let ok = crate_path("fixtures/sample.ndjson");
    let missing = dir.path().join("missing.ndjson");
    let unknown = dir.path().join("events.txt");
    write(&unknown, b"{}\n");
    for bad in [missing.as_path(), dir.path(), unknown.as_path()] {
        let out = cio()
            .args(["dry-run", ok.to_str().unwrap(), bad.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", bad.display());
        assert!(out.stdout.is_empty());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&*bad.to_string_lossy()), "{stderr}");
    }
}

#[test]
fn dead_letter_lines_are_read_back_as_their_event() {
    let dir = tempdir();
    let path = dir.path().join("rejected.ndjson");
    let line = format!(
        r#"{{"dead_letter":{{"source":"a.ndjson:3","status":400,"reason":"x"}},"event":{TRACK}}}"#
    );
    write(&path, format!("{line}\n{TRACK}\n").as_bytes());
    let DryRun { lines, .. } = dry_run(&[path.to_str().unwrap(), "--event-id", "none"], None);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].get("operation"), lines[1].get("operation"));
}
