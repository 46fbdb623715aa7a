//! The presets' programs written again in Rust, for speed: jaq spends about 2 µs on each key it
//! builds or deletes, the Rust about 50 ns. Each gives exactly what its jq text gives (member
//! order included: jaq's `del` swaps the last member into the deleted one's place), which
//! `transform::tests` checks on every fixture and on generated records.
//!
//! A native preset claims only the records it is sure of: one whose fields have unexpected types
//! (where jq could raise an error, or slice text by code points) is given back, and the jq program
//! runs on it, so errors and corner cases stay the jq program's own.

use serde_json::{Map, Value};

/// A preset in Rust: the records made of one, or the record given back for the jq program.
pub(crate) type Native = fn(Value) -> Result<Vec<Value>, Value>;

/// jq's truth: everything but `null` and `false`.
fn truthy(value: Option<&Value>) -> bool {
    !matches!(value, None | Some(Value::Null | Value::Bool(false)))
}

/// `a // b` for one value each.
fn or(a: Option<&Value>, b: impl FnOnce() -> Value) -> Value {
    match a {
        Some(value) if truthy(Some(value)) => value.clone(),
        _ => b(),
    }
}

fn field(object: &Map<String, Value>, key: &str) -> Value {
    object.get(key).cloned().unwrap_or(Value::Null)
}

fn object(members: Vec<(&str, Value)>) -> Value {
    let mut map = Map::with_capacity(members.len());
    for (key, value) in members {
        map.insert(key.to_owned(), value);
    }
    Value::Object(map)
}

/// `x // {}` is null, false, or an object (anything else would make jq raise, or iterate
/// an array): the object, if so.
fn object_or_empty(value: Option<&Value>) -> Option<Option<&Map<String, Value>>> {
    match value {
        None | Some(Value::Null | Value::Bool(false)) => Some(None),
        Some(Value::Object(map)) => Some(Some(map)),
        Some(_) => None,
    }
}

const DEVICE: &str = "$device:";

/// What `del(...)` of the mixpanel preset removes from the properties, in its order.
const MIXPANEL_DROPPED: [&str; 20] = [
    "time",
    "distinct_id",
    "$insert_id",
    "$user_id",
    "$device_id",
    "$os",
    "$os_version",
    "$city",
    "$region",
    "mp_country_code",
    "$current_url",
    "$referrer",
    "$screen_width",
    "$screen_height",
    "mp_lib",
    "$lib_version",
    "$ip",
    "mp_processing_time_ms",
    "$mp_api_endpoint",
    "$mp_api_timestamp_ms",
];

/// `presets/mixpanel.jq`.
pub(crate) fn mixpanel(event: Value) -> Result<Vec<Value>, Value> {
    let Value::Object(record) = &event else {
        return Err(event);
    };
    if record.contains_key("$distinct_id") {
        let Some(profile) = object_or_empty(record.get("$properties")) else {
            return Err(event);
        };
        let mut traits = Map::with_capacity(profile.map_or(0, Map::len));
        for (key, value) in profile.into_iter().flatten() {
            let key = key.strip_prefix('$').unwrap_or(key);
            traits.insert(key.to_owned(), value.clone());
        }
        return Ok(vec![object(vec![
            ("type", Value::from("identify")),
            ("userId", field(record, "$distinct_id")),
            ("traits", Value::Object(traits)),
        ])]);
    }
    let Some(p) = object_or_empty(record.get("properties")) else {
        return Err(event);
    };
    let empty = Map::new();
    let p = p.unwrap_or(&empty);
    let get = |key: &str| field(p, key);
    let device = match p.get("distinct_id") {
        Some(Value::String(id)) => id.strip_prefix(DEVICE),
        _ => None,
    };
    let user_id = || {
        or(p.get("$user_id"), || match device {
            Some(_) => Value::Null,
            None => get("distinct_id"),
        })
    };
    let anonymous_id = || {
        or(p.get("$device_id"), || {
            device.map_or(Value::Null, Value::from)
        })
    };
    let kind = record.get("event");
    let made = if kind.is_some_and(|k| k == "$identify") {
        object(vec![
            ("type", Value::from("identify")),
            ("userId", or(p.get("$identified_id"), user_id)),
            ("anonymousId", or(p.get("$anon_distinct_id"), anonymous_id)),
            ("timestamp", get("time")),
            ("messageId", get("$insert_id")),
        ])
    } else if kind.is_some_and(|k| k == "$create_alias") {
        object(vec![
            ("type", Value::from("alias")),
            ("userId", get("alias")),
            ("previousId", get("distinct_id")),
            ("timestamp", get("time")),
            ("messageId", get("$insert_id")),
        ])
    } else {
        let context = object(vec![
            ("ip", get("$ip")),
            (
                "os",
                object(vec![("name", get("$os")), ("version", get("$os_version"))]),
            ),
            (
                "location",
                object(vec![
                    ("city", get("$city")),
                    ("region", get("$region")),
                    ("country", get("mp_country_code")),
                ]),
            ),
            (
                "page",
                object(vec![
                    ("url", get("$current_url")),
                    ("referrer", get("$referrer")),
                ]),
            ),
            (
                "screen",
                object(vec![
                    ("width", get("$screen_width")),
                    ("height", get("$screen_height")),
                ]),
            ),
            (
                "library",
                object(vec![
                    ("name", get("mp_lib")),
                    ("version", get("$lib_version")),
                ]),
            ),
        ]);
        let mut properties = p.clone();
        for key in MIXPANEL_DROPPED {
            properties.swap_remove(key);
        }
        object(vec![
            ("type", Value::from("track")),
            ("event", field(record, "event")),
            ("userId", user_id()),
            ("anonymousId", anonymous_id()),
            ("timestamp", get("time")),
            ("messageId", get("$insert_id")),
            ("context", context),
            ("properties", Value::Object(properties)),
        ])
    };
    Ok(vec![made])
}

