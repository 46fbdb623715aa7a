//! The v2 schema check of one operation (track-api.md §3.2–§3.5, limits §4) and of a v1 metrics
//! body, as the sandbox enforces them. It reads operations the way Customer.io would; it never uses
//! the mapping code.

use serde_json::{Map, Value};

use crate::track::limits;

/// Why an operation (or request) was refused: one `errors[]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub reason: &'static str,
    pub field: String,
    pub message: String,
}

impl Problem {
    pub fn new(
        reason: &'static str,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Problem {
        Problem {
            reason,
            field: field.into(),
            message: message.into(),
        }
    }

    fn required(field: &str) -> Problem {
        Problem::new("required", field, format!("{field} is required"))
    }

    fn invalid(field: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem::new("invalid", field, message)
    }
}

/// Actions taken per type. `viewed_content`/`clicked_content` are what Segment's destination
/// sends for content events (tolerated like the `anonymous_id` identifier).
const PERSON_ACTIONS: &[&str] = &[
    "identify",
    "delete",
    "event",
    "screen",
    "page",
    "add_relationships",
    "delete_relationships",
    "add_device",
    "delete_device",
    "merge",
    "suppress",
    "unsuppress",
    "viewed_content",
    "clicked_content",
];
const OBJECT_ACTIONS: &[&str] = &[
    "identify",
    "identify_anonymous",
    "delete",
    "add_relationships",
    "delete_relationships",
];
/// Person actions that are events (stored, de-duplicated by `id`).
pub const EVENT_ACTIONS: &[&str] = &[
    "event",
    "page",
    "screen",
    "viewed_content",
    "clicked_content",
];
/// Metrics accepted by `POST /api/v1/metrics`.
pub const METRICS: &[&str] = &[
    "delivered",
    "opened",
    "clicked",
    "converted",
    "spammed",
    "bounced",
    "dropped",
    "deferred",
];

/// Every problem of one v2 operation; empty when it is valid.
pub fn check_operation(op: &Value) -> Vec<Problem> {
    let mut out = Vec::new();
    let Some(op) = op.as_object() else {
        out.push(Problem::invalid("", "an operation must be a JSON object"));
        return out;
    };
    let kind = op.get("type").and_then(Value::as_str);
    let action = op.get("action").and_then(Value::as_str);
    let (Some(kind), Some(action)) = (kind, action) else {
        for key in ["type", "action"] {
            if !op.get(key).is_some_and(Value::is_string) {
                out.push(Problem::required(key));
            }
        }
        return out;
    };
    let allowed = match kind {
        "person" => PERSON_ACTIONS,
        "object" => OBJECT_ACTIONS,
        "delivery" => &["event"][..],
        _ => {
            out.push(Problem::invalid("type", format!("unknown type {kind:?}")));
            return out;
        }
    };
    if !allowed.contains(&action) {
        out.push(Problem::invalid(
            "action",
            format!("unknown action {action:?} for type {kind:?}"),
        ));
        return out;
    }
    match kind {
        "person" => check_person(op, action, &mut out),
        "object" => check_object(op, action, &mut out),
        _ => check_delivery(op, &mut out),
    }
    out
}

fn check_person(op: &Map<String, Value>, action: &str, out: &mut Vec<Problem>) {
    let is_event = EVENT_ACTIONS.contains(&action);
    if action == "merge" {
        for side in ["primary", "secondary"] {
            match op.get(side) {
                None => out.push(Problem::required(side)),
                Some(ids) => person_identifiers(ids, side, false, out),
            }
        }
        return;
    }
    match op.get("identifiers") {
        None => out.push(Problem::required("identifiers")),
        Some(ids) => person_identifiers(ids, "identifiers", is_event, out),
    }
    if is_event {
        check_event(op, action, out);
        return;
    }
    match action {
        "identify" => {
            check_timestamp(op.get("timestamp"), "timestamp", out);
            check_attributes(op.get("attributes"), "attributes", true, out);
            if let Some(rels) = op.get("cio_relationships") {
                relationships(rels, Side::Objects, out);
            }
        }
        "add_relationships" | "delete_relationships" => match op.get("cio_relationships") {
            None => out.push(Problem::required("cio_relationships")),
            Some(rels) => relationships(rels, Side::Objects, out),
        },
        "add_device" | "delete_device" => check_device(op.get("device"), action, out),
        _ => {}
    }
}

