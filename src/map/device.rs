//! Device operations: create-update-device (`add_device`) and delete-device, with the token and
//! platform fallbacks of mapping.md §4 and §7a (segment-destination.md §5.5, §5.6).

use serde_json::{Map, Value};

use super::event::root_seconds;
use super::fields::Ev;
use super::identifiers::known_person;
use super::timestamp::convert_attributes;
use super::{Built, Invalid, MappingConfig};

/// Property keys used as fallbacks, never repeated in `device.attributes`.
const FALLBACK_KEYS: [&str; 4] = ["device_id", "token", "platform", "email"];

/// The device token: `context.device.token`, else `properties.device_id`, else `properties.token`.
fn token(ev: &Ev<'_>, properties: Option<&Map<String, Value>>) -> Result<String, Invalid> {
    let context = ev.object("context")?;
    let device = ev.sub_object(context, "device", "context.device")?;
    let candidates = [
        (device.and_then(|d| d.get("token")), "context.device.token"),
        (
            properties.and_then(|p| p.get("device_id")),
            "properties.device_id",
        ),
        (properties.and_then(|p| p.get("token")), "properties.token"),
    ];
    let mut found = None;
    for (v, path) in candidates {
        let id = ev.id_value(v, path)?;
        if found.is_none() {
            found = id;
        }
    }
    found.ok_or_else(|| {
        ev.invalid(
            "context.device.token",
            "no device token: set context.device.token or properties.device_id (or \
             properties.token)",
        )
    })
}

/// The platform, lower-cased: `context.device.type`, else `properties.platform`; ios or android.
fn platform(ev: &Ev<'_>, properties: Option<&Map<String, Value>>) -> Result<String, Invalid> {
    let context = ev.object("context")?;
    let device = ev.sub_object(context, "device", "context.device")?;
    let from_context = ev.text_value(device.and_then(|d| d.get("type")), "context.device.type")?;
    let from_properties = ev.text_value(
        properties.and_then(|p| p.get("platform")),
        "properties.platform",
    )?;
    let (value, path) = match (from_context, from_properties) {
        (Some(v), _) => (v, "context.device.type"),
        (None, Some(v)) => (v, "properties.platform"),
        (None, None) => {
            return Err(ev.invalid(
                "context.device.type",
                "no device platform: set context.device.type or properties.platform (ios or \
                 android)",
            ));
        }
    };
    let lower = value.to_lowercase();
    if lower == "ios" || lower == "android" {
        Ok(lower)
    } else {
        Err(ev.invalid(
            path,
            format!("device platform \"{value}\" is not supported: set {path} to ios or android"),
        ))
    }
}

/// create-update-device → `add_device`.
pub(crate) fn create_update(ev: &Ev<'_>, config: &MappingConfig) -> Result<Built, Invalid> {
    let properties = ev.object("properties")?;
    let identifiers = known_person(ev)?;
    let token = token(ev, properties)?;
    let platform = platform(ev, properties)?;
    let last_used = root_seconds(ev)?;
    let context = ev.object("context")?;
    let app = ev.sub_object(context, "app", "context.app")?;
    let app_version = ev.text_value(app.and_then(|a| a.get("version")), "context.app.version")?;

    let mut attributes = Map::new();
    if let Some(p) = properties {
        for (k, v) in p {
            if !FALLBACK_KEYS.contains(&k.as_str()) {
                attributes.insert(k.clone(), v.clone());
            }
        }
    }
    if let Some(v) = app_version {
        attributes.insert("app_version".to_owned(), Value::String(v));
    }
    if config.convert_timestamps {
        convert_attributes(&mut attributes);
    }

    let mut device = Map::with_capacity(4);
    device.insert("token".to_owned(), Value::String(token));
    device.insert("platform".to_owned(), Value::String(platform));
    if let Some(s) = last_used {
        device.insert("last_used".to_owned(), Value::from(s));
    }
    device.insert("attributes".to_owned(), Value::Object(attributes));

    let mut body = Map::with_capacity(4);
    body.insert("type".to_owned(), Value::from("person"));
    body.insert("action".to_owned(), Value::from("add_device"));
    body.insert("identifiers".to_owned(), identifiers);
    body.insert("device".to_owned(), Value::Object(device));
    Ok(Built::Body(Value::Object(body)))
}

/// delete-device → `delete_device` with the token only.
pub(crate) fn delete(ev: &Ev<'_>) -> Result<Built, Invalid> {
    let properties = ev.object("properties")?;
    let identifiers = known_person(ev)?;
    let token = token(ev, properties)?;
    let mut device = Map::with_capacity(1);
    device.insert("token".to_owned(), Value::String(token));
    let mut body = Map::with_capacity(4);
    body.insert("type".to_owned(), Value::from("person"));
    body.insert("action".to_owned(), Value::from("delete_device"));
    body.insert("identifiers".to_owned(), identifiers);
    body.insert("device".to_owned(), Value::Object(device));
    Ok(Built::Body(Value::Object(body)))
}
