//! The sandbox's in-memory workspace: people, objects, relationships, devices, suppressions and
//! events, and how each accepted (already validated) operation changes them.

mod attributes;
mod events;
mod ident;
mod merge;
mod objects;

use std::collections::{BTreeMap, BTreeSet};

use foldhash::HashMap;
use serde_json::value::{RawValue, to_raw_value};
use serde_json::{Map, Value};

pub(super) use attributes::{Attributes, shown};
pub(super) use events::{EventIds, Events, Names};
pub(super) use ident::Ident;

/// `(object_type_id, object_id)`.
pub(super) type ObjectKey = (String, String);

/// Relationships of one profile, by the number of the object (behind its cio_object_id). An
/// entry whose object was deleted since is stale: never shown nor counted, dropped when the
/// profile's relationships change next (so deleting an object does not visit every profile).
pub(super) type Relationships = BTreeMap<u64, Map<String, Value>>;

#[derive(Debug, Default)]
pub(super) struct Profile {
    pub id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub anonymous_ids: BTreeSet<String>,
    pub attributes: Attributes,
    /// By token.
    pub devices: BTreeMap<String, Device>,
    pub relationships: Relationships,
    pub events: Events,
    /// When the person was created (Unix seconds, the time of the operation that created them).
    pub created_at: u64,
}

/// A device as last sent, and when.
#[derive(Debug)]
pub(super) struct Device {
    /// The device object as last sent (its compact JSON).
    pub raw: Box<RawValue>,
    /// The time of the operation that stored it (Unix seconds).
    pub stored_at: u64,
}

/// Events and relationships of an anonymous id no person has claimed yet.
#[derive(Debug, Default)]
pub(super) struct Anonymous {
    pub events: Events,
    pub relationships: Relationships,
}

#[derive(Debug)]
pub(super) struct Object {
    pub type_id: String,
    pub id: String,
    pub attributes: Map<String, Value>,
}

/// What applying one accepted operation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Effect {
    Applied,
    /// It addressed a suppressed identifier: accepted and ignored.
    Blocked,
    /// Nothing to apply it to (unknown cio_id, merge without a primary, deleting nobody...).
    Ignored,
}

#[derive(Debug, Default)]
pub(super) struct Workspace {
    /// By the number behind the person's cio_id (unordered: sorted when shown).
    pub people: HashMap<u64, Profile>,
    index: HashMap<Ident, u64>,
    /// Unordered: sorted when shown.
    pub anonymous: HashMap<String, Anonymous>,
    /// By the number behind the object's cio_object_id (unordered: sorted when shown).
    pub objects: HashMap<u64, Object>,
    object_numbers: HashMap<ObjectKey, u64>,
    device_owner: HashMap<String, u64>,
    /// Suppression groups (the identifiers of one suppressed person), by group number.
    pub suppressions: BTreeMap<u64, BTreeSet<Ident>>,
    blocked: HashMap<Ident, u64>,
    event_ids: EventIds,
    /// Event kinds and names, stored once.
    pub names: Names,
    pub events_total: u64,
    pub events_duplicates: u64,
    pub metrics: BTreeMap<String, u64>,
    pub deliveries: BTreeMap<String, u64>,
    pub applied: u64,
    pub blocked_ops: u64,
    pub ignored_ops: u64,
    next_person: u64,
    next_object: u64,
    next_group: u64,
    /// The time of the operation being applied (Unix seconds): its `timestamp` when it has an
    /// integer one, else the sandbox's clock.
    now: u64,
}

/// The cio_id the sandbox gives person number `n`.
pub(super) fn cio_id(n: u64) -> String {
    format!("{n:08x}")
}

/// The cio_object_id the sandbox gives object number `n`.
pub(super) fn cio_object_id(n: u64) -> String {
    format!("ob{n:08x}")
}

/// The object number behind a cio_object_id the sandbox gave (exactly that spelling).
fn object_number(cio: &str) -> Option<u64> {
    let n = u64::from_str_radix(cio.strip_prefix("ob")?, 16).ok()?;
    (cio_object_id(n) == cio).then_some(n)
}

impl Workspace {
    /// Apply one valid v2 operation and count the outcome.
    pub(super) fn apply(&mut self, op: &Value) -> Effect {
        self.now = op
            .get("timestamp")
            .and_then(Value::as_u64)
            .unwrap_or_else(unix_now);
        let outcome = match op.get("type").and_then(Value::as_str) {
            Some("person") => self.person(op),
            Some("object") => self.object(op),
            Some("delivery") => {
                let name = op.get("name").and_then(Value::as_str).unwrap_or_default();
                count(&mut self.deliveries, name);
                Effect::Applied
            }
            _ => Effect::Ignored,
        };
        match outcome {
            Effect::Applied => self.applied += 1,
            Effect::Blocked => self.blocked_ops += 1,
            Effect::Ignored => self.ignored_ops += 1,
        }
        outcome
    }

