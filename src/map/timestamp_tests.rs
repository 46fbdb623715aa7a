//! Unit tests of the timestamp rules: the ISO gate table of segment-destination.md §6.2 and the
//! root forms of mapping.md §7a.

use super::*;
use serde_json::json;

fn root(v: Value) -> Result<Option<i64>, TimestampError> {
    parse_root(&v).map(|t| t.map(|t| t.seconds))
}

#[test]
fn gate_converts_the_iso_forms() {
    for (s, want) in [
        ("2019-02-01", 1548979200),
        ("2006-01-02T18:04:07", 1136225047),
        ("2006-01-02T18:04:07Z", 1136225047),
        ("2006-01-02T18:04:07+01:00", 1136221447),
        ("2006-01-02T15:04:05.007-0800", 1136243045),
        ("2024-05-01T12:34Z", 1714566840),
        ("2023-12-25T14:30:45.1", 1703514645),
        ("2023-12-25T14:30:45.123456789", 1703514645),
        ("2023-12-25T14:30:45.123456789-08:00", 1703543445),
        ("2023-12-25T14:30", 1703514600),
        ("1969-12-31T23:59:59.5Z", -1),
    ] {
        assert_eq!(iso_attribute_seconds(s), Some(want), "{s}");
    }
}

#[test]
fn gate_keeps_everything_else_a_string() {
    for s in [
        "25 Mar 2015",
        "Mar 25 2015",
        "01/01/2019",
        "15/MAR/18",
        "11-Jan-18",
        "2018-03-04T12:08:56 PDT",
        "2024-05-01 12:34:56",
        "2023-12-25T14:30:45.1234567890",
        "2023-12-25T14:30:45+05",
        "2023-12-25t14:30:45Z",
        "2023-12-25T14:30:45.123z",
        "2023-13-25",
        "2023-12-32",
        "2023-12-25T25:30:45",
        "2023-02-30",
        "2023-12-25T24:00:00",
        "20231225",
        "+002023-12-25",
        "2024-5-1",
        "1714566896",
        "",
        "invalid-date",
        "2023-12-25T14:30:45.",
        "2023-12-25T14:30:45Zjunk",
        "２０２３-12-25",
    ] {
        assert_eq!(iso_attribute_seconds(s), None, "{s}");
    }
}

#[test]
fn root_accepts_the_documented_forms() {
    for (v, want) in [
        (json!("2024-05-01T12:34:56.789Z"), 1714566896),
        (json!("2024-05-01"), 1714521600),
        (json!("2024-05-01 12:34:56"), 1714566896),
        (json!("2024-05-01t12:34:56z"), 1714566896),
        (json!("2024-05-01T12:34"), 1714566840),
        (json!("2024-05-01T14:34:56+02"), 1714566896),
        (json!("2024-05-01T14:34:56+0200"), 1714566896),
        (json!("2024-05-01T14:34:56+02:00"), 1714566896),
        (json!("2024-05-01T12:34:56,999"), 1714566896),
        (json!("2024-05-01T12:34:56.123456789123Z"), 1714566896),
        (json!("Wed, 01 May 2024 12:34:56 GMT"), 1714566896),
        (json!("Wed, 01 May 2024 14:34:56 +0200"), 1714566896),
        (json!(1714566896), 1714566896),
        (json!(1714566896.9), 1714566896),
        (json!(1714566896789u64), 1714566896),
        (json!("1714566896"), 1714566896),
        (json!("1714566896.5"), 1714566896),
        (json!("1714566896789"), 1714566896),
        (json!("9999-12-31T23:59:59Z"), 253402300799),
        (json!(0), 0),
    ] {
        assert_eq!(root(v.clone()).unwrap(), Some(want), "{v}");
    }
}

#[test]
fn root_reports_milliseconds() {
    let t = parse_root(&json!(1714566896789u64)).unwrap().unwrap();
    assert!(t.was_millis);
    let t = parse_root(&json!(1714566896)).unwrap().unwrap();
    assert!(!t.was_millis);
}

#[test]
fn root_missing_forms() {
    assert_eq!(root(json!(null)).unwrap(), None);
    assert_eq!(root(json!("")).unwrap(), None);
}

#[test]
fn root_rejects_the_rest() {
    for v in [
        json!("2024-5-1"),
        json!("2024/05/01"),
        json!("2024-13-01"),
        json!("2024-02-30"),
        json!("2024-05-01T24:00:00"),
        json!("2018-03-04T12:08:56.235 PDT"),
        json!("not a date"),
        json!("-1"),
        json!(true),
        json!([1]),
        json!({"a": 1}),
        json!("1714566896."),
        json!("2024-05-01T12:34:56+2"),
    ] {
        assert!(
            matches!(root(v.clone()), Err(TimestampError::Unparseable { .. })),
            "{v}"
        );
    }
}

#[test]
fn root_range_is_checked() {
    let e = root(json!(-1)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "timestamp -1 is before 1970-01-01 (-1 Unix seconds): a time must lie between \
         1970-01-01 and 9999-12-31 (0 to 253402300799 Unix seconds)"
    );
    let e = root(json!(253402300800000u64)).unwrap_err();
    assert!(matches!(
        e,
        TimestampError::AfterMax {
            seconds: 253402300800,
            ..
        }
    ));
    assert!(root(json!(1e300)).is_err());
    assert!(root(json!("99999999999999999999999999999999999999999")).is_err());
    assert!(root(json!("1969-12-31T23:59:59Z")).is_err());
}

#[test]
fn attribute_walk_enters_objects_not_arrays() {
    let mut m = json!({
        "a": "2024-05-01T12:34:56Z",
        "n": {"d": "2024-05-01"},
        "arr": ["2024-05-01"],
        "s": "2024-05-01 12:34:56",
        "x": 5
    });
    convert_attributes(m.as_object_mut().unwrap());
    assert_eq!(
        m,
        json!({"a": 1714566896, "n": {"d": 1714521600}, "arr": ["2024-05-01"],
               "s": "2024-05-01 12:34:56", "x": 5})
    );
}

#[test]
fn created_at_numbers() {
    assert_eq!(created_at_number(json!(1714566896)), json!(1714566896));
    assert_eq!(
        created_at_number(json!(1714566896789u64)),
        json!(1714566896)
    );
    assert_eq!(created_at_number(json!(1714566896.7)), json!(1714566896));
    assert_eq!(created_at_number(json!("x")), json!("x"));
}
