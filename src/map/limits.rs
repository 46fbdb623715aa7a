//! The Track API limits checked before sending (mapping.md §7, §7a): an operation that breaks one
//! is invalid, with the limit named, instead of being rejected by Customer.io later.

use serde_json::{Map, Value};

use super::Invalid;
use crate::track::limits::{
    MAX_ATTRIBUTE_NAME_BYTES, MAX_ATTRIBUTE_VALUE_BYTES, MAX_ATTRIBUTES_PER_IDENTIFY,
    MAX_EVENT_ATTRIBUTES_BYTES, MAX_EVENT_NAME_BYTES, MAX_ID_BYTES, MAX_OPERATION_BYTES,
};
use crate::track::{Action, Operation};

pub(crate) use crate::track::limits::json_bytes;

/// The size of an attribute value: UTF-8 bytes of a string, else of its compact JSON.
pub(crate) fn value_bytes(v: &Value) -> usize {
    match v {
        Value::String(s) => s.len(),
        other => json_bytes(other),
    }
}

/// Check one mapped operation; `event` is the record it came from (to name fields).
pub(crate) fn check(op: &Operation, event: &Map<String, Value>) -> Result<(), Invalid> {
    let action = op.action;
    if action.is_metric() {
        return Ok(());
    }
    let invalid = |field: &str, message: String| Invalid::new(Some(action), Some(field), message);
    let body = &op.body;
    check_ids(action, body)?;
    match action {
        Action::TrackEvent => {
            let name = body.get("name").and_then(Value::as_str).unwrap_or_default();
            if name.trim().is_empty() {
                return Err(invalid(
                    "event",
                    "the event name is blank (limit: an event name must not be blank, mapping.md \
                     §7): set \"event\" to a name"
                        .to_owned(),
                ));
            }
            if name.len() > MAX_EVENT_NAME_BYTES {
                return Err(invalid(
                    "event",
                    format!(
                        "the event name is {} bytes, above Customer.io's {MAX_EVENT_NAME_BYTES}-byte \
                         limit for event names: shorten it",
                        name.len()
                    ),
                ));
            }
        }
        Action::CreateUpdatePerson | Action::CreateUpdateObject => {
            if let Some(attrs) = body.get("attributes").and_then(Value::as_object) {
                check_attributes(action, attrs, event)?;
            }
        }
        _ => {}
    }
    let size = op.json_len();
    if size > MAX_OPERATION_BYTES {
        // Event attributes can only break their own (larger) limit when the whole operation is
        // above its limit; name the more specific limit first.
        if matches!(
            action,
            Action::TrackEvent
                | Action::TrackPageView
                | Action::TrackScreenView
                | Action::ReportContentEvent
        ) {
            check_event_attributes(action, body)?;
        }
        return Err(Invalid::new(
            Some(action),
            None,
            format!(
                "the operation is {size} bytes as JSON, above Customer.io's {MAX_OPERATION_BYTES}-byte \
                 limit for one operation: send fewer or smaller attributes"
            ),
        ));
    }
    Ok(())
}

fn check_id_object(action: Action, ids: Option<&Value>, field: &str) -> Result<(), Invalid> {
    let Some(ids) = ids.and_then(Value::as_object) else {
        return Ok(());
    };
    for key in ["id", "object_id"] {
        let long = ids
            .get(key)
            .and_then(Value::as_str)
            .filter(|id| id.len() > MAX_ID_BYTES);
        if let Some(id) = long {
            return Err(Invalid::new(
                Some(action),
                Some(field),
                format!(
                    "the {} identifier is {} bytes, above Customer.io's {MAX_ID_BYTES}-byte limit \
                     for ids: use a shorter id",
                    if key == "id" {
                        "person id"
                    } else {
                        "object id"
                    },
                    id.len()
                ),
            ));
        }
    }
    Ok(())
}

/// The 150-byte limit on `id` and `object_id` identifiers, wherever the operation carries them.
fn check_ids(action: Action, body: &Value) -> Result<(), Invalid> {
    let (root_field, rel_field) = match action {
        Action::CreateUpdateObject => ("groupId", "userId"),
        Action::DeleteObject | Action::DeleteRelationship => ("properties.objectId", "userId"),
        Action::CreateUpdatePerson => ("userId", "traits.objectId"),
        _ => ("userId", "userId"),
    };
    check_id_object(action, body.get("identifiers"), root_field)?;
    check_id_object(action, body.get("primary"), "userId")?;
    check_id_object(action, body.get("secondary"), "previousId")?;
    if let Some(rels) = body.get("cio_relationships").and_then(Value::as_array) {
        for rel in rels {
            check_id_object(action, rel.get("identifiers"), rel_field)?;
        }
    }
    Ok(())
}

fn check_event_attributes(action: Action, body: &Value) -> Result<(), Invalid> {
    if let Some(attrs) = body.get("attributes") {
        let size = json_bytes(attrs);
        if size > MAX_EVENT_ATTRIBUTES_BYTES {
            return Err(Invalid::new(
                Some(action),
                Some("properties"),
                format!(
                    "the event's attributes are {size} bytes as JSON, above Customer.io's \
                     {MAX_EVENT_ATTRIBUTES_BYTES}-byte limit for event data: send fewer or \
                     smaller properties"
                ),
            ));
        }
    }
    Ok(())
}

/// Where attribute `key` of a person or object came from, as a dotted path.
fn attribute_field(action: Action, key: &str, event: &Map<String, Value>) -> String {
    if key == "anonymous_id" {
        return "anonymousId".to_owned();
    }
    let traits = event.get("traits").and_then(Value::as_object);
    if action == Action::CreateUpdateObject
        && traits
            .and_then(|t| t.get("objectAttributes"))
            .and_then(Value::as_object)
            .is_some_and(|o| o.contains_key(key))
    {
        return format!("traits.objectAttributes.{key}");
    }
    if key == "created_at" && traits.is_some_and(|t| !t.contains_key("created_at")) {
        return "traits.createdAt".to_owned();
    }
    format!("traits.{key}")
}

/// Names (150 bytes), values (1000 bytes) and count (300) of person and object attributes.
fn check_attributes(
    action: Action,
    attrs: &Map<String, Value>,
    event: &Map<String, Value>,
) -> Result<(), Invalid> {
    if attrs.len() > MAX_ATTRIBUTES_PER_IDENTIFY {
        return Err(Invalid::new(
            Some(action),
            Some("traits"),
            format!(
                "{} attributes in one {}, above Customer.io's limit of \
                 {MAX_ATTRIBUTES_PER_IDENTIFY}: split the traits over several calls",
                attrs.len(),
                if action == Action::CreateUpdateObject {
                    "object"
                } else {
                    "identify"
                }
            ),
        ));
    }
    for (key, value) in attrs {
        if key.len() > MAX_ATTRIBUTE_NAME_BYTES {
            return Err(Invalid::new(
                Some(action),
                Some(&attribute_field(action, key, event)),
                format!(
                    "the attribute name is {} bytes, above Customer.io's \
                     {MAX_ATTRIBUTE_NAME_BYTES}-byte limit for attribute names: use a shorter name",
                    key.len()
                ),
            ));
        }
        let size = value_bytes(value);
        if size > MAX_ATTRIBUTE_VALUE_BYTES {
            return Err(Invalid::new(
                Some(action),
                Some(&attribute_field(action, key, event)),
                format!(
                    "the attribute value is {size} bytes, above Customer.io's \
                     {MAX_ATTRIBUTE_VALUE_BYTES}-byte limit for attribute values: shorten it or \
                     leave it out"
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "limits_tests.rs"]
mod tests;
