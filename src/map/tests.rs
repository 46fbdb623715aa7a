//! Unit tests of whole-record behaviour the conformance cases do not reach: the §4/§7a fallbacks,
//! type checks, switched-off actions, and the deliberate differences D6–D9.

use serde_json::{Value, json};

use super::*;

fn run(v: Value) -> Outcome {
    map_event(&v, &MappingConfig::default())
}

fn body(v: Value) -> Value {
    match run(v.clone()) {
        Outcome::Mapped(op) => op.body,
        other => panic!("{v}: expected mapped, got {other:?}"),
    }
}

fn invalid(v: Value) -> Invalid {
    match run(v.clone()) {
        Outcome::Invalid(i) => i,
        other => panic!("{v}: expected invalid, got {other:?}"),
    }
}

#[test]
fn device_fallbacks() {
    let b = body(
        json!({"type": "track", "event": "Application Installed", "userId": "u",
        "properties": {"device_id": "tok", "platform": "iOS", "email": "e@x.io", "token": "t2", "k": 1}}),
    );
    assert_eq!(
        b,
        json!({"type": "person", "action": "add_device", "identifiers": {"id": "u"},
               "device": {"token": "tok", "platform": "ios", "attributes": {"k": 1}}})
    );
    let b = body(json!({"type": "track", "event": "Device Deleted",
        "properties": {"token": 42, "email": "e@x.io"}}));
    assert_eq!(b["device"], json!({"token": "42"}));
    assert_eq!(b["identifiers"], json!({"email": "e@x.io"}));
    let i = invalid(
        json!({"type": "track", "event": "Application Opened", "userId": "u",
        "context": {"device": {"token": "t", "type": "web"}}}),
    );
    assert_eq!(i.field.as_deref(), Some("context.device.type"));
    assert!(i.message.contains("ios or android"));
    let i = invalid(
        json!({"type": "track", "event": "Application Opened", "userId": "u",
        "context": {"device": {"type": "ios"}}}),
    );
    assert!(
        i.message.contains("context.device.token") && i.message.contains("properties.device_id")
    );
}

#[test]
fn email_fallbacks_and_precedence() {
    let b = body(
        json!({"type": "track", "event": "User Deleted", "userId": "u1",
        "properties": {"email": "a@b.co"}}),
    );
    assert_eq!(b["identifiers"], json!({"id": "u1"}));
    let b = body(
        json!({"type": "track", "event": "User Suppressed", "email": "top@b.co",
        "properties": {"email": "bad"}}),
    );
    assert_eq!(b["identifiers"], json!({"email": "top@b.co"}));
    let i = invalid(json!({"type": "track", "event": "User Unsuppressed",
        "properties": {"email": "no at sign"}}));
    assert_eq!(i.field.as_deref(), Some("properties.email"));
    // Group: traits.email belongs to the object.
    let b = body(json!({"type": "group", "groupId": "g", "traits": {"email": "o@b.co"}}));
    assert_eq!(b["action"], "identify");
    assert!(b.get("cio_relationships").is_none());
    assert_eq!(b["attributes"], json!({"email": "o@b.co"}));
}

#[test]
fn id_types_are_checked_where_read() {
    let i = invalid(json!({"type": "track", "event": "E", "userId": true}));
    assert_eq!(i.field.as_deref(), Some("userId"));
    assert_eq!(i.action, Some(Action::TrackEvent));
    let i = invalid(json!({"type": "track", "event": "E", "userId": "u", "anonymousId": {"a": 1}}));
    assert_eq!(i.field.as_deref(), Some("anonymousId"));
    let i = invalid(
        json!({"type": "page", "userId": "u", "messageId": [1], "properties": {"url": "x"}}),
    );
    assert_eq!(i.field.as_deref(), Some("messageId"));
    // delete-person does not read anonymousId or traits.
    body(
        json!({"type": "track", "event": "User Deleted", "userId": "u", "anonymousId": false, "traits": 3}),
    );
    let i = invalid(json!({"type": "track", "event": "E", "userId": "u", "context": "x"}));
    assert_eq!(i.field.as_deref(), Some("context"));
    let i = invalid(json!({"type": "alias", "userId": "u"}));
    assert_eq!(i.field.as_deref(), Some("previousId"));
    let i = invalid(json!({"type": "group", "userId": "u"}));
    assert_eq!(i.field.as_deref(), Some("groupId"));
}

#[test]
fn created_at_rules() {
    // D9: numbers are Unix seconds (milliseconds above 10^11), sent as integers.
    let b =
        body(json!({"type": "identify", "userId": "u", "traits": {"createdAt": 1714566896789u64}}));
    assert_eq!(b["attributes"], json!({"created_at": 1714566896}));
    let b = body(json!({"type": "identify", "userId": "u", "traits": {"created_at": true}}));
    assert_eq!(b["attributes"], json!({"created_at": true}));
    // D6: group created_at goes into the attributes; objectAttributes.created_at wins.
    let b = body(
        json!({"type": "group", "groupId": "g", "traits": {"created_at": 5,
        "objectAttributes": {"created_at": "2024-05-01", "objectTypeId": "x", "k": "v"}}}),
    );
    assert_eq!(b["attributes"], json!({"created_at": 1714521600, "k": "v"}));
    assert_eq!(
        b["identifiers"],
        json!({"object_id": "g", "object_type_id": "1"})
    );
    let b = body(json!({"type": "group", "groupId": 7, "traits": {"object_type_id": 3}}));
    assert_eq!(
        b["identifiers"],
        json!({"object_id": "7", "object_type_id": "3"})
    );
}

