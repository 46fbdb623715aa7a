//! `validate` through the binary: one `FILE:LINE: reason` line per problem, the summary, exit codes.

use crate::common::{cio, crate_path, tempdir};

#[test]
fn valid_input_prints_no_problems() {
    let sample = crate_path("fixtures/sample.ndjson");
    let out = cio()
        .args(["validate", sample.to_str().unwrap(), "--progress", "never"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("0 invalid"));
}

#[test]
fn each_problem_is_one_located_line() {
    let bad = crate_path("fixtures/bad/bad.ndjson");
    let name = bad.to_string_lossy().into_owned();
    let out = cio().args(["validate", &name, "--quiet"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stderr.is_empty(), "--quiet prints no summary");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    let located: Vec<u64> = lines
        .iter()
        .map(|l| {
            let rest = l
                .strip_prefix(&format!("{name}:"))
                .expect("starts with FILE:");
            rest.split(':').next().unwrap().parse().expect("then LINE:")
        })
        .collect();
    assert_eq!(located, [2, 3, 4, 5, 6, 7, 8, 9]);
    assert!(lines[0].contains("malformed JSON"));
    for line in &lines {
        let reason = line.splitn(3, ':').nth(2).unwrap_or("");
        assert!(
            reason.trim().len() > 20,
            "every line gives a reason: {line}"
        );
    }
}

#[test]
fn control_characters_are_not_printed_raw() {
    let dir = tempdir();
    let path = dir.path().join("esc.ndjson");
    std::fs::write(
        &path,
        "{\"type\":\"track\",\"userId\":\"u\",\"event\":\"x\",\"timestamp\":\"\\u001b[31mred\"}\n",
    )
    .unwrap();
    let out = cio()
        .args(["validate", path.to_str().unwrap(), "--quiet"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        !out.stdout.contains(&0x1b),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn summary_json_and_missing_files() {
    let dir = tempdir();
    let summary = dir.path().join("s.json");
    let csv = crate_path("fixtures/sample.csv");
    let out = cio()
        .args(["validate", csv.to_str().unwrap(), "--summary-json"])
        .arg(&summary)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
    assert_eq!(json["records"], 6);

    let missing = dir.path().join("nope.ndjson");
    let out = cio()
        .args(["validate", missing.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.ndjson"));
}

#[test]
fn summary_json_dash_writes_to_standard_output() {
    let out = cio()
        .args(["validate", "--progress", "never", "--summary-json", "-"])
        .arg(crate_path("fixtures/sample.ndjson"))
        .output()
        .expect("runs");
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("the summary JSON on stdout");
    assert!(json["records"].as_u64() > Some(0), "{json}");
}