fn check_event(op: &Map<String, Value>, action: &str, out: &mut Vec<Problem>) {
    match op.get("name") {
        Some(Value::String(name)) if !name.trim().is_empty() => {
            if action == "event" && name.len() > limits::MAX_EVENT_NAME_BYTES {
                out.push(Problem::new(
                    "limit",
                    "name",
                    format!(
                        "event name cannot be longer than {} bytes",
                        limits::MAX_EVENT_NAME_BYTES
                    ),
                ));
            }
        }
        Some(Value::String(_)) => out.push(Problem::invalid("name", "name cannot be blank")),
        Some(_) => out.push(Problem::invalid("name", "name must be a string")),
        None => out.push(Problem::required("name")),
    }
    match op.get("id") {
        None | Some(Value::Null) => {}
        Some(Value::String(id)) if is_ulid(id) => {}
        Some(_) => out.push(Problem::invalid("id", "event id must be a ULID")),
    }
    check_timestamp(op.get("timestamp"), "timestamp", out);
    match op.get("attributes") {
        None | Some(Value::Null) => {}
        Some(Value::Object(attrs)) => {
            if compact_len(&Value::Object(attrs.clone())) > limits::MAX_EVENT_ATTRIBUTES_BYTES {
                out.push(Problem::new(
                    "limit",
                    "attributes",
                    format!(
                        "event data cannot be longer than {} bytes",
                        limits::MAX_EVENT_ATTRIBUTES_BYTES
                    ),
                ));
            }
        }
        Some(_) => out.push(Problem::invalid("attributes", "event data must be a hash")),
    }
}

fn check_device(device: Option<&Value>, action: &str, out: &mut Vec<Problem>) {
    let Some(device) = device else {
        out.push(Problem::required("device"));
        return;
    };
    let Some(device) = device.as_object() else {
        out.push(Problem::invalid("device", "device must be an object"));
        return;
    };
    if !device.get("token").is_some_and(non_blank) {
        out.push(Problem::required("device.token"));
    }
    if action == "add_device" {
        match device.get("platform").and_then(Value::as_str) {
            Some("ios" | "android") => {}
            Some(other) => out.push(Problem::invalid(
                "device.platform",
                format!("platform must be \"ios\" or \"android\", not {other:?}"),
            )),
            None => out.push(Problem::required("device.platform")),
        }
        check_timestamp(device.get("last_used"), "device.last_used", out);
        if let Some(attrs) = device.get("attributes") {
            if !attrs.is_object() && !attrs.is_null() {
                out.push(Problem::invalid(
                    "device.attributes",
                    "device attributes must be an object",
                ));
            }
        }
    }
}

fn check_object(op: &Map<String, Value>, action: &str, out: &mut Vec<Problem>) {
    match op.get("identifiers") {
        None => out.push(Problem::required("identifiers")),
        Some(ids) => object_identifiers(ids, "identifiers", out),
    }
    match action {
        "identify" | "identify_anonymous" => {
            check_attributes(op.get("attributes"), "attributes", true, out);
            let side = if action == "identify" {
                Side::People
            } else {
                Side::Anonymous
            };
            match op.get("cio_relationships") {
                None if action == "identify_anonymous" => {
                    out.push(Problem::required("cio_relationships"))
                }
                None => {}
                Some(rels) => relationships(rels, side, out),
            }
        }
        "add_relationships" | "delete_relationships" => match op.get("cio_relationships") {
            None => out.push(Problem::required("cio_relationships")),
            Some(rels) => relationships(rels, Side::People, out),
        },
        _ => {}
    }
}

