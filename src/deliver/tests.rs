//! Delivery tests without sockets: a recording transport checks batch limits, exactly-once
//! delivery, per-entity order, bisection, 207 handling, retries and the auth halt.

use std::collections::HashMap;
use std::time::Duration;

use proptest::prelude::*;
use serde_json::{Value, json};

use super::transport::{Recorded, RecordingTransport, Reply, TransportError};
use super::*;
use crate::map::{Invalid, Outcome};
use crate::source::{Location, Record};
use crate::stream::Item;
use crate::track::{Action, Endpoint, Operation};

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
            original: format!("{{\"n\":{index}}}"),
            event: Ok(json!({ "n": index })),
        },
        outcome: Outcome::Mapped(Operation::new(action, body)),
    }
}

fn event(index: u64, person: &str, pad: usize) -> Item {
    item(
        index,
        Action::TrackEvent,
        json!({"type":"person","action":"event","identifiers":{"id":person},"name":"e",
               "attributes":{"seq":index,"pad":"x".repeat(pad)}}),
    )
}

fn settings(mode: Mode, concurrency: usize, bytes: usize, size: usize) -> DeliverySettings {
    let mut s = DeliverySettings::new(mode, 0.0, concurrency, bytes, size, 3)
        .unwrap_or_else(|e| panic!("{e}"));
    s.linger = Duration::from_millis(1);
    s
}

#[derive(Default)]
struct Collect {
    settled: Vec<Settlement>,
    watermarks: Vec<(usize, u64)>,
}

impl Hooks for Collect {
    fn on_record(&mut self, s: &Settlement) {
        self.settled.push(s.clone());
    }
    fn on_settled(&mut self, w: &[(usize, u64)]) {
        self.watermarks.extend_from_slice(w);
    }
}

fn run(items: Vec<Item>, s: &DeliverySettings, t: &RecordingTransport) -> (Delivered, Collect) {
    let mut hooks = Collect::default();
    let report = deliver(items.into_iter(), s, t, &mut hooks, &never_stop())
        .unwrap_or_else(|e| panic!("{e}"));
    (report, hooks)
}

/// The operations inside a recorded request, in order.
fn ops_of(r: &Recorded) -> Vec<Value> {
    let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    match r.endpoint {
        Endpoint::Batch => v["batch"].as_array().cloned().unwrap_or_default(),
        _ => vec![v],
    }
}

fn seqs(requests: &[Recorded]) -> Vec<u64> {
    requests
        .iter()
        .flat_map(ops_of)
        .filter_map(|op| op["attributes"]["seq"].as_u64())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn batches_respect_limits_and_send_each_operation_once(
        pads in proptest::collection::vec(0usize..31_000, 1..120),
        size in 1usize..40,
        bytes in 40_000usize..=500_000,
        lanes in 1usize..5,
    ) {
        let items: Vec<Item> = pads.iter().enumerate()
            .map(|(i, pad)| event(i as u64, &format!("p{}", i % 7), *pad)).collect();
        let n = items.len() as u64;
        let t = RecordingTransport::new();
        let (report, hooks) = run(items, &settings(Mode::Batch, lanes, bytes, size), &t);
        let requests = t.requests();
        for r in &requests {
            prop_assert_eq!(r.endpoint, Endpoint::Batch);
            prop_assert!(r.body.len() <= bytes && r.body.len() <= 500_000);
            prop_assert!(ops_of(r).len() <= size);
        }
        let mut sent = seqs(&requests);
        sent.sort_unstable();
        prop_assert_eq!(sent, (0..n).collect::<Vec<_>>());
        prop_assert_eq!(report.stats.accepted, n);
        prop_assert_eq!(hooks.settled.len() as u64, n);
        prop_assert_eq!(report.watermarks.clone(), vec![(0usize, n)]);
    }
}

