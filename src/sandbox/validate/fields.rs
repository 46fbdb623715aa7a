//! Field-level checks shared by the operation checks: identifiers, attributes and their limits,
//! relationships, timestamps, ULIDs.

use serde_json::Value;

use super::Problem;
use crate::track::limits;

/// Which side a `cio_relationships` list points at.
#[derive(Clone, Copy)]
pub(super) enum Side {
    Objects,
    People,
    Anonymous,
}

pub(super) fn relationships(rels: &Value, side: Side, out: &mut Vec<Problem>) {
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
pub(super) fn person_identifiers(
    ids: &Value,
    field: &str,
    allow_anonymous: bool,
    out: &mut Vec<Problem>,
) {
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
pub(super) fn object_identifiers(ids: &Value, field: &str, out: &mut Vec<Problem>) {
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

pub(super) fn check_identifier_value(
    value: &Value,
    field: &str,
    id_limit: bool,
    out: &mut Vec<Problem>,
) {
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
pub(super) fn check_attributes(
    attrs: Option<&Value>,
    field: &str,
    counted: bool,
    out: &mut Vec<Problem>,
) {
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
pub(super) fn check_timestamp(value: Option<&Value>, field: &str, out: &mut Vec<Problem>) {
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

pub(super) fn non_blank(value: &Value) -> bool {
    value.as_str().is_some_and(|s| !s.trim().is_empty())
}

/// Bytes of the compact JSON of `value`, counted without building it.
pub(crate) fn compact_len<T: serde::Serialize + ?Sized>(value: &T) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    match serde_json::to_writer(&mut count, value) {
        Ok(()) => count.0,
        Err(_) => 0,
    }
}

/// 26 Crockford base32 characters (any case), the first at most `7`.
pub(crate) fn is_ulid(s: &str) -> bool {
    s.len() == 26
        && s.bytes().next().is_some_and(|b| (b'0'..=b'7').contains(&b))
        && s.bytes().all(|b| {
            let b = b.to_ascii_uppercase();
            b.is_ascii_digit()
                || (b.is_ascii_uppercase() && !matches!(b, b'I' | b'L' | b'O' | b'U'))
        })
}
