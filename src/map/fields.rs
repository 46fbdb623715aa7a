//! Reading fields of one event with the type rules of mapping.md §7a: `null` is missing, ids are
//! strings or numbers, the objects an action reads must be objects. Every error names its field.

use serde_json::{Map, Value};

use super::Invalid;
pub(crate) use crate::source::value::kind;
use crate::track::Action;

/// A value as it appears in a message: compact JSON, cut to a readable length.
pub(crate) fn shown(v: &Value) -> String {
    let text = v.to_string();
    if text.len() <= 80 {
        return text;
    }
    let mut cut = 77;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}...", &text[..cut])
}

/// Whether a value counts as present: not `null` and not `""`.
pub(crate) fn present(v: Option<&Value>) -> Option<&Value> {
    match v {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(v) => Some(v),
    }
}

/// One event being mapped to `action`.
pub(crate) struct Ev<'a> {
    pub map: &'a Map<String, Value>,
    pub action: Action,
}

impl<'a> Ev<'a> {
    pub(crate) fn new(map: &'a Map<String, Value>, action: Action) -> Ev<'a> {
        Ev { map, action }
    }

    /// An invalid outcome of this event's action.
    pub(crate) fn invalid(&self, field: &str, message: impl Into<String>) -> Invalid {
        Invalid::new(Some(self.action), Some(field), message)
    }

    /// A top-level value; `null` counts as missing.
    pub(crate) fn get(&self, key: &str) -> Option<&'a Value> {
        match self.map.get(key) {
            None | Some(Value::Null) => None,
            Some(v) => Some(v),
        }
    }

    /// A top-level object the action reads (`traits`, `properties`, `context`): missing or `null`
    /// is `None`; any other non-object is invalid.
    pub(crate) fn object(&self, key: &str) -> Result<Option<&'a Map<String, Value>>, Invalid> {
        object_at(self, self.get(key), key)
    }

    /// A nested object (`context.traits`, `context.device`) inside an already checked parent.
    pub(crate) fn sub_object(
        &self,
        parent: Option<&'a Map<String, Value>>,
        key: &str,
        path: &str,
    ) -> Result<Option<&'a Map<String, Value>>, Invalid> {
        object_at(self, parent.and_then(|p| p.get(key)), path)
    }

    /// A top-level id (`userId`, `anonymousId`, ...).
    pub(crate) fn id(&self, key: &str) -> Result<Option<String>, Invalid> {
        self.id_value(self.map.get(key), key)
    }

    /// An id read from `v` at `path`: a string (empty is missing) or a number as its decimal text;
    /// any other type is invalid.
    pub(crate) fn id_value(
        &self,
        v: Option<&Value>,
        path: &str,
    ) -> Result<Option<String>, Invalid> {
        self.string_or_number(v, path, "a string or a number", ": send the id as text")
    }

    /// A text field (an event name, a URL, a metric): a string (empty is missing) or a number as
    /// its decimal text; any other type is invalid.
    pub(crate) fn text_value(
        &self,
        v: Option<&Value>,
        path: &str,
    ) -> Result<Option<String>, Invalid> {
        self.string_or_number(v, path, "a string", "")
    }

    /// A string (empty is missing) or a number as its decimal text; any other type is invalid,
    /// with a message saying the field must be `expected`, then `advice`.
    fn string_or_number(
        &self,
        v: Option<&Value>,
        path: &str,
        expected: &str,
        advice: &str,
    ) -> Result<Option<String>, Invalid> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(self.invalid(
                path,
                format!(
                    "{path} must be {expected}, not {} ({}){advice}",
                    kind(other),
                    shown(other)
                ),
            )),
        }
    }
}

fn object_at<'a>(
    ev: &Ev<'a>,
    v: Option<&'a Value>,
    path: &str,
) -> Result<Option<&'a Map<String, Value>>, Invalid> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(other) => Err(ev.invalid(
            path,
            format!(
                "{path} must be an object, not {}: {} reads it; send an object or leave it out",
                kind(other),
                ev.action
            ),
        )),
    }
}

/// The object type id of an object: `object_type_id` when present, else `objectTypeId`, as text;
/// `"1"` when both are missing (mapping.md §3).
pub(crate) fn object_type_id(
    ev: &Ev<'_>,
    holder: Option<&Map<String, Value>>,
    prefix: &str,
) -> Result<String, Invalid> {
    let snake = holder.and_then(|m| m.get("object_type_id"));
    let (v, name) = match snake {
        Some(v) if !v.is_null() => (Some(v), "object_type_id"),
        _ => (holder.and_then(|m| m.get("objectTypeId")), "objectTypeId"),
    };
    let path = format!("{prefix}.{name}");
    Ok(ev.id_value(v, &path)?.unwrap_or_else(|| "1".to_owned()))
}
