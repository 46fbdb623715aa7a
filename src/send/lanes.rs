//! Which lane an operation goes to, so that one person's (or object's) operations keep their input
//! order whatever the concurrency.
//!
//! The rule: every operation names the entities it touches — its `identifiers` (as written, with
//! its `type`), both sides of a `merge` (`primary`, `secondary`), every counterpart in
//! `cio_relationships`, and for a v1 delivery metric its `delivery_id`. Entities are hashed onto
//! `lanes` independent lanes; each lane sends its operations strictly in the order it received them,
//! one request at a time. An operation whose entities all hash to one lane goes there. An operation
//! touching entities on different lanes (most relationship changes: a person and an object) *spans*
//! those lanes: each of them first settles everything it received before (its pending batch is sent
//! and answered), then the operation is sent alone on the first of them, and until it is settled the
//! other spanned lanes wait. A merge spans every lane (a *barrier*): everything read before it is
//! settled before it is sent, and nothing read after it is sent before it is settled. Lanes not
//! spanned keep working, and the reader never waits for a span. So for any entity, its operations
//! reach the API in input order. (Two different identifiers of one person — an `id` and
//! an `email` — are different entities: the sender cannot know they are the same person.)

use std::hash::{DefaultHasher, Hash, Hasher};

use serde_json::Value;

/// Where an operation goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Lane(usize),
    /// Touches entities on these lanes (sorted, at least two): drain them, send it alone.
    Span(Vec<usize>),
    /// A merge: drain every lane, send it alone.
    Barrier,
}

/// The entity keys an operation touches.
pub fn keys(body: &Value) -> Vec<String> {
    let mut keys = Vec::new();
    let own_type = body.get("type").and_then(Value::as_str).unwrap_or("person");
    if let Some(ids) = body.get("identifiers") {
        keys.push(format!("{own_type}|{ids}"));
    }
    for side in ["primary", "secondary"] {
        if let Some(ids) = body.get(side) {
            keys.push(format!("person|{ids}"));
        }
    }
    let other_type = if own_type == "object" {
        "person"
    } else {
        "object"
    };
    if let Some(rels) = body.get("cio_relationships").and_then(Value::as_array) {
        for rel in rels {
            if let Some(ids) = rel.get("identifiers") {
                keys.push(format!("{other_type}|{ids}"));
            }
        }
    }
    if let Some(id) = body.get("delivery_id") {
        keys.push(format!("delivery|{id}"));
    }
    keys
}

fn lane_of(key: &str, lanes: usize) -> usize {
    let mut h = DefaultHasher::new();
    key.hash(&mut h);
    (h.finish() % lanes as u64) as usize
}

/// Where an operation goes: its lane, the lanes it spans, or a barrier for a merge.
pub fn route(body: &Value, lanes: usize) -> Route {
    let lanes = lanes.max(1);
    if lanes == 1 {
        return Route::Lane(0);
    }
    if body.get("action").and_then(Value::as_str) == Some("merge") {
        return Route::Barrier;
    }
    let mut chosen: Vec<usize> = keys(body).iter().map(|k| lane_of(k, lanes)).collect();
    chosen.sort_unstable();
    chosen.dedup();
    match chosen.as_slice() {
        [] => Route::Lane(0),
        [one] => Route::Lane(*one),
        _ => Route::Span(chosen),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn same_person_same_lane() {
        let a = json!({"type":"person","action":"identify","identifiers":{"id":"u1"}});
        let b = json!({"type":"person","action":"event","identifiers":{"id":"u1"},"name":"x"});
        for lanes in 1..16 {
            assert_eq!(route(&a, lanes), route(&b, lanes));
            assert!(matches!(route(&a, lanes), Route::Lane(l) if l < lanes));
        }
    }

    #[test]
    fn keys_cover_merges_relationships_and_metrics() {
        let merge =
            json!({"type":"person","action":"merge","primary":{"id":"a"},"secondary":{"id":"b"}});
        assert_eq!(
            keys(&merge),
            vec![r#"person|{"id":"a"}"#, r#"person|{"id":"b"}"#]
        );
        let rel = json!({"type":"person","action":"add_relationships","identifiers":{"id":"a"},
            "cio_relationships":[{"identifiers":{"object_type_id":"1","object_id":"o"}}]});
        assert_eq!(
            keys(&rel)[1],
            r#"object|{"object_type_id":"1","object_id":"o"}"#
        );
        let obj = json!({"type":"object","action":"identify","identifiers":{"object_type_id":"1","object_id":"o"},
            "cio_relationships":[{"identifiers":{"id":"a"}}]});
        assert_eq!(keys(&obj)[1], r#"person|{"id":"a"}"#);
        let metric = json!({"delivery_id":"d1","metric":"opened"});
        assert_eq!(keys(&metric), vec![r#"delivery|"d1""#]);
    }

    #[test]
    fn merges_are_barriers_and_relationships_span() {
        let merge =
            json!({"type":"person","action":"merge","primary":{"id":"a"},"secondary":{"id":"b"}});
        assert_eq!(route(&merge, 8), Route::Barrier);
        assert_eq!(route(&merge, 1), Route::Lane(0));
        let mut spans = 0;
        for i in 0..50 {
            let rel = json!({"type":"person","action":"add_relationships","identifiers":{"id":format!("a{i}")},
                "cio_relationships":[{"identifiers":{"object_type_id":"1","object_id":"o"}}]});
            match route(&rel, 8) {
                Route::Span(lanes) => {
                    spans += 1;
                    assert_eq!(lanes.len(), 2);
                    assert!(lanes.iter().all(|l| *l < 8));
                }
                Route::Lane(l) => assert!(l < 8),
                Route::Barrier => panic!("not a merge"),
            }
        }
        assert!(spans > 0);
    }
}
