//! Every line of the RudderStack corpus comes out of `dry-run` as mapped, skipped or invalid with a
//! reason; the counts add up to 108; nothing panics.

use crate::common::{cio, data, tempdir};

#[test]
fn every_corpus_record_has_an_outcome() {
    let corpus = data("rudder-corpus/events.ndjson");
    let dir = tempdir();
    let summary_path = dir.path().join("summary.json");
    let out = cio()
        .args([
            "dry-run",
            corpus.to_str().unwrap(),
            "--progress",
            "never",
            "--summary-json",
        ])
        .arg(&summary_path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(matches!(out.status.code(), Some(0 | 1)), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let (mut mapped, mut skipped, mut invalid) = (0, 0, 0);
    for (i, line) in stdout.lines().enumerate() {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(
            value["source"]
                .as_str()
                .unwrap()
                .ends_with(&format!("events.ndjson:{}", i + 1)),
            "{line}"
        );
        if value.get("operation").is_some() {
            mapped += 1;
        } else if let Some(reason) = value.get("skipped") {
            assert!(!reason.as_str().unwrap().is_empty(), "{line}");
            skipped += 1;
        } else {
            let reason = value["error"].as_str().expect("mapped, skipped or error");
            assert!(!reason.is_empty(), "{line}");
            invalid += 1;
        }
    }
    assert_eq!(mapped + skipped + invalid, 108);
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&summary_path).unwrap()).unwrap();
    assert_eq!(summary["records"], 108);
    assert_eq!(summary["mapped"], mapped);
    assert_eq!(summary["skipped"], skipped);
    assert_eq!(summary["invalid"], invalid);
}
