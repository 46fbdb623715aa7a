//! Unit tests of the analyzer, with "now" chosen by the test.

use std::sync::Arc;

use serde_json::json;

use super::*;

const NOW: i64 = 1_750_000_000;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

fn loc(line: u64) -> Location {
    Location {
        part: None,
        file: Arc::from("in.ndjson"),
        line,
    }
}

fn op(action: Action) -> Operation {
    Operation::new(action, json!({}))
}

fn at(unix: i64) -> RecordTime {
    RecordTime::At {
        unix,
        millis: false,
    }
}

fn kinds(a: &Analyzer) -> Vec<&'static str> {
    a.warnings().iter().map(|w| w.kind).collect()
}

#[test]
fn old_events_raise_nothing() {
    let mut a = Analyzer::new(NOW);
    for i in 0..10 {
        a.observe(
            &loc(i + 1),
            0,
            &op(Action::TrackEvent),
            at(NOW - 30 * DAY + i as i64),
        );
    }
    assert!(a.warnings().is_empty(), "{:?}", a.warnings());
    assert_eq!(a.refusal(), None);
}

#[test]
fn recent_events_count_and_keep_five_locations() {
    let mut a = Analyzer::new(NOW);
    for i in 1..=7 {
        a.observe(
            &loc(i),
            0,
            &op(Action::TrackPageView),
            at(NOW - HOUR * i as i64),
        );
    }
    a.observe(&loc(8), 0, &op(Action::TrackEvent), at(NOW - 72 * HOUR));
    a.observe(&loc(9), 0, &op(Action::TrackEvent), at(NOW - 72 * HOUR + 1));
    // identify is not a campaign-triggering event, whatever its time
    a.observe(&loc(10), 0, &op(Action::CreateUpdatePerson), at(NOW - HOUR));
    let risk = a.campaign_risk();
    assert_eq!(risk.recent_events, 8);
    let w = &a.warnings()[0];
    assert_eq!(w.kind, "recent");
    assert_eq!(w.locations.len(), KEEP_LOCATIONS);
    assert_eq!(w.locations[0], "in.ndjson:1");
    let refusal = a.refusal().unwrap();
    assert!(
        refusal.contains("8 events are within the last 72 hours"),
        "{refusal}"
    );
    assert!(refusal.contains("in.ndjson:1, in.ndjson:2"), "{refusal}");
    assert!(refusal.contains("--allow-recent"), "{refusal}");
}

#[test]
fn untimed_events_gate_but_untimed_deletes_do_not() {
    let mut a = Analyzer::new(NOW);
    a.observe(
        &loc(1),
        0,
        &op(Action::TrackScreenView),
        RecordTime::Missing,
    );
    a.observe(&loc(2), 0, &op(Action::DeletePerson), RecordTime::Missing);
    a.observe(
        &loc(3),
        0,
        &op(Action::CreateUpdateObject),
        RecordTime::Unreadable,
    );
    assert_eq!(a.campaign_risk().untimed_events, 1);
    assert_eq!(kinds(&a), ["no-timestamp"]);
    assert!(a.refusal().unwrap().contains("1 event has no timestamp"));
    assert_eq!(a.report().without_timestamp, 3);
}

#[test]
fn future_and_millisecond_timestamps() {
    let mut a = Analyzer::new(NOW);
    a.observe(&loc(1), 0, &op(Action::CreateUpdateDevice), at(NOW + DAY));
    a.observe(
        &loc(2),
        0,
        &op(Action::CreateUpdatePerson),
        RecordTime::At {
            unix: NOW - 400 * DAY,
            millis: true,
        },
    );
    assert_eq!(kinds(&a), ["future-timestamp", "milliseconds"]);
    assert_eq!(a.refusal(), None, "devices and identify do not gate send");
    // a future event is not older than 72 hours: it gates
    a.observe(&loc(3), 0, &op(Action::TrackEvent), at(NOW + 1));
    assert_eq!(a.campaign_risk().recent_events, 1);
}

