use serde_json::json;

use super::{CompileError, Transform, TransformError, preset};

fn run(program: &str, event: serde_json::Value) -> Result<Vec<serde_json::Value>, TransformError> {
    Transform::compile(program, "--transform")
        .unwrap()
        .run(event)
}

#[test]
fn zero_one_or_several_results() {
    assert_eq!(
        run("empty", json!({"a": 1})).unwrap(),
        Vec::<serde_json::Value>::new()
    );
    assert_eq!(run(".", json!({"a": 1})).unwrap(), vec![json!({"a": 1})]);
    assert_eq!(
        run(".a[] | {type: \"track\", n: .}", json!({"a": [1, 2]})).unwrap(),
        vec![
            json!({"type": "track", "n": 1}),
            json!({"type": "track", "n": 2})
        ]
    );
}

#[test]
fn values_round_trip_exactly() {
    let event = json!({"s": "é\n", "i": -9007199254740993i64, "u": 18446744073709551615u64,
        "f": 0.1, "b": true, "n": null, "a": [1, [2, {}]], "o": {"z": 1, "a": 2}});
    let out = run(".", event.clone()).unwrap();
    assert_eq!(out, vec![event.clone()]);
    // Member order kept.
    assert_eq!(out[0].to_string(), event.to_string());
}

#[test]
fn errors_and_non_objects_are_reported() {
    let e = run(".a + 1", json!({"a": "x"})).unwrap_err();
    assert!(matches!(e, TransformError::Jq(_)), "{e}");
    assert!(e.to_string().starts_with("the transform failed: "), "{e}");
    let e = run(".a", json!({"a": 3})).unwrap_err();
    assert_eq!(e, TransformError::NotAnObject { found: "a number" });
    let e = run("range(70000) | {}", json!({})).unwrap_err();
    assert_eq!(e, TransformError::TooMany);
}

#[test]
fn compile_errors_say_where() {
    let e: CompileError = Transform::compile("{a: .b,\n  c: (.d | }", "--transform").unwrap_err();
    assert_eq!(e.line, 2, "{e}");
    assert!(e.to_string().starts_with("--transform: "), "{e}");
    let e = Transform::compile(".a | nosuchfilter", "t.jq").unwrap_err();
    assert!(e.message.contains("undefined filter `nosuchfilter`"), "{e}");
    assert_eq!((e.line, e.column), (1, 6), "{e}");
    // The environment (where the API key is) is out of reach.
    let e = Transform::compile("env", "--transform").unwrap_err();
    assert!(e.message.contains("not available in transforms"), "{e}");
    assert!(Transform::compile("$ENV", "--transform").is_err());
    // halt ends the record, not the run.
    let e = run("halt_error", json!({})).unwrap_err();
    assert!(e.to_string().contains("halt"), "{e}");
}

#[test]
fn presets_compile_and_reshape_their_exports() {
    for p in preset::PRESETS {
        Transform::compile(p.text, p.name).unwrap();
    }
    let mixpanel = Transform::compile(preset::find("mixpanel").unwrap().text, "mixpanel").unwrap();
    let out = mixpanel
        .run(json!({"event": "Signed Up", "properties": {"time": 1700000000, "distinct_id": "$device:d1",
            "$insert_id": "i1", "$os": "Mac", "plan": "pro", "mp_processing_time_ms": 3}}))
        .unwrap();
    assert_eq!(out.len(), 1);
    let e = &out[0];
    assert_eq!(e["type"], "track");
    assert_eq!(e["anonymousId"], "d1");
    assert_eq!(e["userId"], serde_json::Value::Null);
    assert_eq!(e["messageId"], "i1");
    assert_eq!(e["timestamp"], 1700000000);
    assert_eq!(e["context"]["os"]["name"], "Mac");
    assert_eq!(e["properties"], json!({"plan": "pro"}));
    let out = mixpanel
        .run(json!({"$distinct_id": "u1", "$properties": {"$email": "a@b.c"}}))
        .unwrap();
    assert_eq!(
        out,
        vec![json!({"type": "identify", "userId": "u1", "traits": {"email": "a@b.c"}})]
    );

    let amplitude =
        Transform::compile(preset::find("amplitude").unwrap().text, "amplitude").unwrap();
    let out = amplitude
        .run(
            json!({"event_type": "Played", "user_id": "u1", "device_id": "d1",
            "event_time": "2024-01-15 10:02:03.123000", "event_properties": {"song": "x"},
            "user_properties": {"plan": "pro"}, "insert_id": "n1"}),
        )
        .unwrap();
    assert_eq!(out.len(), 2);
    assert_eq!(out[0]["type"], "identify");
    assert_eq!(out[0]["traits"], json!({"plan": "pro"}));
    assert_eq!(out[1]["type"], "track");
    assert_eq!(out[1]["timestamp"], "2024-01-15T10:02:03.123000Z");
    assert_eq!(out[1]["properties"], json!({"song": "x"}));
    assert!(preset::find("segment").is_none());
}
