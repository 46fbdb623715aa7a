//! Property tests of the lane rule: under random interleavings of identifies, events, relationship
//! changes (over up to three entities), merges and metrics at concurrency 2 to 8 — with and without
//! retried 429s and bisected 400s — every entity's operations are sent in input order, each only
//! after every attempt of the entity's previous operation was answered, and each is accepted once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use proptest::prelude::*;
use serde_json::{Value, json};

use super::transport::{Reply, Transport, TransportError};
use super::*;
use crate::map::Outcome;
use crate::source::{Location, Record};
use crate::stream::Item;
use crate::track::{Endpoint, Operation};

/// One request as a [`Timeline`] saw it: when it started and when it was answered.
struct Seen {
    start: u64,
    end: u64,
    endpoint: Endpoint,
    body: Vec<u8>,
    status: u16,
}

/// A transport that records when each request starts and ends on one logical clock, and lets
/// other lanes run in between (`yield_now`) so that their requests overlap. With `faults`, it
/// answers some requests 429 (retried after 1 ms) and refuses whole any batch holding a *bad*
/// operation ([`is_bad`]) with a 400, so it is bisected down to that operation.
#[derive(Default)]
struct Timeline {
    clock: AtomicU64,
    seen: Mutex<Vec<Seen>>,
    faults: bool,
}

/// Operations the faulty [`Timeline`] refuses.
fn is_bad(seq: u64) -> bool {
    seq % 13 == 5
}

impl Transport for Timeline {
    fn post(&self, endpoint: Endpoint, body: &[u8]) -> Result<Reply, TransportError> {
        let start = self.clock.fetch_add(1, Ordering::SeqCst);
        for _ in 0..fastrand::usize(0..4) {
            std::thread::yield_now();
        }
        let reply = if !self.faults {
            Reply::new(200, "{}")
        } else if fastrand::u8(0..100) < 15 {
            Reply {
                status: 429,
                body: String::new(),
                retry_after: Some(Duration::from_millis(1)),
            }
        } else if ops_of(endpoint, body).iter().any(|op| is_bad(seq_of(op))) {
            Reply::new(400, r#"{"errors":[{"message":"bad"}]}"#)
        } else {
            Reply::new(200, "{}")
        };
        let end = self.clock.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut seen) = self.seen.lock() {
            seen.push(Seen {
                start,
                end,
                endpoint,
                body: body.to_vec(),
                status: reply.status,
            });
        }
        Ok(reply)
    }
}

fn seq_of(op: &Value) -> u64 {
    op["attributes"]["seq"].as_u64().unwrap_or(u64::MAX)
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
        6 => (
            Action::CreateUpdateObject,
            json!({"type":"object","action":"identify","identifiers":object(b),
                   "cio_relationships":[{"identifiers":person(a)},{"identifiers":person(a / 2 + 3)}],
                   "attributes":seq}),
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
                part: None,
                file: "t.ndjson".into(),
                line: index + 1,
            },
            input: 0,
            index,
            original: "{}".into(),
            event: Ok(json!({})),
        },
        outcome: Outcome::Mapped(Operation::new(action, body)),
    }
}

fn ops_of(endpoint: Endpoint, body: &[u8]) -> Vec<Value> {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    match endpoint {
        Endpoint::Batch => v["batch"].as_array().cloned().unwrap_or_default(),
        _ => vec![v],
    }
}

/// The items of a script of `(kind, a, b)` steps (see [`body_of`]).
fn items_of(script: &[(u8, u8, u8)]) -> Vec<Item> {
    script
        .iter()
        .enumerate()
        .map(|(i, (kind, a, b))| {
            let b = if *kind == 4 { (a + 1 + b) % 6 } else { *b };
            let (action, body) = body_of(i as u64, *kind, *a, b);
            item(i as u64, action, body)
        })
        .collect()
}

