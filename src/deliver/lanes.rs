//! Which lane an operation goes to, so that one person's (or object's) operations keep their input
//! order whatever the concurrency, with as few extra requests as possible.
//!
//! The rule: every operation names the entities it touches — its `identifiers` (as written, with
//! its `type`), both sides of a `merge` (`primary`, `secondary`), every counterpart in
//! `cio_relationships`, and for a v1 delivery metric its `delivery_id`. Each lane sends its work
//! strictly in the order it received it, one request at a time, so nothing of a lane is in flight
//! while it looks at its next message. The reader keeps, for every entity that has *unsettled*
//! operations (routed, and neither answered — after any retries — nor refused as too big), the
//! lane that *owns* it and how many it has (`Owners`); an entity with none is *free* and
//! forgotten. Operations are routed in input order:
//!
//! - none of its entities is owned: it goes to the *home* lane of its first entity (a hash), or,
//!   when that lane is *waiting* (a request of it waits out a retry, or it waits for a span), to
//!   the next lane that is not: one stuck batch does not hold back the work of other entities;
//! - every owned entity is owned by one lane: it goes to that lane, behind their earlier work
//!   (so a relationship change joins the lane of its busy object or person, and rides in that
//!   lane's batches like any other operation);
//! - its entities are owned by different lanes: it *spans* them (below).
//!
//! Either way the lane that sends it (a span's lead) owns all of its entities from then on, until
//! every operation of each is settled. A span over lanes `[lead, others..]` (the lead owns the
//! operation's first owned entity):
//!
//! - each other lane first sends its pending batch, but only if that batch holds an operation for
//!   one of the span's entities (every lane keeps the entity-key hashes of its pending batch;
//!   unrelated pending work stays and keeps filling);
//! - the operation is then sent by the lead after every other spanned lane has done the above; it
//!   rides in the lead's batch when that batch held one of its entities, else it goes alone;
//! - until it is settled, the other spanned lanes do not send anything for one of its entities
//!   (and take part in no later span over them); their other work goes on. (They are not given
//!   any: the lead owns those entities. The lanes still check it.)
//!
//! Spans are rare: an entity is owned only while it has work queued, pending or in flight, so an
//! operation spans only when two of its entities are both busy on different lanes at that moment.
//! A merge is routed the same way over its two people: it is ordered against everything of those
//! two people, before and after, and nothing else waits for it. A delivery metric touches only its
//! delivery: it goes alone to its own endpoint without sending the pending batch. The reader never
//! waits for a span (only for a full lane queue).
//!
//! So for any entity, its operations reach the API in input order, and an operation is only sent
//! once every earlier operation of each of its entities is settled: when an operation is routed,
//! the entity's previous operation is either settled (the entity is free), or unsettled on the
//! owning lane, which is then the operation's lane (in order behind it, in a later request or
//! later in the same batch), or its span's lead, or one of its span's other lanes (which sends or
//! has settled it before the lead may send). An operation left unsettled by a stop or an auth halt
//! keeps its entities owned, so nothing later of them goes to another lane. (Two different
//! identifiers of one person — an `id` and an `email` — are different entities: the sender cannot
//! know they are the same person.)

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::hash::{DefaultHasher, Hasher};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;

/// Where an operation goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Assignment {
    Lane(usize),
    /// Its entities have unsettled operations on these lanes (distinct, at least two): the first
    /// leads, the others settle their earlier work on its entities first.
    Span(Vec<usize>),
}

/// Which lane owns each entity that has unsettled operations, and how many it has. Shared by
/// the reader (which [`assign`](Owners::assign)s) and the lanes (which
/// [`settle`](Owners::settle)). Holds only entities with work queued, pending or in flight, so it
/// stays as small as the lanes' queues.
pub(crate) struct Owners {
    lanes: usize,
    map: Mutex<HashMap<u64, Owner>>,
    /// Per lane: it is waiting (retry backoff, `Retry-After`, a span): free entities go elsewhere.
    waiting: Vec<AtomicBool>,
}

/// Marks a lane as waiting until dropped (see [`Owners::waiting`]).
pub(crate) struct Waiting<'a> {
    flag: &'a AtomicBool,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.flag.store(false, Ordering::Relaxed);
    }
}

