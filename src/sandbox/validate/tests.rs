//! Unit tests of the operation and metrics checks.

use super::*;
use serde_json::json;

fn fields(op: Value) -> Vec<String> {
    check_operation(&op).into_iter().map(|p| p.field).collect()
}

#[test]
fn valid_operations_of_every_type_pass() {
    let ok = [
        json!({"type":"person","action":"identify","identifiers":{"email":"a@b.co"},"timestamp":1,
               "attributes":{"x":1},"cio_relationships":[{"identifiers":{"object_type_id":"1","object_id":"o"}}]}),
        json!({"type":"person","action":"event","identifiers":{"anonymous_id":"an"},"name":"n",
               "id":"01ARZ3NDEKTSV4RRFFQ69G5FAV"}),
        json!({"type":"person","action":"screen","identifiers":{"cio_id":"c1"},"name":"Home"}),
        json!({"type":"person","action":"add_device","identifiers":{"id":"u"},
               "device":{"token":"t","platform":"android","last_used":5,"attributes":{"a":"b"}}}),
        json!({"type":"person","action":"delete_device","identifiers":{"id":"u"},"device":{"token":"t"}}),
        json!({"type":"person","action":"merge","primary":{"id":"a"},"secondary":{"email":"b@c.de"}}),
        json!({"type":"person","action":"suppress","identifiers":{"phone":"+14155552671"}}),
        json!({"type":"object","action":"identify_anonymous","identifiers":{"cio_object_id":"ob1"},
               "cio_relationships":[{"identifiers":{"anonymous_id":"an"}}]}),
        json!({"type":"object","action":"delete_relationships","identifiers":{"object_type_id":"1","object_id":"o"},
               "cio_relationships":[{"identifiers":{"id":"u"}}]}),
        json!({"type":"delivery","action":"event","identifiers":{"id":"d"},"name":"opened",
               "attributes":{"device_token":"t"}}),
    ];
    for op in ok {
        assert_eq!(check_operation(&op), vec![], "{op}");
    }
}

#[test]
fn each_rule_names_its_field() {
    let person = |extra: Value| {
        let mut op = json!({"type":"person","identifiers":{"id":"u"}});
        op.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        op
    };
    assert_eq!(
        fields(json!({"type":"object","action":"merge"})),
        ["action"]
    );
    assert_eq!(
        fields(person(json!({"action":"identify","identifiers":{}}))),
        ["identifiers"]
    );
    assert_eq!(
        fields(person(
            json!({"action":"delete","identifiers":{"anonymous_id":"a"}})
        )),
        ["identifiers.anonymous_id"]
    );
    assert_eq!(
        fields(person(json!({"action":"event","name":"x".repeat(101)}))),
        ["name"]
    );
    assert_eq!(
        fields(person(json!({"action":"page","name":"p".repeat(500)}))),
        Vec::<String>::new()
    );
    assert_eq!(
        fields(person(json!({"action":"event","name":"n","timestamp":"1"}))),
        ["timestamp"]
    );
    assert_eq!(
        fields(person(
            json!({"action":"add_device","device":{"platform":"ios"}})
        )),
        ["device.token"]
    );
    assert_eq!(
        fields(person(json!({"action":"add_relationships"}))),
        ["cio_relationships"]
    );
    let many: Map<String, Value> = (0..301).map(|i| (format!("a{i}"), json!(i))).collect();
    assert_eq!(
        fields(person(json!({"action":"identify","attributes":many}))),
        ["attributes"]
    );
    assert_eq!(
        fields(person(
            json!({"action":"identify","attributes":{"v":"x".repeat(1001)}})
        )),
        ["attributes.v"]
    );
    assert_eq!(
        fields(
            json!({"type":"delivery","action":"event","identifiers":{"id":"d"},"name":"clicked"})
        ),
        ["name", "attributes.device_token"]
    );
}

#[test]
fn ulids_and_metrics() {
    assert!(is_ulid("01ARZ3NDEKTSV4RRFFQ69G5FAV"));
    assert!(is_ulid("01arz3ndektsv4rrffq69g5fav"));
    assert!(!is_ulid("81ARZ3NDEKTSV4RRFFQ69G5FAV"));
    assert!(!is_ulid("01ARZ3NDEKTSV4RRFFQ69G5FAU"));
    assert!(!is_ulid("550e8400-e29b-41d4-a716-446655440000"));
    assert!(check_metric(&json!({"delivery_id":"d","metric":"bounced"})).is_ok());
    assert!(check_metric(&json!({"delivery_id":"","metric":"opened"})).is_err());
    assert!(check_metric(&json!({"delivery_id":"d"})).is_err());
}
