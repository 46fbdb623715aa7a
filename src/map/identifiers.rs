//! Who an operation is about (mapping.md §3, §7a): the `cio_`/email/id classification of a userId,
//! the email fallbacks with their lenient address test, and anonymous ids.

use serde_json::{Map, Value};

use super::Invalid;
use super::fields::{Ev, present, shown};

/// The identifiers object for a bare person id (`userId`, `previousId`): `cio_` prefix →
/// `{"cio_id": rest}`; an address by the destination's ASCII test ([`is_segment_email`]) →
/// `{"email": id}`; else `{"id": id}`.
pub(crate) fn person_identifier(id: &str) -> Value {
    let mut m = Map::with_capacity(1);
    if let Some(rest) = id.strip_prefix("cio_") {
        m.insert("cio_id".to_owned(), Value::String(rest.to_owned()));
    } else if is_segment_email(id) {
        m.insert("email".to_owned(), Value::String(id.to_owned()));
    } else {
        m.insert("id".to_owned(), Value::String(id.to_owned()));
    }
    Value::Object(m)
}

fn is_local_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~-".contains(&b)
}

fn is_label(label: &[u8]) -> bool {
    !label.is_empty()
        && label
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && label[0] != b'-'
        && label[label.len() - 1] != b'-'
}

/// The destination's email test (ajv-formats "full", segment-destination.md §4.1): dot-separated
/// runs of ASCII letters, digits and ``!#$%&'*+/=?^_`{|}~-``, `@`, then at least two domain labels
/// of ASCII letters and digits with inner hyphens. Decides how a userId is classified.
pub(crate) fn is_segment_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local
            .as_bytes()
            .split(|b| *b == b'.')
            .all(|run| !run.is_empty() && run.iter().all(|b| is_local_char(*b)));
    if !local_ok {
        return false;
    }
    let labels: Vec<&[u8]> = domain.as_bytes().split(|b| *b == b'.').collect();
    labels.len() >= 2 && labels.iter().all(|l| is_label(l))
}

/// The lenient address test for email fallbacks (mapping.md §7a): exactly one `@`, a non-empty
/// local part, a domain holding a dot (not as its first or last character), and no whitespace.
/// Non-ASCII letters are fine.
pub(crate) fn is_lenient_email(s: &str) -> bool {
    if s.chars().any(char::is_whitespace) {
        return false;
    }
    let mut parts = s.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !local.is_empty() && !domain.starts_with('.') && !domain.ends_with('.') && domain.contains('.')
}

/// Which sources identify the person of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sources {
    /// Identify: `userId`, then `traits.email`.
    Identify,
    /// Other person actions: `userId`, then `properties.email`, `email`, `context.traits.email`.
    Known,
    /// As [`Sources::Known`], then `anonymousId` (track, page, screen).
    KnownOrAnonymous,
}

/// A resolved person.
#[derive(Debug, Clone)]
pub(crate) enum Person {
    /// The identifiers object (`{"id"|"email"|"cio_id": ...}`).
    Known(Value),
    /// Only an anonymous id.
    Anonymous(String),
}

/// The result of looking for a person.
pub(crate) struct Lookup {
    pub person: Option<Person>,
    /// The first email fallback that held a value failing the address test: (field, shown value).
    pub bad_email: Option<(String, String)>,
}

/// Find the person of `ev` from `sources`. Reads (and so type-checks) every field the sources
/// name, whether or not an earlier one already matched.
pub(crate) fn lookup(ev: &Ev<'_>, sources: Sources) -> Result<Lookup, Invalid> {
    let user_id = ev.id("userId")?;
    let candidates: [(&str, Option<&Value>); 3] = match sources {
        Sources::Identify => {
            let traits = ev.object("traits")?;
            [
                ("traits.email", traits.and_then(|t| t.get("email"))),
                ("", None),
                ("", None),
            ]
        }
        Sources::Known | Sources::KnownOrAnonymous => {
            let properties = ev.object("properties")?;
            let context = ev.object("context")?;
            let context_traits = ev.sub_object(context, "traits", "context.traits")?;
            [
                ("properties.email", properties.and_then(|p| p.get("email"))),
                ("email", ev.map.get("email")),
                (
                    "context.traits.email",
                    context_traits.and_then(|t| t.get("email")),
                ),
            ]
        }
    };
    let anonymous = if sources == Sources::KnownOrAnonymous {
        ev.id("anonymousId")?
    } else {
        None
    };
    if let Some(id) = user_id {
        return Ok(Lookup {
            person: Some(Person::Known(person_identifier(&id))),
            bad_email: None,
        });
    }
    let mut bad_email = None;
    for (field, value) in candidates {
        let Some(value) = present(value) else {
            continue;
        };
        match value {
            Value::String(s) if is_lenient_email(s) => {
                let mut m = Map::with_capacity(1);
                m.insert("email".to_owned(), Value::String(s.clone()));
                return Ok(Lookup {
                    person: Some(Person::Known(Value::Object(m))),
                    bad_email: None,
                });
            }
            other => {
                if bad_email.is_none() {
                    bad_email = Some((field.to_owned(), shown(other)));
                }
            }
        }
    }
    Ok(Lookup {
        person: anonymous.map(Person::Anonymous),
        bad_email,
    })
}

