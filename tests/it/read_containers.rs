//! Which containers (`traits`, `properties`, `context`) each action reads (mapping.md §7a): a
//! container the action reads must be an object when present; one it does not read never makes a
//! record invalid, whatever its shape.

use cio_replay::map::{EventIdMode, MappingConfig, Outcome, Routes, map_event};
use serde_json::{Value, json};

/// A valid record of each action (seed triggers), and the containers the action reads.
fn cases() -> Vec<(&'static str, Value, &'static [&'static str])> {
    let track = |event: &str, properties: Value| {
        json!({"type":"track","userId":"u1","event":event,"properties":properties,
               "timestamp":"2023-01-01T00:00:00Z","messageId":"m1"})
    };
    let device = json!({"device_id":"tok-1","platform":"ios"});
    vec![
        (
            "create-update-person",
            json!({"type":"identify","userId":"u1","traits":{"name":"A"},"timestamp":"2023-01-01T00:00:00Z"}),
            READS_IDENTIFY,
        ),
        ("track-event", track("Clicked", json!({"a":1})), READS_TRACK),
        (
            "track-page-view",
            json!({"type":"page","userId":"u1","name":"Home","properties":{"url":"https://x.test/"},"timestamp":"2023-01-01T00:00:00Z","messageId":"m1"}),
            READS_TRACK,
        ),
        (
            "track-screen-view",
            json!({"type":"screen","userId":"u1","name":"Home","properties":{"a":1},"timestamp":"2023-01-01T00:00:00Z","messageId":"m1"}),
            READS_TRACK,
        ),
        (
            "create-update-object",
            json!({"type":"group","userId":"u1","groupId":"g1","traits":{"objectAttributes":{"n":1}}}),
            READS_GROUP,
        ),
        (
            "create-update-device",
            track("Application Installed", device.clone()),
            READS_DEVICE,
        ),
        (
            "delete-device",
            track("Device Deleted", device),
            READS_DEVICE,
        ),
        (
            "delete-relationship",
            track("Relationship Deleted", json!({"objectId":"o1"})),
            READS_PERSON,
        ),
        (
            "delete-person",
            track("User Deleted", json!({})),
            READS_PERSON,
        ),
        (
            "delete-object",
            track("Object Deleted", json!({"objectId":"o1"})),
            READS_PROPERTIES,
        ),
        (
            "suppress-person",
            track("User Suppressed", json!({})),
            READS_PERSON,
        ),
        (
            "unsuppress-person",
            track("User Unsuppressed", json!({})),
            READS_PERSON,
        ),
        (
            "merge-people",
            json!({"type":"alias","userId":"u1","previousId":"u0"}),
            READS_MERGE,
        ),
        (
            "report-delivery-event",
            track(
                "Report Delivery Event",
                json!({"deliveryId":"d1","metric":"opened"}),
            ),
            READS_PROPERTIES,
        ),
        (
            "report-content-event",
            json!({"type":"track","anonymousId":"a1","event":"Report Content Event","properties":{"actionType":"viewed_content","contentId":"c1"},"timestamp":"2023-01-01T00:00:00Z"}),
            READS_PROPERTIES,
        ),
    ]
}

/// identify: attributes and `traits.email`.
const READS_IDENTIFY: &[&str] = &["traits"];
/// track, page, screen: properties, and `context` (`context.traits.email`, the device).
const READS_TRACK: &[&str] = &["properties", "context"];
/// group: traits (object attributes) and `properties` (issue 13: it was accepted before).
const READS_GROUP: &[&str] = &["traits", "properties"];
/// devices: token and platform from `context.device`, else `properties`.
const READS_DEVICE: &[&str] = &["properties", "context"];
/// The person actions on track events (§3 step 2: `properties.email`, then `context.traits.email`).
const READS_PERSON: &[&str] = &["properties", "context"];
/// delete-object and the metrics: only `properties`.
const READS_PROPERTIES: &[&str] = &["properties"];
/// merge: `userId` and `previousId` only.
const READS_MERGE: &[&str] = &[];

fn config() -> MappingConfig {
    MappingConfig::new(true, EventIdMode::Ulid, Routes::default())
}

#[test]
fn every_action_checks_the_containers_it_reads_and_ignores_the_others() {
    let mut failures = Vec::new();
    let cases = cases();
    assert_eq!(cases.len(), 15, "one case per action");
    for (action, event, reads) in cases {
        match map_event(&event, &config()) {
            Outcome::Mapped(op) if op.action.name() == action => {}
            other => {
                failures.push(format!("{action}: the valid record gave {other:?}"));
                continue;
            }
        }
        for container in ["traits", "properties", "context"] {
            for bad in [json!("x"), json!(7), json!([1]), json!(true)] {
                let mut broken = event.clone();
                broken[container] = bad.clone();
                let out = map_event(&broken, &config());
                let read = reads.contains(&container);
                let ok = match &out {
                    Outcome::Invalid(i) if read => i
                        .message
                        .contains(&format!("{container} must be an object")),
                    Outcome::Mapped(op) if !read => op.action.name() == action,
                    _ => false,
                };
                if !ok {
                    let want = if read { "invalid" } else { "mapped as before" };
                    failures.push(format!(
                        "{action} with {container} = {bad}: want {want}, got {out:?}"
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
