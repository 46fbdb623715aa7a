//! The 1 MiB record limit holds for CSV as it is read (issue 12, defect 8): a record with a huge
//! cell is one invalid record at its `FILE:LINE`, the records around it are read as usual, the
//! counts add up and its dead letter holds only a short prefix of it. For event CSV (dry-run and
//! send) and for GDPR CSV lists (a huge cell in a column that is not the one read). The files are
//! made here, in a temporary directory; the memory bound itself is a test of
//! `input::csv_records` (an endless record is reported after reading about the limit).

use crate::common;

use std::path::Path;

use serde_json::Value;

const MIB: usize = 1024 * 1024;

/// An event CSV of 20 track rows; row `huge_at` (0-based) has a 5 MiB note over two lines.
/// Returns the line the huge record starts on.
fn write_events(path: &Path, huge_at: usize) -> u64 {
    let mut text = String::from("type,userId,event,timestamp,properties.note\n");
    let mut line = 2;
    let mut huge_line = 0;
    for i in 0..20 {
        if i == huge_at {
            huge_line = line;
            let cell = "z".repeat(5 * MIB);
            text.push_str(&format!(
                "track,u{i},Viewed,2023-01-01T00:00:00Z,\"{cell}\nmore\"\n"
            ));
            line += 2;
        } else {
            text.push_str(&format!("track,u{i},Viewed,2023-01-01T00:00:00Z,short\n"));
            line += 1;
        }
    }
    std::fs::write(path, text).expect("input");
    huge_line
}

#[test]
fn an_event_csv_record_with_a_5_mib_cell_is_one_invalid_record_at_its_line() {
    let dir = common::tempdir();
    let path = dir.path().join("events.csv");
    let huge_line = write_events(&path, 7);
    let out = common::cio()
        .args(["dry-run", "--progress", "never"])
        .arg(&path)
        .output()
        .expect("dry-run runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 listing");
    assert!(
        stdout.len() < 64 * 1024,
        "the huge cell reached the listing"
    );
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("listing lines are JSON"))
        .collect();
    assert_eq!(lines.len(), 20, "{stdout}");
    let bad: Vec<&Value> = lines.iter().filter(|l| l.get("error").is_some()).collect();
    assert_eq!(bad.len(), 1, "{stdout}");
    let source = bad[0]["source"].as_str().expect("source");
    assert!(
        source.ends_with(&format!("events.csv:{huge_line}")),
        "{source}"
    );
    let error = bad[0]["error"].as_str().expect("error");
    assert!(
        error.contains("above the 1048576-byte limit for one record"),
        "{error}"
    );
    // The record after it starts two lines later (the cell held a newline).
    let next = lines
        .iter()
        .position(|l| l["source"] == bad[0]["source"])
        .and_then(|i| lines.get(i + 1))
        .expect("a record after it");
    assert!(
        next["source"]
            .as_str()
            .is_some_and(|s| s.ends_with(&format!("events.csv:{}", huge_line + 2))),
        "{next}"
    );
}

#[test]
fn sending_it_maps_the_others_and_dead_letters_a_short_prefix_of_it() {
    let sb = common::send::sandbox("csv-key");
    let dir = common::tempdir();
    let huge_line = write_events(&dir.path().join("events.csv"), 3);
    let out = common::send::send(&sb, dir.path(), "csv-key", &["events.csv"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let report = common::send::report(dir.path());
    assert_eq!(report["accepted"], 19, "{report:#}");
    assert_eq!(report["invalid"], 1, "{report:#}");
    assert_eq!(sb.state()["events"]["total"], 19);
    let dead = std::fs::read_to_string(dir.path().join("dead.ndjson")).expect("dead letters");
    let lines: Vec<Value> = dead
        .lines()
        .map(|l| serde_json::from_str(l).expect("dead letters are JSON"))
        .collect();
    assert_eq!(lines.len(), 1, "{dead}");
    assert_eq!(
        lines[0]["dead_letter"]["source"],
        format!("events.csv:{huge_line}")
    );
    // The first KiB of its cells, then `…`: never the 5 MiB.
    let raw = lines[0]["raw"].as_str().expect("raw text");
    assert!(raw.starts_with("track,u3,Viewed,"), "{raw}");
    assert!(
        raw.ends_with('…') && raw.len() <= 1100,
        "{} bytes",
        raw.len()
    );
    assert!(dead.len() < 4096, "{} bytes of dead letters", dead.len());
}

#[test]
fn a_gdpr_csv_row_with_a_huge_cell_in_an_ignored_column_is_rejected_with_its_line() {
    let dir = common::tempdir();
    let list = dir.path().join("people.csv");
    let huge = "n".repeat(5 * MIB);
    let text = format!("email,note\na@example.org,x\nb@example.org,\"{huge}\"\nc@example.org,y\n");
    std::fs::write(&list, text).expect("list");
    let out = common::cio()
        .args(["gdpr", "delete", "--dry-run", "--progress", "never"])
        .arg(&list)
        .output()
        .expect("gdpr runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Malformed entries make the run partial; the two good people are listed, the huge row not.
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("a@example.org"), "{stdout}");
    assert!(stdout.contains("c@example.org"), "{stdout}");
    assert!(!stdout.contains("b@example.org"), "{stdout}");
    let all = format!("{stdout}{stderr}");
    assert!(all.contains("people.csv:3"), "{all}");
    assert!(all.contains("above the 1048576-byte limit"), "{all}");
    assert!(all.len() < 64 * 1024, "the huge cell was printed");
}