#[test]
fn per_person_order_is_kept_across_lanes() {
    let items: Vec<Item> = (0..400)
        .map(|i| event(i, &format!("p{}", i % 13), 10))
        .collect();
    let t = RecordingTransport::new();
    let (report, _) = run(items, &settings(Mode::Batch, 8, 475_000, 7), &t);
    assert_eq!(report.stats.accepted, 400);
    let mut last: HashMap<String, u64> = HashMap::new();
    for op in t.requests().iter().flat_map(ops_of) {
        let person = op["identifiers"]["id"].to_string();
        let seq = op["attributes"]["seq"].as_u64().unwrap_or(0);
        if let Some(prev) = last.insert(person, seq) {
            assert!(prev < seq, "{prev} then {seq}");
        }
    }
}

#[test]
fn sequential_mode_sends_one_entity_request_per_operation_in_order() {
    let mut items: Vec<Item> = (0..20).map(|i| event(i, &format!("p{i}"), 5)).collect();
    items.push(item(
        20,
        Action::ReportDeliveryEvent,
        json!({"delivery_id":"d","metric":"opened","attributes":{"seq":20}}),
    ));
    let t = RecordingTransport::new();
    let (report, _) = run(items, &settings(Mode::Sequential, 8, 475_000, 100), &t);
    let requests = t.requests();
    assert_eq!(requests.len(), 21);
    assert!(
        requests[..20]
            .iter()
            .all(|r| r.endpoint == Endpoint::Entity)
    );
    assert_eq!(requests[20].endpoint, Endpoint::Metrics);
    assert_eq!(seqs(&requests), (0..21).collect::<Vec<_>>());
    assert_eq!(report.stats.requests, 21);
}

#[test]
fn metrics_go_singly_in_batch_mode() {
    let items = vec![
        event(0, "a", 1),
        item(
            1,
            Action::ReportDeliveryEvent,
            json!({"delivery_id":"d","metric":"clicked"}),
        ),
        event(2, "a", 1),
    ];
    let t = RecordingTransport::new();
    let (report, _) = run(items, &settings(Mode::Batch, 1, 475_000, 100), &t);
    let endpoints: Vec<Endpoint> = t.requests().iter().map(|r| r.endpoint).collect();
    assert!(endpoints.contains(&Endpoint::Metrics));
    assert_eq!(report.stats.accepted, 3);
}

#[test]
fn a_whole_batch_400_is_bisected_to_the_bad_operations() {
    let items: Vec<Item> = (0..10).map(|i| event(i, "p", 1)).collect();
    // Any request containing seq 3 or seq 7 is refused whole.
    let t = RecordingTransport::new().respond_with(|_, body| {
        let text = String::from_utf8_lossy(body);
        let bad = text.contains("\"seq\":3,") || text.contains("\"seq\":7,");
        bad.then(|| {
            Ok(Reply::new(
                400,
                r#"{"errors":[{"reason":"invalid","message":"bad thing"}]}"#,
            ))
        })
    });
    let (report, hooks) = run(items, &settings(Mode::Batch, 1, 475_000, 100), &t);
    assert_eq!(report.stats.accepted, 8);
    assert_eq!(report.stats.rejected, 2);
    let rejected: Vec<u64> = hooks
        .settled
        .iter()
        .filter(|s| s.result.stage() == Some("rejected"))
        .map(|s| s.record.index)
        .collect();
    assert_eq!(rejected, vec![3, 7]);
    assert!(
        hooks
            .settled
            .iter()
            .any(|s| s.result.reason().contains("bad thing"))
    );
    // Accepted operations were accepted exactly once.
    let accepted_bodies = t
        .requests()
        .iter()
        .filter(|r| {
            let text = String::from_utf8_lossy(&r.body);
            !(text.contains("\"seq\":3,") || text.contains("\"seq\":7,"))
        })
        .flat_map(ops_of)
        .count();
    assert_eq!(accepted_bodies, 8);
}