fn check_delivery(op: &Map<String, Value>, out: &mut Vec<Problem>) {
    match op.get("identifiers").and_then(Value::as_object) {
        Some(ids) if ids.len() == 1 && ids.get("id").is_some_and(non_blank) => {}
        _ => out.push(Problem::invalid(
            "identifiers",
            "a delivery is identified by {\"id\": delivery id}",
        )),
    }
    match op.get("name").and_then(Value::as_str) {
        Some("opened" | "converted" | "delivered") => {}
        _ => out.push(Problem::invalid(
            "name",
            "name must be opened, converted or delivered",
        )),
    }
    let token = op.get("attributes").and_then(|a| a.get("device_token"));
    if !token.is_some_and(non_blank) {
        out.push(Problem::required("attributes.device_token"));
    }
    check_timestamp(op.get("timestamp"), "timestamp", out);
}

/// Which side a `cio_relationships` list points at.
#[derive(Clone, Copy)]
enum Side {
    Objects,
    People,
    Anonymous,
}

fn relationships(rels: &Value, side: Side, out: &mut Vec<Problem>) {
    let Some(list) = rels.as_array() else {
        out.push(Problem::invalid(
            "cio_relationships",
            "cio_relationships must be an array",
        ));
        return;
    };
    if list.is_empty() {
        out.push(Problem::invalid(
            "cio_relationships",
            "cio_relationships must not be empty",
        ));
    }
    for (i, rel) in list.iter().enumerate() {
        let field = format!("cio_relationships[{i}].identifiers");
        match rel.get("identifiers") {
            None => out.push(Problem::required(&field)),
            Some(ids) => match side {
                Side::Objects => object_identifiers(ids, &field, out),
                Side::People => person_identifiers(ids, &field, false, out),
                Side::Anonymous => match ids.as_object() {
                    Some(m) if m.len() == 1 && m.get("anonymous_id").is_some_and(non_blank) => {}
                    _ => out.push(Problem::invalid(field, "expected {\"anonymous_id\": ...}")),
                },
            },
        }
        let attrs_field = format!("cio_relationships[{i}].relationship_attributes");
        check_attributes(rel.get("relationship_attributes"), &attrs_field, true, out);
    }
}

/// Exactly one of id / email / cio_id / phone (and, for events, anonymous_id).
fn person_identifiers(ids: &Value, field: &str, allow_anonymous: bool, out: &mut Vec<Problem>) {
    let Some(ids) = ids.as_object() else {
        out.push(Problem::invalid(
            field,
            format!("{field} must be an object"),
        ));
        return;
    };
    let known = |k: &str| {
        matches!(k, "id" | "email" | "cio_id" | "phone") || (allow_anonymous && k == "anonymous_id")
    };
    if let Some(unknown) = ids.keys().find(|k| !known(k)) {
        out.push(Problem::invalid(
            format!("{field}.{unknown}"),
            format!("{unknown:?} cannot identify a person here"),
        ));
        return;
    }
    match ids.len() {
        0 => out.push(Problem::invalid(
            field,
            "no identifier: give exactly one of id, email, cio_id",
        )),
        1 => {}
        _ => out.push(Problem::invalid(
            field,
            "several identifiers: give exactly one",
        )),
    }
    for (key, value) in ids {
        check_identifier_value(value, &format!("{field}.{key}"), key == "id", out);
    }
}

/// `{object_type_id, object_id}` or `{cio_object_id}`.
fn object_identifiers(ids: &Value, field: &str, out: &mut Vec<Problem>) {
    let Some(ids) = ids.as_object() else {
        out.push(Problem::invalid(
            field,
            format!("{field} must be an object"),
        ));
        return;
    };
    let mut keys: Vec<&str> = ids.keys().map(String::as_str).collect();
    keys.sort_unstable();
    match keys.as_slice() {
        ["object_id", "object_type_id"] => {
            check_identifier_value(&ids["object_id"], &format!("{field}.object_id"), true, out);
            check_identifier_value(
                &ids["object_type_id"],
                &format!("{field}.object_type_id"),
                false,
                out,
            );
        }
        ["cio_object_id"] => check_identifier_value(
            &ids["cio_object_id"],
            &format!("{field}.cio_object_id"),
            false,
            out,
        ),
        _ => out.push(Problem::invalid(
            field,
            "an object is identified by object_type_id + object_id, or by cio_object_id",
        )),
    }
}

