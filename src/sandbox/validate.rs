//! The v2 schema check of one operation (track-api.md §3.2–§3.5, limits §4) and of a v1 metrics
//! body, as the sandbox enforces them. It reads operations the way Customer.io would; it never uses
//! the mapping code.

mod fields;

use serde_json::{Map, Value};

pub(crate) use fields::compact_len;
pub(crate) use fields::is_ulid;
use fields::{
    Side, check_attributes, check_timestamp, non_blank, object_identifiers, person_identifiers,
    relationships,
};

use crate::track::{DELIVERY_METRICS, limits};

/// Why an operation (or request) was refused: one `errors[]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Problem {
    pub reason: &'static str,
    pub field: String,
    pub message: String,
}

impl Problem {
    pub(super) fn new(
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

    pub(super) fn required(field: &str) -> Problem {
        Problem::new("required", field, format!("{field} is required"))
    }

    pub(super) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Problem {
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
pub(super) const EVENT_ACTIONS: &[&str] = &[
    "event",
    "page",
    "screen",
    "viewed_content",
    "clicked_content",
];

/// What an event's `attributes` are, when they were measured instead of read (see `op`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum EventAttributes {
    Null,
    /// An object whose compact JSON is this long.
    Object {
        compact_len: usize,
    },
    /// Anything else (a string, number, array or boolean).
    Other,
}

/// Every problem of one v2 operation; empty when it is valid.
pub(super) fn check_operation(op: &Value) -> Vec<Problem> {
    check_operation_with(op, None)
}

/// [`check_operation`] of an event whose `attributes` were measured (`op` lacks them), or of any
/// operation read whole (`measured` is `None`).
pub(super) fn check_operation_with(op: &Value, measured: Option<EventAttributes>) -> Vec<Problem> {
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
        "person" => check_person(op, action, measured, &mut out),
        "object" => check_object(op, action, &mut out),
        _ => check_delivery(op, &mut out),
    }
    out
}

fn check_person(
    op: &Map<String, Value>,
    action: &str,
    measured: Option<EventAttributes>,
    out: &mut Vec<Problem>,
) {
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
        check_event(op, action, measured, out);
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

fn check_event(
    op: &Map<String, Value>,
    action: &str,
    measured: Option<EventAttributes>,
    out: &mut Vec<Problem>,
) {
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
    let attributes = measured.or_else(|| match op.get("attributes") {
        None | Some(Value::Null) => None,
        Some(Value::Object(attrs)) => Some(EventAttributes::Object {
            compact_len: compact_len(attrs),
        }),
        Some(_) => Some(EventAttributes::Other),
    });
    match attributes {
        None | Some(EventAttributes::Null) => {}
        Some(EventAttributes::Object { compact_len }) => {
            if compact_len > limits::MAX_EVENT_ATTRIBUTES_BYTES {
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
        if let Some(attrs) = device.get("attributes")
            && !attrs.is_object()
            && !attrs.is_null()
        {
            out.push(Problem::invalid(
                "device.attributes",
                "device attributes must be an object",
            ));
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

/// A v1 metrics body: `delivery_id` and a known `metric`.
pub(super) fn check_metric(body: &Value) -> Result<(), String> {
    let body = body.as_object().ok_or("the body must be a JSON object")?;
    if !body.get("delivery_id").is_some_and(non_blank) {
        return Err("delivery_id is required".into());
    }
    match body.get("metric").and_then(Value::as_str) {
        Some(m) if DELIVERY_METRICS.contains(&m) => {}
        Some(m) => return Err(format!("unknown metric {m:?}")),
        None => return Err("metric is required".into()),
    }
    match body.get("timestamp") {
        None | Some(Value::Null) | Some(Value::Number(_)) => Ok(()),
        Some(_) => Err("timestamp must be Unix seconds".into()),
    }
}

#[cfg(test)]
mod tests;