#[test]
fn a_207_rejects_only_the_listed_operations() {
    let items: Vec<Item> = (0..5).map(|i| event(i, "p", 1)).collect();
    let t = RecordingTransport::new().script([Ok(Reply::new(
        207,
        r#"{"errors":[{"batch_index":1,"reason":"invalid","field":"name","message":"too long"},
                      {"batch_index":4,"message":"nope"},{"batch_index":99,"message":"x"},{"message":"y"}]}"#,
    ))]);
    let (report, hooks) = run(items, &settings(Mode::Batch, 1, 475_000, 100), &t);
    assert_eq!(t.requests().len(), 1);
    assert_eq!(report.stats.accepted, 3);
    assert_eq!(report.stats.rejected, 2);
    assert_eq!(report.stats.ignored_errors, 2);
    let rejected: Vec<(u64, String)> = hooks
        .settled
        .iter()
        .filter(|s| s.result.stage() == Some("rejected"))
        .map(|s| (s.record.index, s.result.reason().to_string()))
        .collect();
    assert_eq!(
        rejected,
        vec![
            (1, "name: too long (invalid)".to_string()),
            (4, "nope".to_string())
        ]
    );
    assert!(hooks.settled.iter().all(|s| s.result.status() != Some(200)));
}

#[test]
fn retryable_failures_are_retried_then_given_up() {
    let items = vec![event(0, "p", 1)];
    let t = RecordingTransport::new().script([
        Ok(Reply::new(503, "")),
        Err(TransportError::Timeout("slow".into())),
        Ok(Reply {
            status: 429,
            body: String::new(),
            retry_after: Some(Duration::from_millis(10)),
        }),
        Ok(Reply::new(200, "{}")),
    ]);
    let (report, _) = run(items, &settings(Mode::Batch, 1, 475_000, 100), &t);
    assert_eq!(report.stats.accepted, 1);
    assert_eq!(report.stats.retries, 3);
    assert_eq!(report.stats.throttled, 1);
    assert_eq!(report.stats.requests, 4);

    let mut s = settings(Mode::Batch, 1, 475_000, 100);
    s.retries = 1;
    let t = RecordingTransport::new().respond_with(|_, _| Some(Ok(Reply::new(500, "boom"))));
    let (report, hooks) = run(vec![event(0, "p", 1)], &s, &t);
    assert_eq!(t.requests().len(), 2);
    assert_eq!(report.stats.failed, 1);
    assert_eq!(hooks.settled[0].result.status(), Some(500));
    assert_eq!(hooks.settled[0].result.stage(), Some("failed"));

    s.retries = 0;
    let t = RecordingTransport::new().respond_with(|_, _| Some(Ok(Reply::new(404, ""))));
    let (report, _) = run(vec![event(0, "p", 1)], &s, &t);
    assert_eq!((t.requests().len(), report.stats.rejected), (1, 1));
}

#[test]
fn a_401_halts_the_run_and_leaves_records_unsettled() {
    let items: Vec<Item> = (0..500).map(|i| event(i, &format!("p{i}"), 1)).collect();
    let t = RecordingTransport::new().respond_with(|_, _| Some(Ok(Reply::new(401, ""))));
    let (report, hooks) = run(items, &settings(Mode::Batch, 4, 475_000, 10), &t);
    let halt = report.halted.unwrap_or_else(|| panic!("not halted"));
    assert_eq!(halt.exit, crate::exit::Exit::Auth);
    assert!(hooks.settled.is_empty());
    assert!(report.stats.records < 500, "kept reading after the 401");
    assert_eq!(report.stats.unsent, report.stats.records);
    assert!(t.requests().len() <= 4);
    assert_eq!(report.watermarks, vec![(0, 0)]);
}

#[test]
fn invalid_and_skipped_records_settle_without_requests() {
    let mut bad = event(1, "p", 1);
    bad.outcome = Outcome::Invalid(Invalid {
        action: Some(Action::TrackEvent),
        field: Some("event".into()),
        message: "no name".into(),
    });
    let mut skip = event(2, "p", 1);
    skip.outcome = Outcome::Skipped {
        action: Some(Action::CreateUpdatePerson),
        reason: "anonymous".into(),
    };
    let t = RecordingTransport::new();
    let (report, hooks) = run(
        vec![event(0, "p", 1), bad, skip],
        &settings(Mode::Batch, 2, 475_000, 100),
        &t,
    );
    assert_eq!(
        (
            report.stats.accepted,
            report.stats.invalid,
            report.stats.skipped
        ),
        (1, 1, 1)
    );
    assert_eq!(t.requests().len(), 1);
    assert!(
        hooks
            .settled
            .iter()
            .any(|s| s.result.reason() == "event: no name")
    );
    assert_eq!(hooks.watermarks.last(), Some(&(0, 3)));
}

