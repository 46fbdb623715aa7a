//! Property test of the lane rule: under random interleavings of identifies, events, relationship
//! changes, merges and metrics at concurrency 8, every entity's operations are sent in input order,
//! each only after the request holding the entity's previous operation was answered.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use proptest::prelude::*;
use serde_json::{Value, json};

use super::transport::{Reply, Transport, TransportError};
use super::*;
use crate::input::{Location, Record};
use crate::mapping::Outcome;
use crate::pipeline::Item;
use crate::track::{Endpoint, Operation};

/// One request as a [`Timeline`] saw it: when it started and when it was answered.
struct Seen {
    start: u64,
    end: u64,
    endpoint: Endpoint,
    body: Vec<u8>,
}

/// A transport that records when each request starts and ends on one logical clock, and lets
/// other lanes run in between (`yield_now`) so that their requests overlap.
#[derive(Default)]
struct Timeline {
    clock: AtomicU64,
    seen: Mutex<Vec<Seen>>,
}

impl Transport for Timeline {
    fn post(&self, endpoint: Endpoint, body: &[u8]) -> Result<Reply, TransportError> {
        let start = self.clock.fetch_add(1, Ordering::SeqCst);
        for _ in 0..fastrand::usize(0..4) {
            std::thread::yield_now();
        }
        let end = self.clock.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut seen) = self.seen.lock() {
            seen.push(Seen {
                start,
                end,
                endpoint,
                body: body.to_vec(),
            });
        }
        Ok(Reply::new(200, "{}"))
    }
}

fn body_of(index: u64, kind: u8, a: u8, b: u8) -> (Action, Value) {
    let person = |n: u8| json!({"id": format!("p{n}")});
    let object = |n: u8| json!({"object_type_id": "1", "object_id": format!("o{n}")});
    let seq = json!({ "seq": index });
    match kind {
        0 => (
            Action::CreateUpdatePerson,
            json!({"type":"person","action":"identify","identifiers":person(a),"attributes":seq}),
        ),
        1 => (
            Action::TrackEvent,
            json!({"type":"person","action":"event","identifiers":person(a),"name":"e","attributes":seq}),
        ),
        2 => (
            Action::CreateUpdatePerson,
            json!({"type":"person","action":"add_relationships","identifiers":person(a),
                   "cio_relationships":[{"identifiers":object(b)}],"attributes":seq}),
        ),
        3 => (
            Action::CreateUpdateObject,
            json!({"type":"object","action":"identify","identifiers":object(b),
                   "cio_relationships":[{"identifiers":person(a)}],"attributes":seq}),
        ),
        4 => (
            Action::MergePeople,
            json!({"type":"person","action":"merge","primary":person(a),"secondary":person(b),
                   "attributes":seq}),
        ),
        _ => (
            Action::ReportDeliveryEvent,
            json!({"delivery_id": format!("d{b}"), "metric": "opened", "attributes": seq}),
        ),
    }
}

fn item(index: u64, action: Action, body: Value) -> Item {
    Item {
        record: Record {
            location: Location {
                file: "t.ndjson".into(),
                line: index + 1,
            },
            input: 0,
            index,
            original: "{}".into(),
            event: Ok(json!({})),
        },
        outcome: Outcome::Mapped(Operation { action, body }),
    }
}

fn ops_of(endpoint: Endpoint, body: &[u8]) -> Vec<Value> {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    match endpoint {
        Endpoint::Batch => v["batch"].as_array().cloned().unwrap_or_default(),
        _ => vec![v],
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn every_entity_is_sent_in_input_order_after_its_previous_request_is_answered(
        script in proptest::collection::vec((0u8..6, 0u8..6, 0u8..4), 1..300),
        size in 2usize..40,
    ) {
        let items: Vec<Item> = script.iter().enumerate().map(|(i, (kind, a, b))| {
            let b = if *kind == 4 { (a + 1 + b) % 6 } else { *b };
            let (action, body) = body_of(i as u64, *kind, *a, b);
            item(i as u64, action, body)
        }).collect();
        let n = items.len() as u64;
        let mut s = DeliverySettings::new(Mode::Batch, 0.0, 8, 475_000, size, 0)
            .unwrap_or_else(|e| panic!("{e}"));
        s.linger = Duration::from_millis(1);
        let t = Timeline::default();
        let report = deliver(items.into_iter(), &s, &t, &mut NoHooks, &never_stop())
            .unwrap_or_else(|e| panic!("{e}"));
        prop_assert_eq!(report.stats.accepted, n);
        // Per entity key: (seq, request start, request end, position in the request).
        let mut per_key: HashMap<String, Vec<(u64, u64, u64, usize)>> = HashMap::new();
        let mut sent = Vec::new();
        let seen = t.seen.lock().map(|s| s.iter().map(|x| (x.start, x.end, x.endpoint, x.body.clone())).collect::<Vec<_>>()).unwrap_or_default();
        for (start, end, endpoint, body) in &seen {
            for (pos, op) in ops_of(*endpoint, body).iter().enumerate() {
                let seq = op["attributes"]["seq"].as_u64().unwrap_or(u64::MAX);
                sent.push(seq);
                for key in lanes::keys(op) {
                    per_key.entry(key).or_default().push((seq, *start, *end, pos));
                }
            }
        }
        sent.sort_unstable();
        prop_assert_eq!(sent, (0..n).collect::<Vec<_>>());
        for (key, mut ops) in per_key {
            ops.sort_unstable();
            for w in ops.windows(2) {
                let ((s1, start1, end1, pos1), (s2, start2, _, pos2)) = (w[0], w[1]);
                if start1 == start2 {
                    prop_assert!(pos1 < pos2, "{}: {} and {} out of order in one batch", key, s1, s2);
                } else {
                    prop_assert!(end1 < start2, "{}: {} (answered at {}) then {} (sent at {})",
                        key, s1, end1, s2, start2);
                }
            }
        }
    }
}
