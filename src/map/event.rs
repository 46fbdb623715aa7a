//! Event-like operations: track, page and screen (`action: event|page|screen`, with an event id)
//! and content events (segment-destination.md §5.2–§5.4, §5.13; mapping.md §3–§6).

use serde_json::{Map, Value};

use super::event_id::event_id;
use super::fields::Ev;
use super::identifiers::{Person, Sources, lookup, no_identifier};
use super::timestamp::{convert_attributes, parse_root};
use super::{Built, Invalid, MappingConfig};
use crate::track::Action;

/// The root timestamp of an operation that sends one: seconds, or invalid.
pub(crate) fn root_seconds(ev: &Ev<'_>) -> Result<Option<i64>, Invalid> {
    match ev.map.get("timestamp") {
        None => Ok(None),
        Some(v) => parse_root(v)
            .map(|t| t.map(|t| t.seconds))
            .map_err(|e| ev.invalid("timestamp", e.to_string())),
    }
}

/// Put the anonymous id into the attributes (a known person) or take it out (an anonymous one),
/// as the destination's common builder does (segment-destination.md §4 steps 6 and 8).
fn place_anonymous_id(
    attributes: &mut Option<Map<String, Value>>,
    anonymous: Option<&str>,
    identified_anonymously: bool,
) {
    if let Some(anon) = anonymous {
        attributes
            .get_or_insert_with(Map::new)
            .insert("anonymous_id".to_owned(), Value::String(anon.to_owned()));
    }
    if identified_anonymously && let Some(attrs) = attributes.as_mut() {
        attrs.shift_remove("anonymous_id");
    }
}

/// A track, page or screen operation built but for its attributes, which come from the event's
/// `properties` once they have been moved out of it ([`Pending::finish`]).
pub(crate) struct Pending {
    body: Map<String, Value>,
    anonymous: Option<String>,
    anonymous_person: bool,
}

impl Pending {
    /// The operation body, with `properties` (moved out of the event) as its attributes.
    pub(crate) fn finish(
        self,
        properties: Option<Map<String, Value>>,
        config: &MappingConfig,
    ) -> Value {
        let Pending {
            mut body,
            anonymous,
            anonymous_person,
        } = self;
        let mut attributes = properties;
        if let Some(a) = attributes.as_mut().filter(|_| config.convert_timestamps) {
            convert_attributes(a);
        }
        place_anonymous_id(&mut attributes, anonymous.as_deref(), anonymous_person);
        if let Some(a) = attributes {
            body.insert("attributes".to_owned(), Value::Object(a));
        }
        Value::Object(body)
    }
}

/// track → `event`, page → `page` (named by `properties.url`), screen → `screen` (named by `name`).
/// Everything is read and checked here, the event id derived from the whole `event`; the
/// attributes are added by [`Pending::finish`] (the caller moves `properties` out, no copy).
pub(crate) fn track_like(
    ev: &Ev<'_>,
    config: &MappingConfig,
    event: &Value,
) -> Result<Built, Invalid> {
    let properties = ev.object("properties")?;
    let (op_action, name) = match ev.action {
        Action::TrackPageView => (
            "page",
            ev.text_value(properties.and_then(|p| p.get("url")), "properties.url")?
                .ok_or_else(|| {
                    ev.invalid(
                        "properties.url",
                        "page call has no properties.url (it becomes the page view's name): set \
                         properties.url",
                    )
                })?,
        ),
        Action::TrackScreenView => (
            "screen",
            ev.text_value(ev.map.get("name"), "name")?.ok_or_else(|| {
                ev.invalid(
                    "name",
                    "screen call has no \"name\": set name to the screen's name",
                )
            })?,
        ),
        _ => (
            "event",
            ev.text_value(ev.map.get("event"), "event")?
                .unwrap_or_default(),
        ),
    };
    let found = lookup(ev, Sources::KnownOrAnonymous)?;
    let anonymous = ev.id("anonymousId")?;
    let message_id = ev.id("messageId")?;
    let seconds = root_seconds(ev)?;
    let (identifiers, anonymous_person) = match found.person {
        Some(Person::Known(ids)) => (ids, false),
        Some(Person::Anonymous(a)) => {
            let mut m = Map::with_capacity(1);
            m.insert("anonymous_id".to_owned(), Value::String(a));
            (Value::Object(m), true)
        }
        None => {
            return Err(no_identifier(
                ev,
                Sources::KnownOrAnonymous,
                found.bad_email,
            ));
        }
    };
    // Before `properties` leaves the event: a derived id is made from the whole record.
    let id = event_id(config.event_id, message_id.as_deref(), seconds, event);

    let mut body = Map::with_capacity(7);
    body.insert("type".to_owned(), Value::from("person"));
    body.insert("action".to_owned(), Value::from(op_action));
    body.insert("identifiers".to_owned(), identifiers);
    body.insert("name".to_owned(), Value::String(name));
    if let Some(id) = id {
        body.insert("id".to_owned(), Value::String(id));
    }
    if let Some(s) = seconds {
        body.insert("timestamp".to_owned(), Value::from(s));
    }
    Ok(Built::Track(Pending {
        body,
        anonymous,
        anonymous_person,
    }))
}

/// report-content-event: identified by `anonymousId` alone; action and name are
/// `properties.actionType`.
pub(crate) fn content(ev: &Ev<'_>, config: &MappingConfig) -> Result<Built, Invalid> {
    let properties = ev.object("properties")?;
    let action_type = match properties.and_then(|p| p.get("actionType")) {
        Some(Value::String(s)) if s == "viewed_content" || s == "clicked_content" => s.clone(),
        _ => {
            return Err(ev.invalid(
                "properties.actionType",
                "ActionType must be one of: \"viewed_content\" or \"clicked_content\": set \
                 properties.actionType to one of them",
            ));
        }
    };
    let anonymous = ev.id("anonymousId")?.ok_or_else(|| {
        ev.invalid(
            "anonymousId",
            "no identifier: a content event is identified by anonymousId alone; set anonymousId",
        )
    })?;
    let seconds = root_seconds(ev)?;
    let mut attributes = properties.cloned().unwrap_or_default();
    attributes.shift_remove("actionType");
    attributes.shift_remove("anonymous_id");
    if config.convert_timestamps {
        convert_attributes(&mut attributes);
    }
    let mut ids = Map::with_capacity(1);
    ids.insert("anonymous_id".to_owned(), Value::String(anonymous));

    let mut body = Map::with_capacity(6);
    body.insert("type".to_owned(), Value::from("person"));
    body.insert("action".to_owned(), Value::String(action_type.clone()));
    body.insert("name".to_owned(), Value::String(action_type));
    body.insert("identifiers".to_owned(), Value::Object(ids));
    if let Some(s) = seconds {
        body.insert("timestamp".to_owned(), Value::from(s));
    }
    body.insert("attributes".to_owned(), Value::Object(attributes));
    Ok(Built::Body(Value::Object(body)))
}
