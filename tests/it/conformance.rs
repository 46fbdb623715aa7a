//! The conformance suite: every line of `tests/data/conformance/cases.ndjson` (the project's copy
//! of the shared suite) mapped through the
//! library and compared with its `expect` (and `expect_message_id_mode`), as the suite's README
//! ("How a test uses it") describes. A failure lists every failing case id.

use crate::common;

use cio_replay::map::event_id::canonical_json;
use cio_replay::map::{EventIdMode, MappingConfig, Outcome, Routes, map_event};
use cio_replay::source::parse_event;
use cio_replay::track::Mode;
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

#[derive(Deserialize)]
struct Case {
    id: String,
    convert_timestamps: bool,
    /// The event exactly as the line spells it, for the one input parser.
    event: Box<RawValue>,
    expect: Value,
    #[serde(default)]
    expect_message_id_mode: Option<Value>,
    /// Test vectors whose id is derived from the record: the canonical JSON that seeds it.
    #[serde(default)]
    canonical_json: Option<String>,
}

/// Compare one outcome with an `expect` object; `Err` describes the difference.
fn compare(outcome: &Outcome, expect: &Value) -> Result<(), String> {
    let want_action = expect.get("action").and_then(Value::as_str);
    if let Some(op) = expect.get("operation") {
        let Outcome::Mapped(got) = outcome else {
            return Err(format!("expected mapped, got {outcome:?}"));
        };
        if Some(got.action.name()) != want_action {
            return Err(format!("action {} != {want_action:?}", got.action));
        }
        let endpoint = got.action.endpoint(Mode::Sequential).label();
        if Some(endpoint) != expect.get("endpoint").and_then(Value::as_str) {
            return Err(format!("endpoint {endpoint} != {}", expect["endpoint"]));
        }
        if &got.body != op {
            return Err(format!(
                "operation differs:\n   got  {}\n   want {}",
                got.body, op
            ));
        }
        return Ok(());
    }
    if expect.get("skipped").is_some() {
        return match outcome {
            Outcome::Skipped { action, .. } if action.map(|a| a.name()) == want_action => Ok(()),
            other => Err(format!("expected skipped {want_action:?}, got {other:?}")),
        };
    }
    if expect.get("error").is_some() {
        return match outcome {
            Outcome::Invalid(inv) if inv.action.map(|a| a.name()) == want_action => {
                if inv.message.is_empty() {
                    Err("invalid with an empty message".to_owned())
                } else {
                    Ok(())
                }
            }
            other => Err(format!("expected error {want_action:?}, got {other:?}")),
        };
    }
    Err(format!("unknown expect shape {expect}"))
}

#[test]
fn json_object_equality_ignores_key_order() {
    // serde_json is built with preserve_order; the comparison above relies on Map equality not
    // depending on key order, while values and types still count.
    let a: Value = serde_json::from_str(r#"{"a":1,"b":{"c":2,"d":3}}"#).unwrap();
    let b: Value = serde_json::from_str(r#"{"b":{"d":3,"c":2},"a":1}"#).unwrap();
    let c: Value = serde_json::from_str(r#"{"b":{"d":3,"c":2},"a":"1"}"#).unwrap();
    let d: Value = serde_json::from_str(r#"{"b":{"d":3,"c":2},"a":1.0}"#).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_ne!(a, d);
}

#[test]
fn every_conformance_case_matches() {
    let path = common::data("conformance/cases.ndjson");
    let text = std::fs::read_to_string(&path).expect("read cases.ndjson");
    let mut failures = Vec::new();
    let mut lines = 0;
    let mut message_id_checks = 0;
    let mut canonical_checks = 0;
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        lines += 1;
        let case: Case = match serde_json::from_str(line) {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("line {}: unreadable case: {e}", n + 1));
                continue;
            }
        };
        let event = match parse_event(case.event.get()) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!(
                    "{}: the input parser rejected the event: {e}",
                    case.id
                ));
                continue;
            }
        };
        if let Some(want) = &case.canonical_json {
            canonical_checks += 1;
            let got = canonical_json(&event);
            if &got != want {
                failures.push(format!(
                    "{}: canonical JSON differs:\n   got  {got}\n   want {want}",
                    case.id
                ));
            }
        }
        let ulid = MappingConfig::new(
            case.convert_timestamps,
            EventIdMode::Ulid,
            Routes::default(),
        );
        if let Err(diff) = compare(&map_event(&event, &ulid), &case.expect) {
            failures.push(format!("{} (ulid mode): {diff}", case.id));
        }
        if let Some(expect) = &case.expect_message_id_mode {
            message_id_checks += 1;
            let config = MappingConfig::new(
                case.convert_timestamps,
                EventIdMode::MessageId,
                Routes::default(),
            );
            if let Err(diff) = compare(&map_event(&event, &config), expect) {
                failures.push(format!("{} (message-id mode): {diff}", case.id));
            }
        }
    }
    assert_eq!(lines, 259, "cases.ndjson should hold 259 cases");
    // README: 58 Segment lines and 13 test vectors carry expect_message_id_mode.
    assert_eq!(message_id_checks, 71, "expect_message_id_mode lines");
    assert_eq!(canonical_checks, 10, "canonical_json lines");
    assert!(
        failures.is_empty(),
        "{} of {lines} conformance checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