#[derive(Debug, Clone, Copy)]
struct Owner {
    lane: usize,
    unsettled: u64,
}

impl Owners {
    pub(crate) fn new(lanes: usize) -> Owners {
        let lanes = lanes.max(1);
        Owners {
            lanes,
            map: Mutex::new(HashMap::new()),
            waiting: (0..lanes).map(|_| AtomicBool::new(false)).collect(),
        }
    }

    /// Lane `lane` waits (for a retry, or for other lanes) until the guard is dropped: operations
    /// of free entities go to other lanes meanwhile.
    pub(crate) fn waiting(&self, lane: usize) -> Option<Waiting<'_>> {
        let flag = self.waiting.get(lane)?;
        flag.store(true, Ordering::Relaxed);
        Some(Waiting { flag })
    }

    /// Whether lane `lane` is waiting (see [`Owners::waiting`]).
    pub(crate) fn is_waiting(&self, lane: usize) -> bool {
        self.waiting
            .get(lane)
            .is_some_and(|w| w.load(Ordering::Relaxed))
    }

    /// The home lane of `hash`, or the next lane after it that is not waiting (the home lane when
    /// all are).
    fn free_lane(&self, hash: u64) -> usize {
        let home = lane_of(hash, self.lanes);
        (0..self.lanes)
            .map(|step| (home + step) % self.lanes)
            .find(|n| !self.waiting[*n].load(Ordering::Relaxed))
            .unwrap_or(home)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Owner>> {
        match self.map.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Route an operation touching the entities `keys` and count it as unsettled on the lane
    /// that sends it (the lead of a span), which owns all of `keys` from now on.
    pub(crate) fn assign(&self, keys: &[u64]) -> Assignment {
        if self.lanes == 1 {
            return Assignment::Lane(0);
        }
        let mut map = self.lock();
        let mut busy: Vec<usize> = Vec::with_capacity(2);
        for k in keys {
            if let Some(o) = map.get(k)
                && !busy.contains(&o.lane)
            {
                busy.push(o.lane);
            }
        }
        let route = match busy.as_slice() {
            [] => Assignment::Lane(keys.first().map_or(0, |h| self.free_lane(*h))),
            [one] => Assignment::Lane(*one),
            _ => Assignment::Span(busy),
        };
        let lead = match &route {
            Assignment::Lane(n) => *n,
            Assignment::Span(spanned) => spanned[0],
        };
        for k in keys {
            let o = map.entry(*k).or_insert(Owner {
                lane: lead,
                unsettled: 0,
            });
            o.lane = lead;
            o.unsettled += 1;
        }
        route
    }

    /// One operation touching `keys` is settled (answered, or never sendable).
    pub(crate) fn settle(&self, keys: &[u64]) {
        if self.lanes == 1 || keys.is_empty() {
            return;
        }
        let mut map = self.lock();
        for k in keys {
            if let Some(o) = map.get_mut(k) {
                o.unsettled = o.unsettled.saturating_sub(1);
                if o.unsettled == 0 {
                    map.remove(k);
                }
            }
        }
    }

    /// Entities with unsettled operations.
    #[cfg(test)]
    pub(crate) fn busy(&self) -> usize {
        self.lock().len()
    }
}

/// The entity keys an operation touches, as text (`type|identifiers`).
#[cfg(test)]
pub(crate) fn keys(body: &Value) -> Vec<String> {
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
pub(crate) fn key_hashes(body: &Value) -> Vec<u64> {
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
#[cfg(test)]
pub(crate) fn hash_key(key: &str) -> u64 {
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
pub(crate) fn lane_of(hash: u64, lanes: usize) -> usize {
    (hash % lanes.max(1) as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hashes(body: &Value) -> Vec<u64> {
        key_hashes(body)
    }

    #[test]
    fn free_entities_go_home_and_busy_ones_pull_their_operations_to_their_lane() {
        let a = json!({"type":"person","action":"identify","identifiers":{"id":"u1"}});
        let b = json!({"type":"person","action":"event","identifiers":{"id":"u1"},"name":"x"});
        for lanes in 1..16 {
            let owners = Owners::new(lanes);
            let home = lane_of(hashes(&a)[0], lanes);
            assert_eq!(owners.assign(&hashes(&a)), Assignment::Lane(home));
            assert_eq!(owners.assign(&hashes(&b)), Assignment::Lane(home));
            owners.settle(&hashes(&a));
            owners.settle(&hashes(&b));
            assert_eq!(owners.busy(), 0);
        }
    }

    /// Two keys whose home lanes differ among `lanes`.
    fn two_homes(lanes: usize) -> (u64, u64) {
        let a = hash_key("person|a");
        let b = (0..)
            .map(|i| hash_key(&format!("object|{i}")))
            .find(|h| lane_of(*h, lanes) != lane_of(a, lanes))
            .unwrap_or(0);
        (a, b)
    }

    #[test]
    fn an_operation_joins_the_lane_that_owns_its_busy_entity() {
        let owners = Owners::new(4);
        let (person, object) = two_homes(4);
        // The object is busy on its home lane: a relationship change (person first) goes there,
        // not to the person's home, and the person is owned there until it settles.
        assert_eq!(
            owners.assign(&[object]),
            Assignment::Lane(lane_of(object, 4))
        );
        assert_eq!(
            owners.assign(&[person, object]),
            Assignment::Lane(lane_of(object, 4))
        );
        assert_eq!(
            owners.assign(&[person]),
            Assignment::Lane(lane_of(object, 4))
        );
        for keys in [&[object][..], &[person, object], &[person]] {
            owners.settle(keys);
        }
        assert_eq!(owners.busy(), 0);
        assert_eq!(
            owners.assign(&[person]),
            Assignment::Lane(lane_of(person, 4))
        );
    }

    #[test]
    fn entities_busy_on_different_lanes_span_them_led_by_the_first_owner() {
        let owners = Owners::new(4);
        let (person, object) = two_homes(4);
        let (lp, lo) = (lane_of(person, 4), lane_of(object, 4));
        assert_eq!(owners.assign(&[person]), Assignment::Lane(lp));
        assert_eq!(owners.assign(&[object]), Assignment::Lane(lo));
        assert_eq!(
            owners.assign(&[person, object]),
            Assignment::Span(vec![lp, lo])
        );
        // The lead owns both now: the object's next operation queues behind the span there.
        assert_eq!(owners.assign(&[object]), Assignment::Lane(lp));
        owners.settle(&[person]);
        owners.settle(&[object]);
        owners.settle(&[person, object]);
        assert_eq!(owners.busy(), 1);
        owners.settle(&[object]);
        assert_eq!(owners.busy(), 0);
        // One lane: everything goes to lane 0 and nothing is tracked.
        let one = Owners::new(1);
        assert_eq!(one.assign(&[person, object]), Assignment::Lane(0));
        assert_eq!(one.busy(), 0);
    }

    #[test]
    fn free_entities_avoid_a_waiting_lane_and_busy_ones_stay_with_it() {
        let owners = Owners::new(3);
        let (a, b) = two_homes(3);
        let home = lane_of(a, 3);
        assert_eq!(owners.assign(&[a]), Assignment::Lane(home));
        let waiting = owners.waiting(home);
        // `a` is busy there: its order matters more than the wait.
        assert_eq!(owners.assign(&[a]), Assignment::Lane(home));
        // A free entity whose home is the waiting lane goes to the next lane.
        let c = (0..)
            .map(|i| hash_key(&format!("person|{i}")))
            .find(|h| lane_of(*h, 3) == home && *h != a)
            .unwrap_or(0);
        assert_eq!(owners.assign(&[c]), Assignment::Lane((home + 1) % 3));
        assert_eq!(owners.assign(&[b]), Assignment::Lane(lane_of(b, 3)));
        drop(waiting);
        let d = (0..)
            .map(|i| hash_key(&format!("object|x{i}")))
            .find(|h| lane_of(*h, 3) == home)
            .unwrap_or(0);
        assert_eq!(owners.assign(&[d]), Assignment::Lane(home));
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
}
