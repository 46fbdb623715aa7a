//! Object operations: create-update-object (group), delete-object and delete-relationship
//! (segment-destination.md §5.8, §5.9, §5.11; mapping.md §4, §7a, D6).

use serde_json::{Map, Value};

use super::fields::{Ev, object_type_id};
use super::identifiers::{known_person, person_identifier};
use super::person::{created_at, relationship_attributes};
use super::timestamp::{convert_attributes, created_at_number};
use super::{Built, Invalid, MappingConfig};

/// Group trait keys that never become object attributes.
const RESERVED: [&str; 6] = [
    "relationshipAttributes",
    "object_type_id",
    "objectTypeId",
    "objectAttributes",
    "created_at",
    "createdAt",
];

/// Keys removed inside `traits.objectAttributes`.
const RESERVED_INSIDE: [&str; 4] = [
    "relationshipAttributes",
    "object_type_id",
    "objectTypeId",
    "objectAttributes",
];

fn object_identifiers(object_id: String, type_id: String) -> Value {
    let mut m = Map::with_capacity(2);
    m.insert("object_id".to_owned(), Value::String(object_id));
    m.insert("object_type_id".to_owned(), Value::String(type_id));
    Value::Object(m)
}

fn one_relationship(identifiers: Value, attributes: Option<Map<String, Value>>) -> Value {
    let mut rel = Map::with_capacity(2);
    rel.insert("identifiers".to_owned(), identifiers);
    if let Some(a) = attributes {
        rel.insert("relationship_attributes".to_owned(), Value::Object(a));
    }
    Value::Array(vec![Value::Object(rel)])
}

/// group → an object `identify` (with a userId or no person) or `identify_anonymous`.
pub(crate) fn group(ev: &Ev<'_>, config: &MappingConfig) -> Result<Built, Invalid> {
    let traits = ev.object("traits")?;
    // Group reads `properties` too (the person's email fallback, mapping.md §3 step 2), so by
    // §7a a `properties` that is not an object makes the record invalid.
    ev.object("properties")?;
    let object_id = ev.id("groupId")?.ok_or_else(|| {
        ev.invalid(
            "groupId",
            "group call has no groupId: set groupId to the object's id",
        )
    })?;
    let user_id = ev.id("userId")?;
    let anonymous = ev.id("anonymousId")?;
    let type_id = object_type_id(ev, traits, "traits")?;
    let object_attrs = ev.sub_object(traits, "objectAttributes", "traits.objectAttributes")?;
    let relationship_attrs = relationship_attributes(ev, traits, config)?;

    let mut attributes = Map::new();
    if let Some(t) = traits {
        for (k, v) in t {
            if !RESERVED.contains(&k.as_str()) {
                attributes.insert(k.clone(), v.clone());
            }
        }
    }
    if let Some(c) = created_at(traits) {
        attributes.insert("created_at".to_owned(), c);
    }
    if let Some(o) = object_attrs {
        for (k, v) in o {
            if !RESERVED_INSIDE.contains(&k.as_str()) {
                attributes.insert(k.clone(), v.clone());
            }
        }
    }
    if config.convert_timestamps {
        convert_attributes(&mut attributes);
    }
    if let Some(c) = attributes.get_mut("created_at") {
        *c = created_at_number(std::mem::take(c));
    }
    if let Some(anon) = &anonymous {
        attributes.insert("anonymous_id".to_owned(), Value::String(anon.clone()));
    }
    let (op_action, relationship) = match (user_id, anonymous) {
        (Some(user), _) => (
            "identify",
            Some(one_relationship(
                person_identifier(&user),
                relationship_attrs,
            )),
        ),
        (None, Some(anon)) => {
            let mut ids = Map::with_capacity(1);
            ids.insert("anonymous_id".to_owned(), Value::String(anon));
            (
                "identify_anonymous",
                Some(one_relationship(Value::Object(ids), relationship_attrs)),
            )
        }
        (None, None) => ("identify", None),
    };

    let mut body = Map::with_capacity(5);
    body.insert("type".to_owned(), Value::from("object"));
    body.insert("action".to_owned(), Value::from(op_action));
    body.insert(
        "identifiers".to_owned(),
        object_identifiers(object_id, type_id),
    );
    if !attributes.is_empty() {
        body.insert("attributes".to_owned(), Value::Object(attributes));
    }
    if let Some(rel) = relationship {
        body.insert("cio_relationships".to_owned(), rel);
    }
    Ok(Built::Body(Value::Object(body)))
}

/// The object named by `properties.objectId` and `properties.object_type_id`/`objectTypeId`.
fn properties_object(ev: &Ev<'_>, what: &str) -> Result<Value, Invalid> {
    let properties = ev.object("properties")?;
    let object_id = ev.id_value(
        properties.and_then(|p| p.get("objectId")),
        "properties.objectId",
    )?;
    let type_id = object_type_id(ev, properties, "properties")?;
    match object_id {
        Some(id) => Ok(object_identifiers(id, type_id)),
        None => Err(ev.invalid(
            "properties.objectId",
            format!(
                "{what}: set properties.objectId (and properties.object_type_id, default \"1\")"
            ),
        )),
    }
}

/// delete-object: `{"type":"object","action":"delete","identifiers":{object}}`.
pub(crate) fn delete_object(ev: &Ev<'_>) -> Result<Built, Invalid> {
    let identifiers = properties_object(ev, "no object identifier")?;
    let mut body = Map::with_capacity(3);
    body.insert("type".to_owned(), Value::from("object"));
    body.insert("action".to_owned(), Value::from("delete"));
    body.insert("identifiers".to_owned(), identifiers);
    Ok(Built::Body(Value::Object(body)))
}

/// delete-relationship: the object is the root identifier, the person the relationship.
pub(crate) fn delete_relationship(ev: &Ev<'_>) -> Result<Built, Invalid> {
    let identifiers = properties_object(ev, "no object")?;
    let person = known_person(ev)?;
    let anonymous = ev.id("anonymousId")?;
    let mut body = Map::with_capacity(5);
    body.insert("type".to_owned(), Value::from("object"));
    body.insert("action".to_owned(), Value::from("delete_relationships"));
    body.insert("identifiers".to_owned(), identifiers);
    body.insert(
        "cio_relationships".to_owned(),
        one_relationship(person, None),
    );
    if let Some(anon) = anonymous {
        let mut attrs = Map::with_capacity(1);
        attrs.insert("anonymous_id".to_owned(), Value::String(anon));
        body.insert("attributes".to_owned(), Value::Object(attrs));
    }
    Ok(Built::Body(Value::Object(body)))
}
