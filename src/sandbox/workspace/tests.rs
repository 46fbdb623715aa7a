//! Unit tests of the workspace rules that the integration script does not reach.

use serde_json::{Value, json};

use super::{Effect, Ident, Workspace};

fn apply_all(ops: &[Value]) -> (Workspace, Vec<Effect>) {
    let mut ws = Workspace::default();
    let outcomes = ops.iter().map(|op| ws.apply(op)).collect();
    (ws, outcomes)
}

#[test]
fn anonymous_activity_moves_to_the_person_who_claims_it() {
    let (ws, outcomes) = apply_all(&[
        json!({"type":"person","action":"page","identifiers":{"anonymous_id":"an-1"},"name":"/a"}),
        json!({"type":"object","action":"identify_anonymous","identifiers":{"object_type_id":"1","object_id":"g"},
               "cio_relationships":[{"identifiers":{"anonymous_id":"an-1"}}]}),
        json!({"type":"person","action":"identify","identifiers":{"id":"u"},"attributes":{"anonymous_id":"an-1"}}),
        json!({"type":"person","action":"event","identifiers":{"anonymous_id":"an-1"},"name":"later"}),
    ]);
    assert!(outcomes.iter().all(|o| *o == Effect::Applied));
    assert!(ws.anonymous.is_empty());
    let person = ws.people.values().next().unwrap();
    let events = person.events.by_kind(&ws.names);
    assert_eq!(events["page"]["/a"], 1);
    assert_eq!(events["event"]["later"], 1);
    let related: Vec<(&str, &str)> = ws
        .relationships_of(&person.relationships)
        .into_iter()
        .map(|(type_id, id, _)| (type_id, id))
        .collect();
    assert_eq!(related, [("1", "g")]);
}

#[test]
fn what_cannot_create_a_person_is_ignored() {
    let (ws, outcomes) = apply_all(&[
        json!({"type":"person","action":"identify","identifiers":{"cio_id":"ffff"},"attributes":{"a":1}}),
        json!({"type":"person","action":"identify","identifiers":{"id":"u"},"attributes":{"_update":true}}),
        json!({"type":"person","action":"delete","identifiers":{"id":"nobody"}}),
        json!({"type":"person","action":"unsuppress","identifiers":{"id":"free"}}),
    ]);
    assert_eq!(outcomes, vec![Effect::Ignored; 4]);
    assert!(ws.people.is_empty());
}

#[test]
fn a_device_token_belongs_to_one_person_and_null_removes_attributes() {
    let device = json!({"token":"t","platform":"ios"});
    let (ws, _) = apply_all(&[
        json!({"type":"person","action":"add_device","identifiers":{"id":"a"},"device":device}),
        json!({"type":"person","action":"add_device","identifiers":{"id":"b"},"device":device}),
        json!({"type":"person","action":"identify","identifiers":{"id":"b"},"attributes":{"x":1,"y":2}}),
        json!({"type":"person","action":"identify","identifiers":{"id":"b"},"attributes":{"x":null}}),
    ]);
    let a = &ws.people[&ws.find(&Ident::Id("a".into())).unwrap()];
    let b = &ws.people[&ws.find(&Ident::Id("b".into())).unwrap()];
    assert!(a.devices.is_empty());
    assert!(b.devices.contains_key("t"));
    assert_eq!(Value::Object(b.attributes.to_map()), json!({"y": 2}));
}

#[test]
fn emails_match_in_any_case_and_suppression_blocks_them() {
    let (ws, outcomes) = apply_all(&[
        json!({"type":"person","action":"identify","identifiers":{"email":"Ann@X.io"}}),
        json!({"type":"person","action":"suppress","identifiers":{"email":"ann@x.IO"}}),
        json!({"type":"person","action":"identify","identifiers":{"email":"ANN@x.io"}}),
    ]);
    assert_eq!(
        outcomes,
        vec![Effect::Applied, Effect::Applied, Effect::Blocked]
    );
    assert!(ws.people.is_empty());
    assert!(ws.is_blocked(&Ident::Email("ann@x.io".into())));
}

#[test]
fn a_deleted_object_loses_its_relationships_even_when_created_again() {
    let object = json!({"object_type_id":"1","object_id":"g"});
    let relate = |person: &str| {
        json!({"type":"person","action":"add_relationships","identifiers":{"id":person},
               "cio_relationships":[{"identifiers":object,"relationship_attributes":{"r":person}}]})
    };
    let (ws, outcomes) = apply_all(&[
        relate("a"),
        json!({"type":"object","action":"identify_anonymous","identifiers":object.clone(),
               "cio_relationships":[{"identifiers":{"anonymous_id":"an"}}]}),
        json!({"type":"object","action":"delete","identifiers":{"cio_object_id":"ob00000001"}}),
        json!({"type":"object","action":"delete","identifiers":{"cio_object_id":"ob00000001"}}),
        json!({"type":"object","action":"identify","identifiers":object.clone()}),
        relate("b"),
    ]);
    let expected = [
        Effect::Applied,
        Effect::Applied,
        Effect::Applied,
        Effect::Ignored,
    ];
    assert_eq!(outcomes[..4], expected);
    let count = |id: &str| {
        let person = &ws.people[&ws.find(&Ident::Id(id.into())).unwrap()];
        ws.relationships_of(&person.relationships).len()
    };
    assert_eq!((count("a"), count("b")), (0, 1));
    assert_eq!(ws.count_relationships(&ws.anonymous["an"].relationships), 0);
    assert_eq!(ws.totals().relationships, 1);
    assert_eq!(ws.totals().objects, 1);
}