    /// Count one accepted `/api/v1/metrics` body.
    pub(super) fn metric(&mut self, body: &Value) {
        let metric = body
            .get("metric")
            .and_then(Value::as_str)
            .unwrap_or_default();
        count(&mut self.metrics, metric);
        self.applied += 1;
    }

    pub(super) fn is_blocked(&self, ident: &Ident) -> bool {
        self.blocked.contains_key(ident)
    }

    pub(super) fn find(&self, ident: &Ident) -> Option<u64> {
        self.index.get(ident).copied()
    }

    fn person(&mut self, op: &Value) -> Effect {
        let action = op.get("action").and_then(Value::as_str).unwrap_or_default();
        if action == "merge" {
            return self.merge(op);
        }
        let Some(ident) = op.get("identifiers").and_then(Ident::from_map) else {
            return Effect::Ignored;
        };
        if action == "unsuppress" {
            return match self.blocked.get(&ident).copied() {
                Some(group) => {
                    for freed in self.suppressions.remove(&group).unwrap_or_default() {
                        self.blocked.remove(&freed);
                    }
                    Effect::Applied
                }
                None => Effect::Ignored,
            };
        }
        if self.is_blocked(&ident) {
            return Effect::Blocked;
        }
        match action {
            "identify" => self.identify(&ident, op),
            "delete" => match self.find(&ident) {
                Some(key) => {
                    self.remove_person(key);
                    Effect::Applied
                }
                None => Effect::Ignored,
            },
            "suppress" => {
                let mut group: BTreeSet<Ident> = BTreeSet::from([ident.clone()]);
                if let Some(key) = self.find(&ident) {
                    group.extend(self.remove_person(key));
                }
                self.next_group += 1;
                for member in &group {
                    self.blocked.insert(member.clone(), self.next_group);
                }
                self.suppressions.insert(self.next_group, group);
                Effect::Applied
            }
            "add_relationships" | "delete_relationships" => {
                let add = action == "add_relationships";
                let key = if add {
                    self.find_or_create(&ident)
                } else {
                    self.find(&ident)
                };
                let Some(key) = key else {
                    return Effect::Ignored;
                };
                self.relate_person(key, op.get("cio_relationships"), add);
                Effect::Applied
            }
            "add_device" => self.add_device(&ident, op),
            "delete_device" => {
                let token = op
                    .pointer("/device/token")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let Some(key) = self.find(&ident) else {
                    return Effect::Ignored;
                };
                match self
                    .people
                    .get_mut(&key)
                    .and_then(|p| p.devices.remove(token))
                {
                    Some(_) => {
                        self.device_owner.remove(token);
                        Effect::Applied
                    }
                    None => Effect::Ignored,
                }
            }
            _ => self.event(&ident, action, op),
        }
    }

    fn identify(&mut self, ident: &Ident, op: &Value) -> Effect {
        let attrs = op.get("attributes").and_then(Value::as_object);
        let update_only = attrs
            .and_then(|a| a.get("_update"))
            .and_then(Value::as_bool)
            == Some(true);
        let key = if update_only {
            self.find(ident)
        } else {
            self.find_or_create(ident)
        };
        let Some(key) = key else {
            return Effect::Ignored;
        };
        for (name, value) in attrs.into_iter().flatten() {
            match (name.as_str(), value) {
                ("_update", _) => {}
                ("email", Value::String(email)) => {
                    self.claim(key, Ident::Email(email.to_lowercase()))
                }
                ("id", Value::String(id)) => self.claim(key, Ident::Id(id.clone())),
                ("anonymous_id", Value::String(anon)) => self.link(key, anon),
                _ => {}
            }
            if let Some(person) = self.people.get_mut(&key) {
                person.attributes.set(name, value, self.now);
            }
        }
        if op.get("cio_relationships").is_some() {
            self.relate_person(key, op.get("cio_relationships"), true);
        }
        Effect::Applied
    }

