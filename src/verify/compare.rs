//! One person's expected state against the profile the App API returned: the differences, each
//! one NDJSON line. Only what the input set is compared; attributes Customer.io sets itself
//! (`cio_id`, names starting with `_` such as `_last_updated`) and `anonymous_id` (consumed to
//! merge anonymous activity) are not; `id` is compared with the profile's identifier, `email`
//! without regard to case, `unsubscribed` with the profile-level flag.

use serde_json::{Value, json};

use super::expect::{Expected, ExpectedDevice, Presence};
use super::key::PersonKey;
use super::stored;

/// What differs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Difference {
    /// Expected in the workspace, not found.
    Missing,
    /// Deleted, suppressed or merged away by the input, still found.
    Unexpected { why: Presence },
    /// An attribute's stored value; `expected` null means it should be absent, `actual` null
    /// that it is.
    Attribute {
        name: String,
        expected: Value,
        actual: Value,
    },
    /// A device: `field` is `present` (added but absent, or deleted but there), `platform`, or
    /// an attribute's name.
    Device {
        token: String,
        field: String,
        expected: Value,
        actual: Value,
    },
}

impl Difference {
    /// `missing`, `unexpected`, `attribute` or `device`.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Difference::Missing => "missing",
            Difference::Unexpected { .. } => "unexpected",
            Difference::Attribute { .. } => "attribute",
            Difference::Device { .. } => "device",
        }
    }

    /// The NDJSON line (without its newline).
    pub(crate) fn to_json(&self, person: &PersonKey) -> Value {
        let mut line = json!({"difference": self.kind(), "person": person.to_json()});
        match self {
            Difference::Missing => {}
            Difference::Unexpected { why } => {
                line["expected"] = json!(match why {
                    Presence::Suppressed => "absent (suppressed)",
                    _ => "absent (deleted or merged away)",
                });
            }
            Difference::Attribute {
                name,
                expected,
                actual,
            } => {
                line["name"] = json!(name);
                line["expected"] = expected.clone();
                line["actual"] = actual.clone();
            }
            Difference::Device {
                token,
                field,
                expected,
                actual,
            } => {
                line["token"] = json!(token);
                line["name"] = json!(field);
                line["expected"] = expected.clone();
                line["actual"] = actual.clone();
            }
        }
        line
    }
}

/// Attribute names never compared: set by Customer.io itself, or consumed rather than stored.
fn ignored(name: &str) -> bool {
    name.starts_with('_') || name == "cio_id" || name == "anonymous_id"
}

/// The differences between `expected` and the `actual` profile (`None`: not found).
pub(crate) fn compare(expected: &Expected, actual: Option<&Value>) -> Vec<Difference> {
    match (expected.presence, actual) {
        (Presence::Present, None) => vec![Difference::Missing],
        (Presence::Unknown, None) => Vec::new(),
        (Presence::Deleted | Presence::Suppressed, None) => Vec::new(),
        (why @ (Presence::Deleted | Presence::Suppressed), Some(_)) => {
            vec![Difference::Unexpected { why }]
        }
        (Presence::Present | Presence::Unknown, Some(profile)) => {
            let mut out = attributes(expected, profile);
            out.extend(devices(expected, profile));
            out
        }
    }
}

fn attributes(expected: &Expected, profile: &Value) -> Vec<Difference> {
    let stored = profile.get("attributes");
    let mut out = Vec::new();
    for (name, want) in &expected.attributes {
        if ignored(name) {
            continue;
        }
        let differs = |actual: Value| Difference::Attribute {
            name: name.clone(),
            expected: want.clone().unwrap_or(Value::Null),
            actual,
        };
        if name == "unsubscribed" {
            let want_flag = want.as_ref().is_some_and(stored::truthy);
            let flag = profile.get("unsubscribed").and_then(Value::as_bool);
            if flag.unwrap_or(false) != want_flag {
                out.push(differs(flag.map_or(Value::Null, Value::Bool)));
            }
            continue;
        }
        let actual = match name.as_str() {
            "id" => profile.pointer("/identifiers/id"),
            _ => stored.and_then(|a| a.get(name)),
        }
        .and_then(stored::text);
        let same = match (want, &actual) {
            (None, None) => true,
            (Some(Value::String(w)), Some(a)) if name == "email" => w.eq_ignore_ascii_case(a),
            (Some(w), Some(a)) => stored::matches(w, a),
            _ => false,
        };
        if !same {
            out.push(differs(actual.map_or(Value::Null, Value::String)));
        }
    }
    out
}

