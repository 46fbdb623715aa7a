//! One list value → one person, by the identifier rule of mapping.md §3, or why it cannot be used.

use serde_json::{Map, Value};

use super::{IdKind, Person};
use crate::map::identifiers::{is_lenient_email, person_identifier};
use crate::source::list::{Field, Said};
use crate::source::value::kind;
use crate::track::limits::MAX_ID_BYTES;

/// The outcome of one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolved {
    /// Empty or whitespace only: ignored.
    Blank,
    /// A person, with a warning when the value looks like a mistyped address.
    Person(Person, Option<String>),
    /// Cannot be used; the message says why and what to do.
    Malformed(String),
}

/// The person one list entry names, or why it names none.
pub(crate) fn resolve_entry(said: &Said) -> Resolved {
    match said {
        Said::Blank => Resolved::Blank,
        Said::Text(text, field) => resolve(text, *field),
        Said::Object(object) => resolve_object(object),
        Said::Unreadable(why) => Resolved::Malformed(why.clone()),
    }
}

/// Resolve one value (surrounding whitespace is trimmed first).
pub(crate) fn resolve(raw: &str, field: Field) -> Resolved {
    let value = raw.trim();
    if value.is_empty() {
        return Resolved::Blank;
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Resolved::Malformed(format!(
            "contains the control character U+{:04X}: fix the list (an identifier never holds one)",
            c as u32
        ));
    }
    match field {
        Field::CioId => cio_id(value.strip_prefix("cio_").unwrap_or(value)),
        Field::Email if is_address(value) => person(IdKind::Email, value, None),
        Field::Email => Resolved::Malformed(format!(
            "{:?} in an email column is not an email address: fix it, or list it in a userId or id column",
            value
        )),
        Field::Rule => {
            // The mapping's own classifier decides (cio_ prefix, the destination's email test, id).
            let classified = person_identifier(value);
            if let Some(rest) = classified.get("cio_id").and_then(Value::as_str) {
                cio_id(rest)
            } else if classified.get("email").is_some() {
                person(IdKind::Email, value, None)
            } else {
                let warning = value.contains('@').then(|| {
                    "contains @ but is not an email address (mapping.md §3), so it is sent as an id; \
                     if it is a mistyped address, fix the list"
                        .to_string()
                });
                id(value, warning)
            }
        }
    }
}

fn cio_id(value: &str) -> Resolved {
    if value.is_empty() {
        return Resolved::Malformed("\"cio_\" with no cio_id after it".into());
    }
    if value.len() > MAX_ID_BYTES {
        return Resolved::Malformed(format!(
            "cio_id is {} bytes, above the {MAX_ID_BYTES}-byte limit",
            value.len()
        ));
    }
    person(IdKind::CioId, value, None)
}

fn id(value: &str, warning: Option<String>) -> Resolved {
    if value.len() > MAX_ID_BYTES {
        return Resolved::Malformed(format!(
            "id is {} bytes, above the {MAX_ID_BYTES}-byte limit of Customer.io ids: no person can \
             have it; fix the list",
            value.len()
        ));
    }
    person(IdKind::Id, value, warning)
}

fn person(kind: IdKind, value: &str, warning: Option<String>) -> Resolved {
    Resolved::Person(Person::new(kind, value), warning)
}

/// The person of one NDJSON object: a plain `{"userId"|"id"|"cio_id"|"email": ...}` or a Segment
/// event. First match wins: `userId`, `cio_id`, `id`, `email`, then the Segment email fallbacks
/// `properties.email`, `traits.email`, `context.traits.email`. A JSON number counts as its decimal
/// text; `null` and `""` count as missing; any other type is malformed.
pub(crate) fn resolve_object(object: &Map<String, Value>) -> Resolved {
    const PLACES: [(&[&str], Field); 7] = [
        (&["userId"], Field::Rule),
        (&["cio_id"], Field::CioId),
        (&["id"], Field::Rule),
        (&["email"], Field::Email),
        (&["properties", "email"], Field::Email),
        (&["traits", "email"], Field::Email),
        (&["context", "traits", "email"], Field::Email),
    ];
    for (path, field) in PLACES {
        let Some(value) = lookup(object, path) else {
            continue;
        };
        let name = path.join(".");
        let text = match value {
            Value::Null => continue,
            Value::String(s) => s.clone(),
            Value::Number(n) if field != Field::Email => n.to_string(),
            other => {
                return Resolved::Malformed(format!(
                    "{name} is {}, not a string: an identifier must be a string",
                    kind(other)
                ));
            }
        };
        match resolve(&text, field) {
            Resolved::Blank => continue,
            Resolved::Malformed(why) => return Resolved::Malformed(format!("{name}: {why}")),
            found => return found,
        }
    }
    Resolved::Malformed(
        "no identifier: set userId, id, cio_id or email (or a Segment event's properties.email / \
         traits.email)"
            .into(),
    )
}