#[test]
fn same_second_per_file_with_more_than_one_record() {
    let mut a = Analyzer::new(NOW);
    let other = Location {
        part: None,
        file: Arc::from("b.ndjson"),
        line: 1,
    };
    a.observe(&loc(1), 0, &op(Action::TrackEvent), at(NOW - 10 * DAY));
    a.observe(&loc(2), 0, &op(Action::TrackEvent), RecordTime::Missing);
    a.observe(
        &loc(3),
        0,
        &op(Action::CreateUpdatePerson),
        at(NOW - 10 * DAY),
    );
    a.observe(&other, 1, &op(Action::TrackEvent), at(NOW - 20 * DAY));
    let same: Vec<Warning> = a
        .warnings()
        .into_iter()
        .filter(|w| w.kind == "same-second")
        .collect();
    assert_eq!(
        same.len(),
        1,
        "a file with one timestamped record is not flagged"
    );
    assert_eq!(same[0].count, 2);
    assert!(same[0].message.contains("in.ndjson"));
    a.observe(&loc(4), 0, &op(Action::TrackEvent), at(NOW - 10 * DAY + 1));
    assert!(!kinds(&a).contains(&"same-second"));
}

#[test]
fn future_created_at_on_identify() {
    let mut a = Analyzer::new(NOW);
    let person = |created: serde_json::Value| {
        Operation::new(
            Action::CreateUpdatePerson,
            json!({"type": "person", "attributes": {"created_at": created}}),
        )
    };
    a.observe(&loc(1), 0, &person(json!(NOW + DAY)), at(NOW - 10 * DAY));
    a.observe(&loc(2), 0, &person(json!(NOW - DAY)), at(NOW - 10 * DAY));
    a.observe(
        &loc(3),
        0,
        &person(json!("2999-01-01T00:00:00Z")),
        at(NOW - 10 * DAY),
    );
    a.observe(&loc(4), 0, &person(json!("soon")), at(NOW - 10 * DAY + 1));
    let w: Vec<Warning> = a.warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].kind, "future-created-at");
    assert_eq!(w[0].locations, ["in.ndjson:1", "in.ndjson:3"]);
}

#[test]
fn record_time_reads_the_root_timestamp() {
    assert_eq!(record_time(&json!({})), RecordTime::Missing);
    assert_eq!(
        record_time(&json!({"timestamp": null})),
        RecordTime::Missing
    );
    assert_eq!(
        record_time(&json!({"timestamp": "nope"})),
        RecordTime::Unreadable
    );
    assert_eq!(
        record_time(&json!({"timestamp": "2024-01-01T00:00:00Z"})),
        at(1_704_067_200)
    );
    assert_eq!(
        record_time(&json!({"timestamp": 1_704_067_200_123_i64})),
        RecordTime::At {
            unix: 1_704_067_200,
            millis: true
        }
    );
}

#[test]
fn report_json_has_range_risk_and_histogram() {
    let mut a = Analyzer::new(NOW);
    a.observe(&loc(1), 0, &op(Action::TrackEvent), at(1_704_067_200));
    a.observe(
        &loc(2),
        0,
        &op(Action::CreateUpdatePerson),
        at(1_706_745_600),
    );
    let v = serde_json::to_value(a.report()).unwrap();
    assert_eq!(v["time_range"]["first"], "2024-01-01T00:00:00Z");
    assert_eq!(v["time_range"]["last"], "2024-02-01T00:00:00Z");
    assert_eq!(v["campaign_risk"]["recent_events"], 0);
    assert_eq!(v["histogram"]["unit"], "day");
    assert_eq!(v["histogram"]["rows"].as_array().unwrap().len(), 32);
    assert_eq!(v["histogram"]["rows"][0]["by_family"]["event"], 1);
    assert_eq!(v["histogram"]["rows"][1]["total"], 0);
}