/// The "no identifier" error of `ev` for `sources`, naming a bad address when one was passed over.
pub(crate) fn no_identifier(
    ev: &Ev<'_>,
    sources: Sources,
    bad: Option<(String, String)>,
) -> Invalid {
    if let Some((field, value)) = bad {
        return ev.invalid(
            &field,
            format!(
                "no identifier: {field} {value} is not an email address (one @, a non-empty local \
                 part, a domain with a dot, no whitespace); set userId or fix {field}"
            ),
        );
    }
    let message = match sources {
        Sources::Identify => "no identifier: set userId or traits.email",
        Sources::Known => {
            "no identifier: set userId or an email (properties.email, email or context.traits.email)"
        }
        Sources::KnownOrAnonymous => {
            "no identifier: set userId, an email (properties.email, email or context.traits.email) \
             or anonymousId"
        }
    };
    ev.invalid("userId", message)
}

/// The person of a person action that takes no anonymous people: identifiers or invalid.
pub(crate) fn known_person(ev: &Ev<'_>) -> Result<Value, Invalid> {
    let found = lookup(ev, Sources::Known)?;
    match found.person {
        Some(Person::Known(ids)) => Ok(ids),
        _ => Err(no_identifier(ev, Sources::Known, found.bad_email)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn classifies_user_ids() {
        assert_eq!(person_identifier("cio_abc"), json!({"cio_id": "abc"}));
        assert_eq!(person_identifier("cio_"), json!({"cio_id": ""}));
        assert_eq!(person_identifier("CIO_abc"), json!({"id": "CIO_abc"}));
        assert_eq!(
            person_identifier("Foo.Bar+x@Example.COM"),
            json!({"email": "Foo.Bar+x@Example.COM"})
        );
        assert_eq!(
            person_identifier("user@localhost"),
            json!({"id": "user@localhost"})
        );
        assert_eq!(
            person_identifier("zoë@example.com"),
            json!({"id": "zoë@example.com"})
        );
        assert_eq!(person_identifier("123"), json!({"id": "123"}));
    }

    #[test]
    fn segment_email_test() {
        for ok in ["a@b.co", "a.b@c-d.e.f", "x!#$%&'*+/=?^_`{|}~-@a.b", "A@B.C"] {
            assert!(is_segment_email(ok), "{ok}");
        }
        for bad in [
            "a@b",
            "@b.c",
            "a.@b.c",
            ".a@b.c",
            "a..b@c.d",
            "a@-b.c",
            "a@b-.c",
            "a@b..c",
            "a@b.c.",
            "a b@c.d",
            "a@b@c.d",
            "zoë@example.com",
            "a@exämple.com",
            "",
        ] {
            assert!(!is_segment_email(bad), "{bad}");
        }
    }

    #[test]
    fn lenient_email_test() {
        for ok in [
            "zoë.李@example.com",
            "josé@exämple.com",
            "李.雷@例子.中国",
            "a@b.c",
            "a+b@x.y.z",
        ] {
            assert!(is_lenient_email(ok), "{ok}");
        }
        for bad in [
            "not-an-email",
            "not an email",
            "a@b",
            "@b.c",
            "a@@b.c",
            "a@b@c.d",
            "a@.bc",
            "a@bc.",
            "a @b.c",
            "a@b.c\n",
            "a\u{3000}@b.c",
            "",
        ] {
            assert!(!is_lenient_email(bad), "{bad:?}");
        }
    }
}