fn lookup<'a>(object: &'a Map<String, Value>, path: &[&str]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let mut value = object.get(*first)?;
    for key in rest {
        value = value.as_object()?.get(*key)?;
    }
    Some(value)
}

/// The lenient address test of mapping.md §7a, for values that must be addresses.
fn is_address(value: &str) -> bool {
    is_lenient_email(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(kind: IdKind, s: &str) -> Resolved {
        Resolved::Person(Person::new(kind, s), None)
    }

    #[test]
    fn the_identifier_rule() {
        assert_eq!(resolve("  u-1 \t", Field::Rule), p(IdKind::Id, "u-1"));
        assert_eq!(
            resolve("cio_a3000001", Field::Rule),
            p(IdKind::CioId, "a3000001")
        );
        assert_eq!(
            resolve(" Ada@Example.ORG ", Field::Rule),
            p(IdKind::Email, "Ada@Example.ORG")
        );
        assert_eq!(resolve("   ", Field::Rule), Resolved::Blank);
        assert!(matches!(
            resolve("cio_", Field::Rule),
            Resolved::Malformed(_)
        ));
        assert!(matches!(
            resolve(&"x".repeat(151), Field::Rule),
            Resolved::Malformed(m) if m.contains("151 bytes")
        ));
        assert_eq!(
            resolve(&"x".repeat(150), Field::Rule),
            p(IdKind::Id, &"x".repeat(150))
        );
        assert!(
            matches!(resolve("a\u{7}b", Field::Rule), Resolved::Malformed(m) if m.contains("U+0007"))
        );
    }

    #[test]
    fn at_sign_without_a_domain_is_an_id_with_a_warning() {
        match resolve("user@localhost", Field::Rule) {
            Resolved::Person(person, Some(_)) => {
                assert_eq!(person, Person::new(IdKind::Id, "user@localhost"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn columns_decide() {
        assert_eq!(
            resolve("a3000001", Field::CioId),
            p(IdKind::CioId, "a3000001")
        );
        assert_eq!(
            resolve("cio_a3000001", Field::CioId),
            p(IdKind::CioId, "a3000001")
        );
        assert_eq!(resolve("a@b.co", Field::Email), p(IdKind::Email, "a@b.co"));
        assert!(matches!(
            resolve("not-an-address", Field::Email),
            Resolved::Malformed(_)
        ));
    }

    #[test]
    fn objects_and_segment_events() {
        let obj = |v: Value| resolve_object(v.as_object().expect("object"));
        assert_eq!(obj(json!({"userId": 42})), p(IdKind::Id, "42"));
        assert_eq!(
            obj(json!({"email": "a@b.co", "id": "u1"})),
            p(IdKind::Id, "u1")
        );
        assert_eq!(obj(json!({"cio_id": "f00"})), p(IdKind::CioId, "f00"));
        assert_eq!(
            obj(
                json!({"type": "track", "event": "User Deleted", "userId": null, "properties": {"email": "x@y.io"}})
            ),
            p(IdKind::Email, "x@y.io")
        );
        assert_eq!(
            obj(json!({"userId": "", "email": "x@y.io"})),
            p(IdKind::Email, "x@y.io")
        );
        assert!(
            matches!(obj(json!({"userId": true})), Resolved::Malformed(m) if m.contains("userId"))
        );
        assert!(
            matches!(obj(json!({"name": "x"})), Resolved::Malformed(m) if m.contains("no identifier"))
        );
        assert!(
            matches!(obj(json!({"email": "nope"})), Resolved::Malformed(m) if m.starts_with("email:"))
        );
    }
}