#[test]
fn merges_are_ordered_against_their_two_people_only() {
    let merge_of = |j: usize| json!({"type":"person","action":"merge","primary":{"id":format!("p{j}")},"secondary":{"id":"q"}});
    let j = 1;
    let people = [format!("p{j}"), "q".to_string(), "r".into(), "s".into()];
    let mut items: Vec<Item> = (0..50)
        .map(|i| event(i, &people[i as usize % 4], 1))
        .collect();
    let mut merge = merge_of(j);
    merge["attributes"] = json!({"seq": 50});
    items.push(item(50, Action::MergePeople, merge));
    items.extend((51..100).map(|i| event(i, &people[i as usize % 4], 1)));
    let t = RecordingTransport::new();
    let (report, _) = run(items, &settings(Mode::Batch, 4, 475_000, 100), &t);
    assert_eq!(report.stats.accepted, 100);
    let requests = t.requests();
    let at = requests
        .iter()
        .position(|r| seqs(std::slice::from_ref(r)).contains(&50))
        .unwrap_or(0);
    // Everything of p1 and q read before the merge went in an earlier request or earlier in the
    // merge's own; everything read after it, in a later request.
    let merged = |op: &Value| {
        let id = op["identifiers"]["id"].as_str().unwrap_or("");
        id == "p1" || id == "q"
    };
    for (n, r) in requests.iter().enumerate() {
        let ops = ops_of(r);
        let pos50 = ops.iter().position(|op| op["attributes"]["seq"] == 50);
        for (k, op) in ops.iter().enumerate().filter(|(_, op)| merged(op)) {
            let seq = op["attributes"]["seq"].as_u64().unwrap_or(0);
            let before = n < at || (n == at && pos50.is_some_and(|p| k < p));
            assert_eq!(before, seq < 50, "seq {seq} in request {n}, merge in {at}");
        }
    }
}

#[test]
fn oversized_operations_are_dead_lettered_not_sent() {
    let items = vec![event(0, "p", 33_000), event(1, "p", 1)];
    let t = RecordingTransport::new();
    let (report, hooks) = run(items, &settings(Mode::Batch, 1, 475_000, 100), &t);
    assert_eq!((report.stats.rejected, report.stats.accepted), (1, 1));
    assert_eq!(hooks.settled[0].result.status(), None);
    assert_eq!(seqs(&t.requests()), vec![1]);
}

#[test]
fn every_entity_sees_its_operations_in_input_order_with_spanning_relationships() {
    let mut items = Vec::new();
    for i in 0..300u64 {
        let person = format!("p{}", i % 11);
        let object = format!("o{}", i % 5);
        let body = match i % 3 {
            0 => json!({"type":"person","action":"event","identifiers":{"id":person},"name":"e",
                        "attributes":{"seq":i}}),
            1 => json!({"type":"object","action":"identify",
                        "identifiers":{"object_type_id":"1","object_id":object},"attributes":{"seq":i}}),
            _ => json!({"type":"person","action":"add_relationships","identifiers":{"id":person},
                        "cio_relationships":[{"identifiers":{"object_type_id":"1","object_id":object}}],
                        "attributes":{"seq":i}}),
        };
        items.push(item(i, Action::CreateUpdateObject, body));
    }
    let t = RecordingTransport::new();
    let (report, _) = run(items, &settings(Mode::Batch, 6, 475_000, 9), &t);
    assert_eq!(report.stats.accepted, 300);
    let mut last: HashMap<String, u64> = HashMap::new();
    for op in t.requests().iter().flat_map(ops_of) {
        let seq = op["attributes"]["seq"].as_u64().unwrap_or(0);
        for key in lanes::keys(&op) {
            if let Some(prev) = last.insert(key.clone(), seq) {
                assert!(prev < seq, "{key}: {prev} then {seq}");
            }
        }
    }
}

