//! Which lane an operation goes to, so that one person's (or object's) operations keep their input
//! order whatever the concurrency.
//!
//! The rule: every operation names the entities it touches — its `identifiers` (as written, with
//! its `type`), both sides of a `merge` (`primary`, `secondary`), every counterpart in
//! `cio_relationships`, and for a v1 delivery metric its `delivery_id`. Each entity hashes onto one
//! of `lanes` independent lanes (its *home* lane); each lane sends its work strictly in the order it
//! received it, one request at a time, so nothing of a lane is in flight while it looks at its next
//! message. An operation whose entities all live on one lane goes there, into that lane's batch.
//! An operation touching entities on different lanes — most relationship changes (a person and an
//! object) and merges whose two people live on different lanes — *spans* those lanes:
//!
//! - each spanned lane first sends its pending batch, but only if that batch holds an operation
//!   for one of the span's entities (every lane keeps the entity-key hashes of its pending batch;
//!   unrelated pending work stays and keeps filling);
//! - the operation is then sent by the first spanned lane (the *lead*), after every other spanned
//!   lane has done the above; it rides in the lead's batch when that batch held one of its
//!   entities, else it goes alone;
//! - until it is settled, the other spanned lanes do not send anything for one of its entities
//!   (and take part in no later span over them); their other work goes on.
//!
//! A merge is such a span over its two people: it is ordered against everything of those two
//! people, before and after, and nothing else waits for it. A delivery metric touches only its
//! delivery: it goes alone to its own endpoint without sending the pending batch. The reader
//! never waits for a span. So for any entity, its operations reach the API in input order, and an
//! operation is only sent once every earlier operation of each of its entities is settled.
//! (Two different identifiers of one person — an `id` and an `email` — are different entities: the
//! sender cannot know they are the same person.)

use std::fmt::{self, Write as _};
use std::hash::{DefaultHasher, Hasher};

use serde_json::Value;

/// Where an operation goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Lane(usize),
    /// Touches entities on these lanes (sorted, at least two): the first leads, the others hold
    /// the operation's entities until it is settled.
    Span(Vec<usize>),
}

/// The entity keys an operation touches, as text (`type|identifiers`).
pub fn keys(body: &Value) -> Vec<String> {
    let mut keys = Vec::new();
    visit_keys(body, |args| {
        let mut k = String::new();
        let _ = k.write_fmt(args);
        keys.push(k);
    });
    keys
}

/// The entity keys an operation touches, hashed (the same values as [`hash_key`] of [`keys`]),
/// without building the text.
pub fn key_hashes(body: &Value) -> Vec<u64> {
    let mut hashes = Vec::with_capacity(2);
    visit_keys(body, |args| {
        let mut w = HashWriter(DefaultHasher::new());
        let _ = w.write_fmt(args);
        let h = w.0.finish();
        if !hashes.contains(&h) {
            hashes.push(h);
        }
    });
    hashes
}

/// The hash of one entity key.
pub fn hash_key(key: &str) -> u64 {
    let mut h = DefaultHasher::new();
    h.write(key.as_bytes());
    h.finish()
}

struct HashWriter(DefaultHasher);

impl fmt::Write for HashWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.write(s.as_bytes());
        Ok(())
    }
}

fn visit_keys(body: &Value, mut key: impl FnMut(fmt::Arguments<'_>)) {
    let own_type = body.get("type").and_then(Value::as_str).unwrap_or("person");
    if let Some(ids) = body.get("identifiers") {
        key(format_args!("{own_type}|{ids}"));
    }
    for side in ["primary", "secondary"] {
        if let Some(ids) = body.get(side) {
            key(format_args!("person|{ids}"));
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
                key(format_args!("{other_type}|{ids}"));
            }
        }
    }
    if let Some(id) = body.get("delivery_id") {
        key(format_args!("delivery|{id}"));
    }
}

/// The home lane of an entity key hash.
pub fn lane_of(hash: u64, lanes: usize) -> usize {
    (hash % lanes.max(1) as u64) as usize
}

/// Where an operation touching entities with these key hashes goes.
pub fn route_hashes(hashes: &[u64], lanes: usize) -> Route {
    let lanes = lanes.max(1);
    if lanes == 1 {
        return Route::Lane(0);
    }
    let mut chosen: Vec<usize> = hashes.iter().map(|h| lane_of(*h, lanes)).collect();
    chosen.sort_unstable();
    chosen.dedup();
    match chosen.as_slice() {
        [] => Route::Lane(0),
        [one] => Route::Lane(*one),
        _ => Route::Span(chosen),
    }
}

/// Where an operation goes: its lane, or the lanes it spans.
pub fn route(body: &Value, lanes: usize) -> Route {
    route_hashes(&key_hashes(body), lanes)
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
    fn hashes_match_the_keys() {
        let rel = json!({"type":"person","action":"add_relationships","identifiers":{"id":"a"},
            "cio_relationships":[{"identifiers":{"object_type_id":"1","object_id":"o"}},
                                 {"identifiers":{"object_type_id":"1","object_id":"o"}}]});
        let from_text: Vec<u64> = keys(&rel).iter().map(|k| hash_key(k)).collect();
        assert_eq!(from_text.len(), 3);
        assert_eq!(key_hashes(&rel), vec![from_text[0], from_text[1]]);
    }

    #[test]
    fn merges_and_relationships_span_only_their_entities_lanes() {
        let mut spans = 0;
        for i in 0..50 {
            let merge = json!({"type":"person","action":"merge","primary":{"id":format!("a{i}")},
                "secondary":{"id":"b"}});
            let own: Vec<usize> = keys(&merge)
                .iter()
                .map(|k| lane_of(hash_key(k), 8))
                .collect();
            match route(&merge, 8) {
                Route::Span(lanes) => {
                    spans += 1;
                    assert_eq!(lanes.len(), 2);
                    assert!(lanes.iter().all(|l| own.contains(l)));
                }
                Route::Lane(l) => assert!(own.iter().all(|o| *o == l)),
            }
            assert_eq!(route(&merge, 1), Route::Lane(0));
            let rel = json!({"type":"person","action":"add_relationships","identifiers":{"id":format!("a{i}")},
                "cio_relationships":[{"identifiers":{"object_type_id":"1","object_id":"o"}}]});
            match route(&rel, 8) {
                Route::Span(lanes) => {
                    spans += 1;
                    assert_eq!(lanes.len(), 2);
                    assert!(lanes.iter().all(|l| *l < 8));
                }
                Route::Lane(l) => assert!(l < 8),
            }
        }
        assert!(spans > 0);
    }
}