fn check_identifier_value(value: &Value, field: &str, id_limit: bool, out: &mut Vec<Problem>) {
    match value {
        Value::String(s) if s.trim().is_empty() => out.push(Problem::invalid(
            field,
            format!("{field} cannot be an empty string"),
        )),
        Value::String(s) if id_limit && s.len() > limits::MAX_ID_BYTES => out.push(Problem::new(
            "limit",
            field,
            format!(
                "{field} cannot be longer than {} bytes",
                limits::MAX_ID_BYTES
            ),
        )),
        Value::String(_) => {}
        _ => out.push(Problem::invalid(
            field,
            format!("{field} must be a string value"),
        )),
    }
}

/// Attribute object: names ≤ 150 bytes, values ≤ 1000 bytes, at most 300 of them.
fn check_attributes(attrs: Option<&Value>, field: &str, counted: bool, out: &mut Vec<Problem>) {
    let attrs = match attrs {
        None | Some(Value::Null) => return,
        Some(Value::Object(attrs)) => attrs,
        Some(_) => {
            out.push(Problem::invalid(
                field,
                format!("{field} must be an object"),
            ));
            return;
        }
    };
    if counted && attrs.len() > limits::MAX_ATTRIBUTES_PER_IDENTIFY {
        out.push(Problem::new(
            "limit",
            field,
            format!(
                "cannot identify more than {} attributes in one request",
                limits::MAX_ATTRIBUTES_PER_IDENTIFY
            ),
        ));
    }
    for (name, value) in attrs {
        if name.len() > limits::MAX_ATTRIBUTE_NAME_BYTES {
            out.push(Problem::new(
                "limit",
                format!("{field}.{name}"),
                format!(
                    "attribute name cannot be longer than {} bytes",
                    limits::MAX_ATTRIBUTE_NAME_BYTES
                ),
            ));
        }
        let size = match value {
            Value::String(s) => s.len(),
            other => compact_len(other),
        };
        if size > limits::MAX_ATTRIBUTE_VALUE_BYTES {
            out.push(Problem::new(
                "limit",
                format!("{field}.{name}"),
                format!(
                    "value for attribute '{name}' cannot be longer than {} bytes",
                    limits::MAX_ATTRIBUTE_VALUE_BYTES
                ),
            ));
        }
    }
}

/// Integer Unix seconds, between 1970 and 9999, when present.
fn check_timestamp(value: Option<&Value>, field: &str, out: &mut Vec<Problem>) {
    match value {
        None | Some(Value::Null) => {}
        Some(Value::Number(n))
            if n.as_i64()
                .is_some_and(|t| (0..=limits::MAX_UNIX_SECONDS).contains(&t)) => {}
        Some(_) => out.push(Problem::invalid(
            field,
            format!("{field} must be integer Unix seconds"),
        )),
    }
}

/// A v1 metrics body: `delivery_id` and a known `metric`.
pub fn check_metric(body: &Value) -> Result<(), String> {
    let body = body.as_object().ok_or("the body must be a JSON object")?;
    if !body.get("delivery_id").is_some_and(non_blank) {
        return Err("delivery_id is required".into());
    }
    match body.get("metric").and_then(Value::as_str) {
        Some(m) if METRICS.contains(&m) => {}
        Some(m) => return Err(format!("unknown metric {m:?}")),
        None => return Err("metric is required".into()),
    }
    match body.get("timestamp") {
        None | Some(Value::Null) | Some(Value::Number(_)) => Ok(()),
        Some(_) => Err("timestamp must be Unix seconds".into()),
    }
}

fn non_blank(value: &Value) -> bool {
    value.as_str().is_some_and(|s| !s.trim().is_empty())
}

fn compact_len(value: &Value) -> usize {
    serde_json::to_string(value).map_or(0, |s| s.len())
}

/// 26 Crockford base32 characters (any case), the first at most `7`.
pub fn is_ulid(s: &str) -> bool {
    s.len() == 26
        && s.bytes().next().is_some_and(|b| (b'0'..=b'7').contains(&b))
        && s.bytes().all(|b| {
            let b = b.to_ascii_uppercase();
            b.is_ascii_digit()
                || (b.is_ascii_uppercase() && !matches!(b, b'I' | b'L' | b'O' | b'U'))
        })
}
