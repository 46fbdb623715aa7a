//! create-update-person (identify): person attributes from `traits`, `created_at`, the optional
//! relationship from `traits.objectId` (segment-destination.md §5.1; mapping.md §3–§5, §7a).

use serde_json::{Map, Value};

use super::event::root_seconds;
use super::fields::{Ev, object_type_id, present};
use super::identifiers::{Person, Sources, lookup, no_identifier};
use super::timestamp::{convert_attributes, created_at_number};
use super::{Built, Invalid, MappingConfig};

/// Trait keys that never become person attributes (`created_at` comes back on its own).
const RESERVED: [&str; 5] = [
    "createdAt",
    "created_at",
    "object_type_id",
    "objectTypeId",
    "relationshipAttributes",
];

/// The reason an identify without userId or email is skipped (mapping.md §2).
pub(crate) const ANONYMOUS_IDENTIFY: &str =
    "anonymous identify: Journeys ignores identify calls without a userId or email";

/// `traits.created_at` when not null, else `traits.createdAt`; `""` counts as missing.
pub(crate) fn created_at(traits: Option<&Map<String, Value>>) -> Option<Value> {
    let t = traits?;
    let v = match t.get("created_at") {
        Some(v) if !v.is_null() => Some(v),
        _ => t.get("createdAt"),
    };
    present(v).cloned()
}

/// A relationship attributes object (`traits.relationshipAttributes`), converted when asked.
pub(crate) fn relationship_attributes(
    ev: &Ev<'_>,
    traits: Option<&Map<String, Value>>,
    config: &MappingConfig,
) -> Result<Option<Map<String, Value>>, Invalid> {
    let attrs = ev.sub_object(
        traits,
        "relationshipAttributes",
        "traits.relationshipAttributes",
    )?;
    Ok(attrs.map(|a| {
        let mut a = a.clone();
        if config.convert_timestamps {
            convert_attributes(&mut a);
        }
        a
    }))
}

pub(crate) fn identify(ev: &Ev<'_>, config: &MappingConfig) -> Result<Built, Invalid> {
    // Skipped "whatever else it carries" (mapping.md §7a): decided before any shape check.
    let has_user = present(ev.map.get("userId")).is_some();
    let has_email = ev
        .map
        .get("traits")
        .and_then(Value::as_object)
        .and_then(|t| present(t.get("email")))
        .is_some();
    if !has_user && !has_email {
        return Ok(Built::Skip(ANONYMOUS_IDENTIFY.to_owned()));
    }
    let traits = ev.object("traits")?;
    let found = lookup(ev, Sources::Identify)?;
    let anonymous = ev.id("anonymousId")?;
    let identifiers = match found.person {
        Some(Person::Known(ids)) => ids,
        _ if found.bad_email.is_some() => {
            return Err(no_identifier(ev, Sources::Identify, found.bad_email));
        }
        _ => return Ok(Built::Skip(ANONYMOUS_IDENTIFY.to_owned())),
    };
    let seconds = root_seconds(ev)?;
    let object_id = ev.id_value(traits.and_then(|t| t.get("objectId")), "traits.objectId")?;
    let type_id = object_type_id(ev, traits, "traits")?;
    let relationship_attrs = relationship_attributes(ev, traits, config)?;

    let mut body = Map::with_capacity(6);
    body.insert("type".to_owned(), Value::from("person"));
    body.insert("action".to_owned(), Value::from("identify"));
    body.insert("identifiers".to_owned(), identifiers);
    if let Some(s) = seconds {
        body.insert("timestamp".to_owned(), Value::from(s));
    }
    let relationship = object_id.map(|object_id| {
        let mut ids = Map::with_capacity(2);
        ids.insert("object_type_id".to_owned(), Value::String(type_id));
        ids.insert("object_id".to_owned(), Value::String(object_id));
        let mut rel = Map::with_capacity(2);
        rel.insert("identifiers".to_owned(), Value::Object(ids));
        if let Some(a) = relationship_attrs {
            rel.insert("relationship_attributes".to_owned(), Value::Object(a));
        }
        Value::Array(vec![Value::Object(rel)])
    });
    Ok(Built::Identify(Pending {
        body,
        created_at: created_at(traits),
        anonymous,
        relationship,
    }))
}

/// An identify built but for its attributes, which come from the event's `traits` once they have
/// been moved out of it ([`Pending::finish`]).
pub(crate) struct Pending {
    body: Map<String, Value>,
    created_at: Option<Value>,
    anonymous: Option<String>,
    relationship: Option<Value>,
}

impl Pending {
    /// The operation body with `traits` (moved out of the event) as its attributes, and what is
    /// left of `traits`: the reserved keys, which the caller puts back so that the limit checks
    /// name fields as before.
    pub(crate) fn finish(
        self,
        traits: Option<Map<String, Value>>,
        config: &MappingConfig,
    ) -> (Value, Option<Map<String, Value>>) {
        let Pending {
            mut body,
            created_at,
            anonymous,
            relationship,
        } = self;
        let mut attributes = Map::with_capacity(traits.as_ref().map_or(0, |t| t.len()) + 2);
        let residue = traits.map(|t| {
            let mut residue = Map::new();
            for (k, v) in t {
                if RESERVED.contains(&k.as_str()) {
                    residue.insert(k, v);
                } else {
                    attributes.insert(k, v);
                }
            }
            residue
        });
        if let Some(c) = created_at {
            attributes.insert("created_at".to_owned(), c);
        }
        if config.convert_timestamps {
            convert_attributes(&mut attributes);
        }
        if let Some(c) = attributes.get_mut("created_at") {
            *c = created_at_number(std::mem::take(c));
        }
        if let Some(anon) = anonymous {
            attributes.insert("anonymous_id".to_owned(), Value::String(anon));
        }
        body.insert("attributes".to_owned(), Value::Object(attributes));
        if let Some(rel) = relationship {
            body.insert("cio_relationships".to_owned(), rel);
        }
        (Value::Object(body), residue)
    }
}