    fn event(&mut self, ident: &Ident, action: &str, op: &Value) -> Effect {
        let name = op
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim();
        let target = match ident {
            Ident::Anonymous(anon) => self.find(ident).ok_or(anon.clone()),
            _ => match self.find_or_create(ident) {
                Some(key) => Ok(key),
                None => return Effect::Ignored,
            },
        };
        self.events_total += 1;
        if let Some(id) = op.get("id").and_then(Value::as_str)
            && !self.event_ids.insert(id)
        {
            self.events_duplicates += 1;
            return Effect::Applied;
        }
        let (kind, name) = (self.names.intern(action), self.names.intern(name));
        let events = match target {
            Ok(key) => match self.people.get_mut(&key) {
                Some(person) => &mut person.events,
                None => return Effect::Ignored,
            },
            Err(anon) => &mut self.anonymous.entry(anon).or_default().events,
        };
        events.add(kind, name, 1);
        Effect::Applied
    }

    fn add_device(&mut self, ident: &Ident, op: &Value) -> Effect {
        let Some(device) = op.get("device") else {
            return Effect::Ignored;
        };
        let token = device
            .get("token")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let Ok(device) = to_raw_value(device) else {
            return Effect::Ignored;
        };
        let Some(key) = self.find_or_create(ident) else {
            return Effect::Ignored;
        };
        if let Some(previous) = self.device_owner.insert(token.clone(), key)
            && previous != key
            && let Some(person) = self.people.get_mut(&previous)
        {
            person.devices.remove(&token);
        }
        if let Some(person) = self.people.get_mut(&key) {
            let stored_at = self.now;
            person.devices.insert(
                token,
                Device {
                    raw: device,
                    stored_at,
                },
            );
        }
        Effect::Applied
    }

    /// The person addressed, created when the identifier can create one (not a cio_id, not an
    /// anonymous id).
    pub(super) fn find_or_create(&mut self, ident: &Ident) -> Option<u64> {
        if let Some(key) = self.find(ident) {
            return Some(key);
        }
        let mut person = Profile {
            created_at: self.now,
            ..Profile::default()
        };
        match ident {
            Ident::Id(v) => person.id = Some(v.clone()),
            Ident::Email(v) => person.email = Some(v.clone()),
            Ident::Phone(v) => person.phone = Some(v.clone()),
            Ident::CioId(_) | Ident::Anonymous(_) => return None,
        }
        self.next_person += 1;
        let key = self.next_person;
        self.index.insert(Ident::CioId(cio_id(key)), key);
        self.index.insert(ident.clone(), key);
        self.people.insert(key, person);
        Some(key)
    }

    /// Give person `key` this id or email, unless someone else holds it (then it stays an
    /// attribute only, as Customer.io records an attribute-update failure).
    pub(super) fn claim(&mut self, key: u64, ident: Ident) {
        if self.index.get(&ident).is_some_and(|owner| *owner != key) {
            return;
        }
        let Some(person) = self.people.get_mut(&key) else {
            return;
        };
        let old = match &ident {
            Ident::Id(v) => person.id.replace(v.clone()).map(Ident::Id),
            Ident::Email(v) => person.email.replace(v.clone()).map(Ident::Email),
            _ => None,
        };
        if let Some(old) = old.filter(|old| *old != ident) {
            self.index.remove(&old);
        }
        self.index.insert(ident, key);
    }

    /// Remove person `key`; returns the identifiers they had.
    fn remove_person(&mut self, key: u64) -> Vec<Ident> {
        let Some(person) = self.people.remove(&key) else {
            return Vec::new();
        };
        self.unindex(key, &person)
    }

    pub(super) fn unindex(&mut self, key: u64, person: &Profile) -> Vec<Ident> {
        let mut idents = vec![Ident::CioId(cio_id(key))];
        idents.extend(person.id.clone().map(Ident::Id));
        idents.extend(person.email.clone().map(Ident::Email));
        idents.extend(person.phone.clone().map(Ident::Phone));
        for ident in idents.iter().chain(
            &person
                .anonymous_ids
                .iter()
                .cloned()
                .map(Ident::Anonymous)
                .collect::<Vec<_>>(),
        ) {
            self.index.remove(ident);
        }
        for token in person.devices.keys() {
            self.device_owner.remove(token);
        }
        idents
    }
}

/// The sandbox's clock in Unix seconds.
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// One more for `name` (allocating the key only the first time).
fn count(counts: &mut BTreeMap<String, u64>, name: &str) {
    match counts.get_mut(name) {
        Some(n) => *n += 1,
        None => {
            counts.insert(name.to_string(), 1);
        }
    }
}

pub(super) fn set_attribute(attrs: &mut Map<String, Value>, name: &str, value: &Value) {
    match value {
        Value::Null => {
            attrs.remove(name);
        }
        Value::String(s) if s.is_empty() => {
            attrs.remove(name);
        }
        _ => {
            attrs.insert(name.to_string(), value.clone());
        }
    }
}

#[cfg(test)]
mod tests;