#[test]
fn ctrl_c_ends_a_long_retry_wait_and_leaves_the_operation_unsent() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let t = RecordingTransport::new().respond_with(|_, _| {
        Some(Ok(Reply {
            status: 429,
            body: String::new(),
            retry_after: Some(Duration::from_secs(300)),
        }))
    });
    let stop = AtomicBool::new(false);
    let mut hooks = Collect::default();
    let s = settings(Mode::Batch, 1, 475_000, 100);
    let report = std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(200));
            stop.store(true, Ordering::SeqCst);
        });
        deliver(
            vec![event(0, "p", 1)].into_iter(),
            &s,
            &t,
            &mut hooks,
            &stop,
        )
        .unwrap_or_else(|e| panic!("{e}"))
    });
    assert_eq!(t.requests().len(), 1, "no second attempt after the stop");
    assert!(
        hooks.settled.is_empty(),
        "nothing settled: a resume sends it"
    );
    assert_eq!(report.stats.unsent, 1);
}

#[test]
fn relationship_changes_ride_in_the_batch_of_their_busy_object_at_any_concurrency() {
    // One object, busy from the first operation on, and 30 people each added to it and then
    // sending an event: every operation joins the object's lane, so with a linger longer than the
    // run one request carries them all, in input order.
    let object = json!({"object_type_id":"1","object_id":"acct"});
    let mut items = vec![item(
        0,
        Action::CreateUpdateObject,
        json!({"type":"object","action":"identify","identifiers":object,"attributes":{"seq":0}}),
    )];
    for p in 0..30u64 {
        let seq = 1 + 2 * p;
        items.push(item(
            seq,
            Action::CreateUpdatePerson,
            json!({"type":"person","action":"add_relationships","identifiers":{"id":format!("p{p}")},
                   "cio_relationships":[{"identifiers":object}],"attributes":{"seq":seq}}),
        ));
        items.push(event(seq + 1, &format!("p{p}"), 1));
    }
    for lanes in [1, 2, 4, 8] {
        let mut s = settings(Mode::Batch, lanes, 475_000, 100);
        s.linger = Duration::from_secs(60);
        let t = RecordingTransport::new();
        let (report, _) = run(items.clone(), &s, &t);
        assert_eq!(report.stats.accepted, 61);
        assert_eq!(t.requests().len(), 1, "at concurrency {lanes}");
        assert_eq!(seqs(&t.requests()), (0..61).collect::<Vec<_>>());
    }
}

#[test]
fn a_merge_of_two_busy_people_on_different_lanes_is_ordered_against_both() {
    // Two people busy on different lanes: the merge spans them, and their later events follow it.
    let (a, b) = (0..)
        .map(|i| format!("b{i}"))
        .map(|b| ("a".to_string(), b))
        .find(|(a, b)| {
            let lane = |id: &str| {
                lanes::lane_of(lanes::hash_key(&format!("person|{{\"id\":\"{id}\"}}")), 4)
            };
            lane(a) != lane(b)
        })
        .unwrap_or_default();
    let mut items = Vec::new();
    for i in 0..20u64 {
        items.push(event(i, if i % 2 == 0 { &a } else { &b }, 1));
    }
    items.push(item(
        20,
        Action::MergePeople,
        json!({"type":"person","action":"merge","primary":{"id":a},"secondary":{"id":b},
               "attributes":{"seq":20}}),
    ));
    for i in 21..40u64 {
        items.push(event(i, if i % 2 == 0 { &a } else { &b }, 1));
    }
    let mut s = settings(Mode::Batch, 4, 475_000, 100);
    s.linger = Duration::from_secs(60);
    let t = RecordingTransport::new();
    let (report, _) = run(items, &s, &t);
    assert_eq!(report.stats.accepted, 40);
    let requests = t.requests();
    let order = seqs(&requests);
    assert_eq!(order.len(), 40);
    let at = order.iter().position(|s| *s == 20).unwrap_or(0);
    assert!(order[..at].iter().all(|s| *s < 20), "{order:?}");
    assert!(order[at..].iter().all(|s| *s >= 20), "{order:?}");
    // The merge's lane sends the merge with its own person's earlier events; the other lane's
    // batch goes first; the later events of both follow the merge in the lead's batch.
    assert!(requests.len() <= 3, "{} requests", requests.len());
}

