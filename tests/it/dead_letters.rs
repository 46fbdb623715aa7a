//! Dead letters you can trust (issue 15.7): a line that is not UTF-8 keeps its exact bytes
//! (`raw_base64`), read back it is the same invalid record (never a U+FFFD replacement sent), and
//! a dead letter of a dead letter keeps the first file and line it came from (`first_source`).

use crate::common;

use std::path::Path;

use base64::Engine as _;
use cio_replay::sandbox::Sandbox;
use serde_json::Value;

const KEY: &str = "dead-letter-key";

/// `send FILE` in `dir` against `sb`, its dead letters in `dead`; (exit code, stderr).
fn send(sb: &Sandbox, dir: &Path, file: &str, dead: &str) -> (Option<i32>, String) {
    let out = common::send::command(&sb.url(), dir, KEY)
        .args(["--dead-letter", dead, file])
        .output()
        .expect("runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn lines(path: &Path) -> Vec<Value> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = String::from_utf8(bytes).expect("a dead-letter file is UTF-8");
    assert!(
        !text.contains('\u{fffd}'),
        "no replacement character: {text}"
    );
    common::listing(text.as_bytes())
}

fn track(n: u64) -> String {
    format!(
        r#"{{"type":"track","userId":"u{n}","event":"E","timestamp":"2023-01-01T00:00:0{n}Z","messageId":"m{n}"}}"#
    )
}

/// Before: the line was dead-lettered as `"raw": "...\u{fffd}..."`, and a read-back sent the
/// replacement character as if it were the data.
#[test]
fn a_line_that_is_not_utf8_keeps_its_exact_bytes_and_reads_back_as_the_same_error() {
    let sb = common::send::sandbox(KEY);
    let dir = common::tempdir();
    let bad: &[u8] = b"{\"type\":\"track\",\"userId\":\"u9\",\"event\":\"caf\xe9 \xff\xfe\",\"timestamp\":\"2023-01-01T00:00:09Z\"}";
    let mut input = format!("{}\n", track(1)).into_bytes();
    input.extend_from_slice(bad);
    input.extend_from_slice(format!("\n{}\n", track(2)).as_bytes());
    std::fs::write(dir.path().join("in.ndjson"), &input).expect("input");

    let (code, stderr) = send(&sb, dir.path(), "in.ndjson", "dead.ndjson");
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("in.ndjson:2: not valid UTF-8 at byte 42"),
        "{stderr}"
    );
    assert_eq!(common::operations(&sb), 2, "the two good lines");
    let dead = lines(&dir.path().join("dead.ndjson"));
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0]["dead_letter"]["source"], "in.ndjson:2");
    assert!(dead[0].get("raw").is_none(), "{}", dead[0]);
    let encoded = dead[0]["raw_base64"].as_str().expect("raw_base64");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("base64");
    assert_eq!(decoded, bad, "exactly the bytes of the line");

    // Read back, the dead letter is the same invalid record: the same error, nothing mapped.
    let out = common::cio()
        .current_dir(dir.path())
        .args(["validate", "dead.ndjson"])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("dead.ndjson:1: not valid UTF-8 at byte 42"),
        "{stdout}"
    );
    let requests = common::requests(&sb);
    let (code, stderr) = send(&sb, dir.path(), "dead.ndjson", "dead2.ndjson");
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("0 mapped"), "{stderr}");
    assert_eq!(common::operations(&sb), 2, "nothing sent from it");
    assert_eq!(common::requests(&sb), requests, "no track request");
    let again = lines(&dir.path().join("dead2.ndjson"));
    assert_eq!(again[0]["raw_base64"], encoded, "the same bytes again");
    assert_eq!(again[0]["dead_letter"]["source"], "dead.ndjson:1");
    assert_eq!(again[0]["dead_letter"]["first_source"], "in.ndjson:2");
}

/// Before: a dead letter of a dead letter named only the dead-letter file's line, and the input
/// the record first came from was lost after one round. Now `source` is where it was read this
/// time and `first_source` the first input's `FILE:LINE`, through any number of rounds.
#[test]
fn a_dead_letter_of_a_dead_letter_keeps_the_first_file_and_line() {
    let sb = common::send::sandbox(KEY);
    let dir = common::tempdir();
    let text = format!(
        "{}\n{{\"type\":\"track\",\"userId\":\"u\"}}\n{{oops\n",
        track(1)
    );
    std::fs::write(dir.path().join("in.ndjson"), text).expect("input");
    let mut from = "in.ndjson".to_string();
    for round in 1..=3 {
        let dead = format!("dead{round}.ndjson");
        let (code, stderr) = send(&sb, dir.path(), &from, &dead);
        assert_eq!(code, Some(1), "{stderr}");
        let lines = lines(&dir.path().join(&dead));
        assert_eq!(lines.len(), 2, "{lines:?}");
        let header = |i: usize| &lines[i]["dead_letter"];
        assert!(lines[0].get("event").is_some() && lines[1].get("raw").is_some());
        assert_eq!(lines[1]["raw"], "{oops", "not nested");
        assert_eq!(
            header(0)["source"],
            format!("{from}:{}", if round == 1 { 2 } else { 1 })
        );
        if round == 1 {
            assert!(header(0).get("first_source").is_none(), "{lines:?}");
        } else {
            assert_eq!(header(0)["first_source"], "in.ndjson:2", "{lines:?}");
            assert_eq!(header(1)["first_source"], "in.ndjson:3", "{lines:?}");
        }
        from = dead;
    }
}