fn devices(expected: &Expected, profile: &Value) -> Vec<Difference> {
    let held: Vec<&Value> = profile
        .get("devices")
        .and_then(Value::as_array)
        .map(|d| d.iter().collect())
        .unwrap_or_default();
    let find = |token: &str| {
        held.iter()
            .copied()
            .find(|d| d.get("id").and_then(Value::as_str) == Some(token))
    };
    let mut out = Vec::new();
    for (token, want) in &expected.devices {
        let differs = |field: &str, expected: Value, actual: Value| Difference::Device {
            token: token.clone(),
            field: field.to_string(),
            expected,
            actual,
        };
        match (want, find(token)) {
            (None, None) => {}
            (None, Some(_)) => out.push(differs("present", json!(false), json!(true))),
            (Some(_), None) => out.push(differs("present", json!(true), json!(false))),
            (Some(want), Some(got)) => out.extend(device(want, got, &differs)),
        }
    }
    out
}

fn device(
    want: &ExpectedDevice,
    got: &Value,
    differs: &dyn Fn(&str, Value, Value) -> Difference,
) -> Vec<Difference> {
    let mut out = Vec::new();
    if let Some(platform) = &want.platform {
        let actual = got.get("platform").and_then(Value::as_str);
        if !actual.is_some_and(|a| a.eq_ignore_ascii_case(platform)) {
            out.push(differs("platform", json!(platform), json!(actual)));
        }
    }
    let stored = got.get("attributes");
    for (name, value) in &want.attributes {
        if value.is_null() || name.starts_with('_') {
            continue;
        }
        let actual = stored.and_then(|a| a.get(name)).and_then(stored::text);
        if !actual.as_deref().is_some_and(|a| stored::matches(value, a)) {
            out.push(differs(name, value.clone(), json!(actual)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::track::{Action, Operation};
    use crate::verify::expect::Expectations;

    fn expected(ops: &[Value]) -> Expected {
        let mut e = Expectations::new(None);
        for body in ops {
            e.apply(&Operation::new(Action::CreateUpdatePerson, body.clone()));
        }
        let (mut people, _) = e.into_people();
        people.remove(0).1
    }

    fn profile(attributes: Value, devices: Value) -> Value {
        json!({"id": "u1", "identifiers": {"id": "u1", "email": "ann@x.io", "cio_id": "1"},
               "attributes": attributes, "unsubscribed": false, "devices": devices})
    }

    #[test]
    fn stored_strings_match_what_was_sent() {
        let e = expected(&[json!({"type": "person", "action": "identify",
            "identifiers": {"id": "u1"},
            "attributes": {"seats": 5, "vip": true, "email": "Ann@X.io", "plan": "pro",
                           "_last_updated": 1, "cio_id": "zz", "id": "u1", "gone": null,
                           "unsubscribed": "false"}})]);
        let got = profile(
            json!({"seats": "5", "vip": "true", "email": "ann@x.io", "plan": "pro", "id": "u1",
                   "cio_id": "1"}),
            json!([]),
        );
        assert_eq!(compare(&e, Some(&got)), Vec::new());
        let changed = profile(
            json!({"seats": "6", "vip": "true", "email": "ann@x.io", "plan": "pro",
                   "gone": "still"}),
            json!([]),
        );
        let diffs = compare(&e, Some(&changed));
        assert_eq!(
            diffs,
            vec![
                Difference::Attribute {
                    name: "gone".into(),
                    expected: Value::Null,
                    actual: json!("still")
                },
                Difference::Attribute {
                    name: "seats".into(),
                    expected: json!(5),
                    actual: json!("6")
                },
            ]
        );
        assert_eq!(compare(&e, None), vec![Difference::Missing]);
        assert_eq!(
            diffs[1].to_json(&PersonKey::new(super::super::key::IdKind::Id, "u1")),
            json!({"difference": "attribute", "person": {"id": "u1"}, "name": "seats",
                   "expected": 5, "actual": "6"})
        );
    }

    #[test]
    fn devices_and_the_absent() {
        let e = expected(&[
            json!({"type": "person", "action": "add_device", "identifiers": {"id": "u1"},
                   "device": {"token": "t1", "platform": "ios", "attributes": {"push_enabled": true}}}),
            json!({"type": "person", "action": "delete_device", "identifiers": {"id": "u1"},
                   "device": {"token": "t2"}}),
        ]);
        let got = profile(
            json!({}),
            json!([{"id": "t1", "platform": "ios", "attributes": {"push_enabled": "true"}}]),
        );
        assert_eq!(compare(&e, Some(&got)), Vec::new());
        let got = profile(
            json!({}),
            json!([{"id": "t1", "platform": "android", "attributes": {}},
                   {"id": "t2", "platform": "ios"}]),
        );
        let kinds: Vec<String> = compare(&e, Some(&got))
            .iter()
            .map(|d| match d {
                Difference::Device { token, field, .. } => format!("{token} {field}"),
                other => other.kind().to_string(),
            })
            .collect();
        assert_eq!(kinds, ["t1 platform", "t1 push_enabled", "t2 present"]);
        let gone =
            expected(&[json!({"type": "person", "action": "delete", "identifiers": {"id": "u1"}})]);
        assert_eq!(compare(&gone, None), Vec::new());
        assert_eq!(
            compare(&gone, Some(&got)),
            vec![Difference::Unexpected {
                why: Presence::Deleted
            }]
        );
    }
}