/// `utc` of `presets/amplitude.jq` for ASCII text (`None`: not sure, leave it to jq).
fn utc(time: Option<&Value>) -> Option<Value> {
    match time {
        Some(Value::String(text)) if !text.is_ascii() => None,
        Some(Value::String(text)) if text.len() >= 19 && text.as_bytes()[10] == b' ' => {
            Some(Value::String(format!("{}T{}Z", &text[..10], &text[11..])))
        }
        other => Some(other.cloned().unwrap_or(Value::Null)),
    }
}

/// `presets/amplitude.jq`.
pub(crate) fn amplitude(event: Value) -> Result<Vec<Value>, Value> {
    let Value::Object(record) = &event else {
        return Err(event);
    };
    let Some(time) = utc(record.get("event_time")) else {
        return Err(event);
    };
    let get = |key: &str| field(record, key);
    let user_properties = record.get("user_properties");
    if record.get("event_type").is_some_and(|k| k == "$identify") {
        return Ok(vec![object(vec![
            ("type", Value::from("identify")),
            ("userId", get("user_id")),
            ("anonymousId", get("device_id")),
            ("timestamp", time),
            ("messageId", get("insert_id")),
            ("traits", or(user_properties, || Value::Object(Map::new()))),
        ])]);
    }
    let mut made = Vec::with_capacity(2);
    let no_traits = match user_properties {
        None | Some(Value::Null | Value::Bool(false)) => true,
        Some(Value::Object(map)) => map.is_empty(),
        Some(_) => false,
    };
    if !no_traits {
        let message_id = match record.get("insert_id") {
            None | Some(Value::Null | Value::Bool(false)) => Value::Null,
            Some(Value::String(id)) => Value::String(format!("{id}:identify")),
            // A number, an array or an object plus text: jq raises the error.
            Some(_) => return Err(event),
        };
        made.push(object(vec![
            ("type", Value::from("identify")),
            ("userId", get("user_id")),
            ("anonymousId", get("device_id")),
            ("timestamp", time.clone()),
            ("messageId", message_id),
            ("traits", get("user_properties")),
        ]));
    }
    let context = object(vec![
        ("ip", get("ip_address")),
        ("locale", get("language")),
        (
            "os",
            object(vec![
                ("name", get("os_name")),
                ("version", get("os_version")),
            ]),
        ),
        (
            "location",
            object(vec![
                ("city", get("city")),
                ("region", get("region")),
                ("country", get("country")),
            ]),
        ),
        ("app", object(vec![("version", get("app_version"))])),
        (
            "device",
            object(vec![
                ("model", get("device_model")),
                ("manufacturer", get("device_manufacturer")),
            ]),
        ),
        ("library", object(vec![("name", get("library"))])),
    ]);
    made.push(object(vec![
        ("type", Value::from("track")),
        ("event", get("event_type")),
        ("userId", get("user_id")),
        ("anonymousId", get("device_id")),
        ("timestamp", time),
        ("messageId", get("insert_id")),
        (
            "properties",
            or(record.get("event_properties"), || Value::Object(Map::new())),
        ),
        ("context", context),
    ]));
    Ok(made)
}