#[test]
fn an_unreadable_207_is_retried_until_a_readable_answer() {
    let items: Vec<Item> = (0..4).map(|i| event(i, "p", 1)).collect();
    let cut = TransportError::Unreadable {
        status: 207,
        retry_after: None,
        why: transport::BodyError::Cut("connection reset".into()),
    };
    let t = RecordingTransport::new().script([
        Ok(Reply::new(207, "<html>Multi-Status</html>")),
        Err(cut),
        Ok(Reply::new(207, r#"{"meta":{"error":"partial"}}"#)),
        Ok(Reply::new(
            207,
            r#"{"errors":[{"batch_index":2,"message":"nope"}]}"#,
        )),
    ]);
    let (report, hooks) = run(items, &settings(Mode::Batch, 1, 475_000, 100), &t);
    assert_eq!(t.requests().len(), 4);
    assert_eq!(report.stats.retries, 3);
    assert_eq!((report.stats.accepted, report.stats.rejected), (3, 1));
    let rejected: Vec<u64> = hooks
        .settled
        .iter()
        .filter(|s| s.result.stage() == Some("rejected"))
        .map(|s| s.record.index)
        .collect();
    assert_eq!(rejected, vec![2]);
}

#[test]
fn a_207_that_stays_unreadable_fails_every_operation_with_the_reason() {
    let mut s = settings(Mode::Batch, 1, 475_000, 100);
    s.retries = 1;
    let t = RecordingTransport::new().respond_with(|_, _| {
        Some(Err(TransportError::Unreadable {
            status: 207,
            retry_after: None,
            why: transport::BodyError::TooLarge(transport::READ_LIMIT),
        }))
    });
    let items: Vec<Item> = (0..3).map(|i| event(i, "p", 1)).collect();
    let (report, hooks) = run(items, &s, &t);
    assert_eq!(t.requests().len(), 2);
    assert_eq!((report.stats.accepted, report.stats.failed), (0, 3));
    for settled in &hooks.settled {
        assert_eq!(settled.result.stage(), Some("failed"));
        assert_eq!(settled.result.status(), Some(207));
        assert_eq!(
            settled.result.reason(),
            "gave up after 2 attempts: 207 with an unreadable body: larger than the \
             1048576-byte read limit"
        );
    }
}

#[test]
fn unreadable_bodies_of_other_statuses_keep_their_status_meaning() {
    let unreadable = |status| {
        Err(TransportError::Unreadable {
            status,
            retry_after: None,
            why: transport::BodyError::NotUtf8,
        })
    };
    // A 200 says it all; a 422 is a rejection, its reason says the body was unreadable.
    let t = RecordingTransport::new().script([unreadable(200)]);
    let (report, _) = run(
        vec![event(0, "p", 1)],
        &settings(Mode::Batch, 1, 475_000, 100),
        &t,
    );
    assert_eq!((report.stats.accepted, report.stats.retries), (1, 0));
    let t = RecordingTransport::new().script([unreadable(422)]);
    let (report, hooks) = run(
        vec![event(0, "p", 1)],
        &settings(Mode::Sequential, 1, 475_000, 100),
        &t,
    );
    assert_eq!(report.stats.rejected, 1);
    assert_eq!(
        hooks.settled[0].result.reason(),
        "HTTP 422 with an unreadable body: not UTF-8 text"
    );
}