/// Check what `t` saw for operations `0..n`: for every entity, every attempt holding one of its
/// operations started after the last attempt holding its previous one was answered (or holds
/// that one too, earlier in the same body); every operation was sent, and each good one accepted
/// exactly once.
fn check_order(t: &Timeline, n: u64) -> Result<(), TestCaseError> {
    let seen = t.seen.lock().map_err(|_| TestCaseError::fail("poisoned"))?;
    // Per attempt: its operations in body order; per operation: when its last attempt ended and
    // how often it was accepted.
    let attempts: Vec<Vec<Value>> = seen.iter().map(|x| ops_of(x.endpoint, &x.body)).collect();
    let mut settled_at: HashMap<u64, u64> = HashMap::new();
    let mut accepted: HashMap<u64, u32> = HashMap::new();
    let mut per_key: HashMap<String, Vec<u64>> = HashMap::new();
    for (x, ops) in seen.iter().zip(&attempts) {
        for op in ops {
            let seq = seq_of(op);
            let at = settled_at.entry(seq).or_insert(0);
            *at = (*at).max(x.end);
            if x.status == 200 {
                *accepted.entry(seq).or_insert(0) += 1;
            }
            for key in lanes::keys(op) {
                per_key.entry(key).or_default().push(seq);
            }
        }
    }
    let mut sent: Vec<u64> = settled_at.keys().copied().collect();
    sent.sort_unstable();
    prop_assert_eq!(sent, (0..n).collect::<Vec<_>>());
    for seq in 0..n {
        let once = if t.faults && is_bad(seq) { 0 } else { 1 };
        prop_assert_eq!(
            accepted.get(&seq).copied().unwrap_or(0),
            once,
            "seq {}",
            seq
        );
    }
    for (key, mut seqs) in per_key {
        seqs.sort_unstable();
        seqs.dedup();
        for w in seqs.windows(2) {
            let (s1, s2) = (w[0], w[1]);
            for (x, ops) in seen.iter().zip(&attempts) {
                let pos2 = ops.iter().position(|op| seq_of(op) == s2);
                let pos1 = ops.iter().position(|op| seq_of(op) == s1);
                match (pos1, pos2) {
                    (_, None) => {}
                    (Some(p1), Some(p2)) => {
                        prop_assert!(
                            p1 < p2,
                            "{}: {} and {} out of order in one body",
                            key,
                            s1,
                            s2
                        )
                    }
                    (None, Some(_)) => {
                        let end1 = settled_at.get(&s1).copied().unwrap_or(u64::MAX);
                        prop_assert!(
                            end1 < x.start,
                            "{}: {} (settled at {}) then {} (sent at {})",
                            key,
                            s1,
                            end1,
                            s2,
                            x.start
                        );
                    }
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn every_entity_is_sent_in_input_order_after_its_previous_request_is_answered(
        script in proptest::collection::vec((0u8..7, 0u8..6, 0u8..4), 1..300),
        size in 2usize..40,
        lanes in 2usize..=8,
    ) {
        let items = items_of(&script);
        let n = items.len() as u64;
        let mut s = DeliverySettings::new(Mode::Batch, 0.0, lanes, 475_000, size, 0)
            .unwrap_or_else(|e| panic!("{e}"));
        s.linger = Duration::from_millis(1);
        let t = Timeline::default();
        let report = deliver(items.into_iter(), &s, &t, &mut NoHooks, &never_stop())
            .unwrap_or_else(|e| panic!("{e}"));
        prop_assert_eq!(report.stats.accepted, n);
        check_order(&t, n)?;
    }

    #[test]
    fn order_holds_through_retries_and_bisection(
        script in proptest::collection::vec((0u8..7, 0u8..6, 0u8..4), 1..200),
        size in 2usize..30,
        lanes in 2usize..=8,
    ) {
        let items = items_of(&script);
        let n = items.len() as u64;
        let mut s = DeliverySettings::new(Mode::Batch, 0.0, lanes, 475_000, size, 40)
            .unwrap_or_else(|e| panic!("{e}"));
        s.linger = Duration::from_millis(1);
        let t = Timeline { faults: true, ..Timeline::default() };
        let report = deliver(items.into_iter(), &s, &t, &mut NoHooks, &never_stop())
            .unwrap_or_else(|e| panic!("{e}"));
        let bad = (0..n).filter(|seq| is_bad(*seq)).count() as u64;
        prop_assert_eq!((report.stats.accepted, report.stats.rejected), (n - bad, bad));
        prop_assert_eq!(report.stats.unsent, 0);
        check_order(&t, n)?;
    }
}
