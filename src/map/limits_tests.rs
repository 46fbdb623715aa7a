//! Unit tests of the local limits (mapping.md §7), through `map_event`.

use serde_json::{Value, json};

use crate::map::{MappingConfig, Outcome, map_event};

fn invalid(v: Value) -> crate::map::Invalid {
    match map_event(&v, &MappingConfig::default()) {
        Outcome::Invalid(i) => i,
        other => panic!("{v}: expected invalid, got {other:?}"),
    }
}

fn mapped(v: Value) {
    match map_event(&v, &MappingConfig::default()) {
        Outcome::Mapped(_) => {}
        other => panic!("{v}: expected mapped, got {other:?}"),
    }
}

#[test]
fn id_length() {
    mapped(json!({"type": "identify", "userId": "u".repeat(150)}));
    let i = invalid(json!({"type": "identify", "userId": "u".repeat(151)}));
    assert_eq!(i.field.as_deref(), Some("userId"));
    assert!(i.message.contains("150-byte"), "{}", i.message);
    let i = invalid(json!({"type": "group", "groupId": "g".repeat(151)}));
    assert_eq!(i.field.as_deref(), Some("groupId"));
    // Emails and anonymous ids are not limited here.
    mapped(json!({"type": "track", "event": "E", "anonymousId": "a".repeat(300)}));
}

#[test]
fn event_name() {
    mapped(json!({"type": "track", "event": "é".repeat(50), "userId": "u"}));
    let i = invalid(json!({"type": "track", "event": "é".repeat(51), "userId": "u"}));
    assert_eq!(i.field.as_deref(), Some("event"));
    assert!(i.message.contains("100-byte"));
    let i = invalid(json!({"type": "track", "event": "  ", "userId": "u"}));
    assert!(i.message.contains("blank"));
    // Page URLs and screen names are not limited.
    mapped(json!({"type": "page", "userId": "u", "properties": {"url": "x".repeat(500)}}));
}

#[test]
fn attribute_names_values_and_count() {
    let long_name = "k".repeat(151);
    let i = invalid(json!({"type": "identify", "userId": "u", "traits": {long_name.clone(): 1}}));
    assert_eq!(i.field, Some(format!("traits.{long_name}")));
    mapped(json!({"type": "identify", "userId": "u", "traits": {"bio": "b".repeat(1000)}}));
    let i =
        invalid(json!({"type": "identify", "userId": "u", "traits": {"bio": "b".repeat(1001)}}));
    assert_eq!(i.field.as_deref(), Some("traits.bio"));
    assert!(i.message.contains("1000-byte"));
    let i = invalid(json!({"type": "identify", "userId": "u",
        "traits": {"nested": {"a": "x".repeat(995)}}}));
    assert_eq!(i.field.as_deref(), Some("traits.nested"));
    let i = invalid(json!({"type": "group", "groupId": "g",
        "traits": {"objectAttributes": {"bio": "b".repeat(1001)}}}));
    assert_eq!(i.field.as_deref(), Some("traits.objectAttributes.bio"));

    let mut traits = serde_json::Map::new();
    for n in 0..300 {
        traits.insert(format!("k{n}"), json!(n));
    }
    mapped(json!({"type": "identify", "userId": "u", "traits": traits.clone()}));
    // The anonymous id is the 301st attribute.
    let i =
        invalid(json!({"type": "identify", "userId": "u", "anonymousId": "a", "traits": traits}));
    assert!(i.message.contains("300"), "{}", i.message);
    // Event attributes have no per-value limit.
    mapped(
        json!({"type": "track", "event": "E", "userId": "u", "properties": {"bio": "b".repeat(5000)}}),
    );
}

#[test]
fn event_attributes_and_operation_size() {
    let big = "b".repeat(20_000);
    let i = invalid(json!({"type": "track", "event": "E", "userId": "u",
        "properties": {"a": big, "b": big, "c": big, "d": big, "e": big, "f": big}}));
    assert_eq!(i.field.as_deref(), Some("properties"));
    assert!(i.message.contains("100000-byte"), "{}", i.message);
    let i = invalid(json!({"type": "track", "event": "E", "userId": "u",
        "properties": {"a": big, "b": big}}));
    assert!(i.message.contains("32000-byte"), "{}", i.message);
    // Delivery metrics are v1 bodies, not v2 operations.
    mapped(json!({"type": "track", "event": "Report Delivery Event",
        "properties": {"deliveryId": "d", "metric": "opened", "reason": big}}));
}

#[test]
fn json_bytes_is_the_length_serde_json_writes() {
    let every_ascii: String = (0u8..=0x7F).map(char::from).collect();
    let values = [
        json!(null),
        json!(true),
        json!(false),
        json!(0),
        json!(-12345),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(0.1),
        json!(1e300),
        json!(-2.5e-8),
        json!(100.0),
        json!(""),
        json!(every_ascii),
        json!("héllo \u{2028} 😀 \u{7f}"),
        json!([]),
        json!({}),
        json!([1, "a", [null, {}], {"k": [true]}]),
        json!({"a\"b": {"\n": [1.5, "x\\y"]}, "": "", "c": {"d": {"e": [[]]}}}),
    ];
    for v in values {
        let written = serde_json::to_vec(&v).unwrap().len();
        assert_eq!(super::json_bytes(&v), written, "{v}");
    }
}

fn any_json() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
    use proptest::prelude::*;
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((any::<String>(), inner), 0..8)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

proptest::proptest! {
    #[test]
    fn json_bytes_matches_serde_json_on_any_value(v in any_json()) {
        let written = serde_json::to_vec(&v).unwrap().len();
        proptest::prop_assert_eq!(super::json_bytes(&v), written);
    }
}