#[test]
fn timestamps_on_actions_that_send_none_are_ignored() {
    for v in [
        json!({"type": "group", "groupId": "g", "timestamp": "garbage"}),
        json!({"type": "alias", "userId": "a", "previousId": "b", "timestamp": "garbage"}),
        json!({"type": "track", "event": "User Deleted", "userId": "u", "timestamp": "garbage"}),
        json!({"type": "track", "event": "Object Deleted", "properties": {"objectId": "o"}, "timestamp": []}),
    ] {
        body(v);
    }
    let i = invalid(json!({"type": "identify", "userId": "u", "timestamp": "garbage"}));
    assert_eq!(i.field.as_deref(), Some("timestamp"));
}

#[test]
fn anonymous_identify_is_skipped_whatever_it_carries() {
    for v in [
        json!({"type": "identify", "anonymousId": "a", "traits": [1, 2]}),
        json!({"type": "identify", "anonymousId": {"x": 1}, "timestamp": "garbage"}),
        json!({"type": "identify", "userId": "", "traits": {"email": ""}}),
    ] {
        assert!(matches!(run(v.clone()), Outcome::Skipped { .. }), "{v}");
    }
    let i = invalid(json!({"type": "identify", "userId": false}));
    assert_eq!(i.field.as_deref(), Some("userId"));
}

#[test]
fn delivery_metric_without_timestamp_has_none() {
    // D7: no "now" in the body.
    let b = body(json!({"type": "track", "event": "Report Delivery Event",
        "properties": {"deliveryId": 12, "metric": "opened", "recipient": ""}}));
    assert_eq!(b, json!({"delivery_id": "12", "metric": "opened"}));
}

#[test]
fn switched_off_actions_are_skipped() {
    let routes = Routes::from_toml_str("[actions.track-event]\nenabled = false\n")
        .unwrap()
        .with_source("mine.toml");
    let config = MappingConfig::new(true, EventIdMode::Ulid, routes);
    match map_event(
        &json!({"type": "track", "event": "E", "userId": "u"}),
        &config,
    ) {
        Outcome::Skipped { action, reason } => {
            assert_eq!(action, Some(Action::TrackEvent));
            assert!(
                reason.contains("track-event") && reason.contains("mine.toml"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    // Other actions still map.
    assert!(matches!(
        map_event(
            &json!({"type": "track", "event": "User Deleted", "userId": "u"}),
            &config
        ),
        Outcome::Mapped(_)
    ));
}

#[test]
fn event_id_modes() {
    let ev = json!({"type": "track", "event": "E", "userId": "u", "messageId": "m-1",
        "timestamp": 1714566896});
    let id = |mode| match map_event(&ev, &MappingConfig::new(true, mode, Routes::default())) {
        Outcome::Mapped(op) => op.body.get("id").cloned(),
        other => panic!("{other:?}"),
    };
    assert_eq!(id(EventIdMode::MessageId), Some(json!("m-1")));
    assert_eq!(id(EventIdMode::None), None);
    let ulid = id(EventIdMode::Ulid).unwrap();
    assert!(event_id::is_ulid(ulid.as_str().unwrap()));
    // Deterministic: the same record gives the same id.
    assert_eq!(id(EventIdMode::Ulid).unwrap(), ulid);
}

#[test]
fn never_panics_on_odd_values() {
    let odd = [
        json!(null),
        json!(1),
        json!("s"),
        json!([]),
        json!(true),
        json!({"a": [1, {"b": null}]}),
        json!(-1.5e300),
        json!("2024-05-01T12:34:56Z"),
    ];
    let keys = [
        "type",
        "event",
        "userId",
        "anonymousId",
        "previousId",
        "groupId",
        "messageId",
        "timestamp",
        "traits",
        "properties",
        "context",
        "name",
        "email",
    ];
    let types = ["identify", "track", "page", "screen", "group", "alias"];
    let events = [
        "E",
        "Application Installed",
        "Device Deleted",
        "Relationship Deleted",
        "Object Deleted",
        "Report Delivery Event",
        "Report Content Event",
        "User Deleted",
    ];
    for ty in types {
        for name in events {
            for key in keys {
                for v in &odd {
                    let mut ev = json!({"type": ty, "event": name, "userId": "u", "groupId": "g",
                        "previousId": "p", "properties": {"url": "x", "objectId": "o",
                        "deliveryId": "d", "metric": "opened", "actionType": "viewed_content"}});
                    ev[key] = v.clone();
                    let _ = run(ev.clone());
                    ev[key] = json!(null);
                    ev["properties"] = json!({"url": "x", "objectId": "o", key: v.clone()});
                    ev["context"] = json!({"device": {key: v.clone()}, "traits": {key: v.clone()}});
                    ev["traits"] = json!({key: v.clone(), "objectAttributes": v.clone()});
                    let _ = run(ev);
                }
            }
        }
    }
}
