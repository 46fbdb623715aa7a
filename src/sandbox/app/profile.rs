//! A person as the App API shows them: the profile object of `getPersonAttributes` and
//! `getPeopleById` (`id`, `identifiers`, string-valued `attributes`, `timestamps`, `unsubscribed`,
//! `devices`), built from the workspace.

use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::super::workspace::{Device, Profile, cio_id};

/// The attribute shown as the profile-level `unsubscribed` flag rather than among `attributes`.
const UNSUBSCRIBED: &str = "unsubscribed";

/// The profile of person `key`, looked up as `asked` (shown as its `id`).
pub(crate) fn profile(asked: &str, key: u64, person: &Profile) -> Value {
    let cio = cio_id(key);
    let mut attributes = Map::new();
    let mut timestamps = Map::new();
    let mut unsubscribed = false;
    for (name, raw, at) in person.attributes.entries() {
        timestamps.insert(name.to_string(), json!(at));
        if name == UNSUBSCRIBED {
            unsubscribed = truthy(raw);
        } else {
            attributes.insert(name.to_string(), Value::String(as_text(raw)));
        }
    }
    // What the sandbox fills in: the identifiers, dated when the person was created unless the
    // attribute itself was sent. `id` and `cio_id` are always the person's identifiers; `email`
    // and `phone` are the attribute as sent (its case kept), else the identifier.
    let mut fill = |name: &str, value: &str, replace: bool| {
        if replace || !attributes.contains_key(name) {
            attributes.insert(name.to_string(), json!(value));
            timestamps
                .entry(name.to_string())
                .or_insert(json!(person.created_at));
        }
    };
    if let Some(id) = &person.id {
        fill("id", id, true);
    }
    if let Some(email) = &person.email {
        fill("email", email, false);
    }
    if let Some(phone) = &person.phone {
        fill("phone", phone, false);
    }
    fill("cio_id", &cio, true);
    json!({
        "id": asked,
        "identifiers": {"email": person.email, "id": person.id, "cio_id": cio},
        "attributes": attributes,
        "timestamps": timestamps,
        "unsubscribed": unsubscribed,
        "devices": person.devices.iter().map(|(token, d)| device(token, d)).collect::<Vec<_>>(),
    })
}

/// A device as the App API shows it: the token as `id`, `last_used` as sent (else when it was
/// stored), its attributes as strings.
fn device(token: &str, device: &Device) -> Value {
    let sent: Value = serde_json::from_str(device.raw.get()).unwrap_or(Value::Null);
    let last_used = sent
        .get("last_used")
        .and_then(Value::as_u64)
        .unwrap_or(device.stored_at);
    let attributes: Map<String, Value> = sent
        .get("attributes")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(_, value)| !value.is_null())
        .map(|(name, value)| (name.clone(), Value::String(value_text(value))))
        .collect();
    json!({
        "id": token,
        "platform": sent.get("platform"),
        "last_used": last_used,
        "attributes": attributes,
    })
}

/// An attribute as the App API stores it: a string as itself, anything else as its compact JSON
/// text (`42`, `true`, `[1,2]`, `{"a":1}`).
fn as_text(raw: &RawValue) -> String {
    match serde_json::from_str::<Value>(raw.get()) {
        Ok(Value::String(text)) => text,
        _ => raw.get().to_string(),
    }
}

fn value_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Customer.io's truthy values for `unsubscribed`: `true`, `1`, `"true"` (any case), `"1"`.
fn truthy(raw: &RawValue) -> bool {
    match serde_json::from_str::<Value>(raw.get()) {
        Ok(Value::Bool(b)) => b,
        Ok(Value::Number(n)) => n.as_u64() == Some(1),
        Ok(Value::String(s)) => s.eq_ignore_ascii_case("true") || s == "1",
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::value::to_raw_value;

    fn person() -> Profile {
        let mut p = Profile {
            id: Some("u1".into()),
            email: Some("ann@example.com".into()),
            created_at: 100,
            ..Profile::default()
        };
        p.attributes.set("email", &json!("Ann@Example.com"), 150);
        p.attributes.set("plan", &json!("pro"), 200);
        p.attributes.set("seats", &json!(3), 200);
        p.attributes.set("beta", &json!(true), 200);
        p.attributes.set("tags", &json!(["a", "b"]), 200);
        p.attributes.set("unsubscribed", &json!("1"), 300);
        p
    }

    #[test]
    fn attributes_are_strings_and_identifiers_are_filled_in() {
        let got = profile("u1", 10, &person());
        assert_eq!(
            got,
            json!({
                "id": "u1",
                "identifiers": {"email": "ann@example.com", "id": "u1", "cio_id": "0000000a"},
                "attributes": {"email": "Ann@Example.com", "plan": "pro", "seats": "3",
                               "beta": "true", "tags": "[\"a\",\"b\"]", "id": "u1",
                               "cio_id": "0000000a"},
                "timestamps": {"email": 150, "plan": 200, "seats": 200, "beta": 200, "tags": 200,
                               "unsubscribed": 300, "id": 100, "cio_id": 100},
                "unsubscribed": true,
                "devices": [],
            })
        );
    }

    #[test]
    fn a_person_without_id_or_email_shows_nulls() {
        let p = Profile {
            phone: Some("+4930123".into()),
            created_at: 5,
            ..Profile::default()
        };
        let got = profile("00000001", 1, &p);
        assert_eq!(
            got["identifiers"],
            json!({"email": null, "id": null, "cio_id": "00000001"})
        );
        assert_eq!(
            got["attributes"],
            json!({"phone": "+4930123", "cio_id": "00000001"})
        );
        assert_eq!(got["unsubscribed"], false);
    }

    #[test]
    fn devices_show_the_token_as_id_and_string_attributes() {
        let mut p = person();
        for (token, sent, stored_at) in [
            (
                "t1",
                json!({"token": "t1", "platform": "ios", "last_used": 1_700_000_000,
                       "attributes": {"push_enabled": false, "app_version": "2.1", "gone": null}}),
                5,
            ),
            ("t2", json!({"token": "t2", "platform": "android"}), 6),
        ] {
            let raw = to_raw_value(&sent).expect("json");
            p.devices.insert(token.into(), Device { raw, stored_at });
        }
        let got = profile("u1", 10, &p);
        assert_eq!(
            got["devices"],
            json!([
                {"id": "t1", "platform": "ios", "last_used": 1_700_000_000,
                 "attributes": {"push_enabled": "false", "app_version": "2.1"}},
                {"id": "t2", "platform": "android", "last_used": 6, "attributes": {}},
            ])
        );
    }

    #[test]
    fn truthy_values() {
        for (value, want) in [
            (json!(true), true),
            (json!("TRUE"), true),
            (json!("1"), true),
            (json!(1), true),
            (json!(false), false),
            (json!("0"), false),
            (json!("yes"), false),
            (json!(0), false),
        ] {
            let raw = to_raw_value(&value).expect("json");
            assert_eq!(truthy(&raw), want, "{value}");
        }
    }
}
