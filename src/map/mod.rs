//! The mapping contract (docs/mapping.md): one Segment-spec event in, one outcome out. Pure: no I/O,
//! no global state.
//!
//! [`map_event`] routes a record to one of the 15 actions ([`route`]), builds that action's
//! operation (one module per action family), and checks the Track API's local limits ([`limits`]).

pub mod event_id;
mod fields;
pub(crate) mod gdpr;
pub(crate) mod identifiers;
pub(crate) mod limits;
pub(crate) mod route;
pub(crate) mod timestamp;
pub(crate) mod window;

mod device;
mod event;
mod merge;
mod metrics;
mod object;
mod person;
mod person_ops;

use serde_json::Value;

use crate::track::{Action, Operation};

pub use route::{Route, Routes};

/// How event ids are made (mapping.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventIdMode {
    /// A ULID: the `messageId` when it already is one, else derived deterministically.
    Ulid,
    /// The `messageId` as it came (what the destination does).
    MessageId,
    /// No event id.
    None,
}

/// Settings that change how records map.
#[derive(Debug, Clone)]
pub struct MappingConfig {
    /// Convert ISO-8601 strings in attribute objects to Unix seconds (mapping.md §5).
    pub convert_timestamps: bool,
    pub event_id: EventIdMode,
    /// The trigger table with the user's `--mapping` changes (default: mapping.md §1).
    pub routes: Routes,
}

impl Default for MappingConfig {
    fn default() -> Self {
        MappingConfig {
            convert_timestamps: true,
            event_id: EventIdMode::Ulid,
            routes: Routes::default(),
        }
    }
}

impl MappingConfig {
    /// A configuration with every setting given.
    pub fn new(convert_timestamps: bool, event_id: EventIdMode, routes: Routes) -> MappingConfig {
        MappingConfig {
            convert_timestamps,
            event_id,
            routes,
        }
    }
}

/// What became of one record (mapping.md §2).
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Mapped(Operation),
    /// `action` is `None` when the record never reached one (a transform made no record of it).
    Skipped {
        action: Option<Action>,
        reason: String,
    },
    Invalid(Invalid),
}

/// Why a record is invalid.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    /// The action, when routing succeeded.
    pub action: Option<Action>,
    /// The field at fault, as a dotted path, when there is one.
    pub field: Option<String>,
    /// What is wrong and what to do about it.
    pub message: String,
}

impl Invalid {
    /// An invalid outcome of `action` (when routed) at `field` (when there is one).
    pub(crate) fn new(
        action: Option<Action>,
        field: Option<&str>,
        message: impl Into<String>,
    ) -> Invalid {
        Invalid {
            action,
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{field}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// What an action's builder returns: the operation body, or a skip with its reason.
pub(crate) enum Built {
    Body(Value),
    Skip(String),
    /// A track, page or screen operation waiting for `properties`.
    Track(event::Pending),
    /// An identify waiting for `traits`.
    Identify(person::Pending),
}

/// Map one event (a copy of it: see [`map_event_taking`], which the pipeline uses).
pub fn map_event(event: &Value, config: &MappingConfig) -> Outcome {
    map_event_taking(&mut event.clone(), config)
}

/// Map one event, moving what the operation carries out of it instead of copying: `properties`
/// of a track, page or screen call, and the attribute keys of an identify's `traits` (its
/// reserved keys stay). Everything else, `timestamp` included, stays in `event`.
pub(crate) fn map_event_taking(event: &mut Value, config: &MappingConfig) -> Outcome {
    let Some(map) = event.as_object() else {
        return Outcome::Invalid(Invalid::new(
            None,
            None,
            format!(
                "a record must be a JSON object, not {}",
                fields::kind(event)
            ),
        ));
    };
    let action = match config.routes.route(map) {
        Route::To(action) => action,
        Route::Off { action, reason } => {
            return Outcome::Skipped {
                action: Some(action),
                reason,
            };
        }
        Route::Invalid(invalid) => return Outcome::Invalid(invalid),
    };
    let ev = fields::Ev::new(map, action);
    let staged = match action {
        Action::CreateUpdatePerson => person::identify(&ev, config),
        Action::TrackEvent | Action::TrackPageView | Action::TrackScreenView => {
            event::track_like(&ev, config, event)
        }
        Action::ReportContentEvent => event::content(&ev, config),
        Action::CreateUpdateObject => object::group(&ev, config),
        Action::DeleteObject => object::delete_object(&ev),
        Action::DeleteRelationship => object::delete_relationship(&ev),
        Action::CreateUpdateDevice => device::create_update(&ev, config),
        Action::DeleteDevice => device::delete(&ev),
        Action::DeletePerson | Action::SuppressPerson | Action::UnsuppressPerson => {
            person_ops::person_op(&ev)
        }
        Action::MergePeople => merge::merge(&ev),
        Action::ReportDeliveryEvent => metrics::delivery(&ev),
    };
    let built = match staged {
        Ok(Built::Track(pending)) => Ok(Built::Body(
            pending.finish(take_object(event, "properties"), config),
        )),
        Ok(Built::Identify(pending)) => {
            let (body, residue) = pending.finish(take_object(event, "traits"), config);
            if let (Some(residue), Some(map)) = (residue, event.as_object_mut()) {
                map.insert("traits".to_owned(), Value::Object(residue));
            }
            Ok(Built::Body(body))
        }
        other => other,
    };
    let Some(map) = event.as_object() else {
        return Outcome::Invalid(Invalid::new(Some(action), None, "the record changed shape"));
    };
    match built {
        Ok(Built::Body(body)) => {
            let op = Operation::encoded(action, body);
            match limits::check(&op, map) {
                Ok(()) => Outcome::Mapped(op),
                Err(invalid) => Outcome::Invalid(invalid),
            }
        }
        Ok(Built::Skip(reason)) => Outcome::Skipped {
            action: Some(action),
            reason,
        },
        Ok(Built::Track(_) | Built::Identify(_)) => Outcome::Invalid(Invalid::new(
            Some(action),
            None,
            "internal: an operation was left unfinished",
        )),
        Err(invalid) => Outcome::Invalid(invalid),
    }
}

/// Move the object at `key` out of `event` (a builder has checked that it is an object or absent).
fn take_object(event: &mut Value, key: &str) -> Option<serde_json::Map<String, Value>> {
    match event.as_object_mut()?.shift_remove(key) {
        Some(Value::Object(m)) => Some(m),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
