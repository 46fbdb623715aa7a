//! The expected final state of each person the input touches, built in one pass over the mapped
//! operations in input order: the last value of every identify attribute (as sent, timestamps
//! already converted), merges, deletions and suppressions, devices added and deleted. With a
//! sampler only the sampled people are held.

use std::collections::BTreeMap;

use foldhash::HashMap;
use serde_json::{Map, Value};

use super::key::{IdKind, PersonKey};
use super::sample::{Admission, Sampler};
use crate::track::Operation;

/// Whether the person must be in the workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Presence {
    /// An identify, an event, a device or a relationship created or updated them.
    Present,
    /// Only operations that need an existing person (`_update` identifies, device deletions) or
    /// cannot create one (by cio_id): checked when found, not missed when absent.
    Unknown,
    /// Deleted or merged away: must be absent.
    Deleted,
    /// Suppressed: must be absent, and operations after it are ignored until an unsuppress.
    Suppressed,
}

/// A device as last added.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExpectedDevice {
    pub platform: Option<String>,
    pub attributes: Map<String, Value>,
}

/// One person's expected state. An attribute of `None` was removed (sent as null or "").
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Expected {
    pub presence: Presence,
    pub attributes: BTreeMap<String, Option<Value>>,
    /// By token; `None`: deleted, must be absent.
    pub devices: BTreeMap<String, Option<ExpectedDevice>>,
    /// Other identifiers that resolve to this person (an `email` attribute of a person
    /// identified by id, and the reverse).
    aliases: Vec<PersonKey>,
}

impl Expected {
    fn new() -> Expected {
        Expected {
            presence: Presence::Unknown,
            attributes: BTreeMap::new(),
            devices: BTreeMap::new(),
            aliases: Vec::new(),
        }
    }

    fn is_suppressed(&self) -> bool {
        self.presence == Presence::Suppressed
    }

    /// Gone (deleted, merged away or suppressed): what they had goes too.
    fn remove(&mut self, presence: Presence) {
        self.presence = presence;
        self.attributes.clear();
        self.devices.clear();
    }

    /// Something that creates a person when they do not exist happened to them (a cio_id
    /// never creates one).
    fn touch(&mut self, key: &PersonKey) {
        if key.kind != IdKind::CioId {
            self.presence = Presence::Present;
        } else if self.presence == Presence::Deleted {
            self.presence = Presence::Unknown;
        }
    }
}

/// Counts of what the pass saw.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Seen {
    /// Operations on people that could be looked up.
    pub person_operations: u64,
    /// Operations addressing only an anonymous id (not comparable: the App API cannot look one up).
    pub anonymous_operations: u64,
    /// People first seen (all of them, sampled or not).
    pub people: u64,
}

/// The expectations being built.
#[derive(Debug)]
pub(crate) struct Expectations {
    people: HashMap<PersonKey, Expected>,
    aliases: HashMap<PersonKey, PersonKey>,
    sampler: Option<Sampler>,
    /// Every person seen once, when there is no sampler (to count people without holding
    /// them twice, the map above serves).
    pub seen: Seen,
}

impl Expectations {
    /// Expectations for every person (`None`) or for a sample.
    pub(crate) fn new(sampler: Option<Sampler>) -> Expectations {
        Expectations {
            people: HashMap::default(),
            aliases: HashMap::default(),
            sampler,
            seen: Seen::default(),
        }
    }

    /// Apply one mapped operation.
    pub(crate) fn apply(&mut self, op: &Operation) {
        let body = &op.body;
        if body.get("type").and_then(Value::as_str) != Some("person") {
            return;
        }
        let action = body.get("action").and_then(Value::as_str).unwrap_or("");
        if action == "merge" {
            self.merge(body);
            return;
        }
        let Some(key) = PersonKey::of_identifiers(body.get("identifiers")) else {
            self.seen.anonymous_operations += 1;
            return;
        };
        self.seen.person_operations += 1;
        let Some((key, person)) = self.entry(key) else {
            return;
        };
        if person.is_suppressed() {
            if action == "unsuppress" {
                person.presence = Presence::Deleted;
            }
            return;
        }
        let mut aliases = Vec::new();
        match action {
            "identify" => {
                let attrs = body.get("attributes").and_then(Value::as_object);
                let update_only = attrs
                    .and_then(|a| a.get("_update"))
                    .and_then(Value::as_bool)
                    == Some(true);
                if update_only {
                    if person.presence == Presence::Deleted {
                        return;
                    }
                } else {
                    person.touch(&key);
                }
                for (name, value) in attrs.into_iter().flatten() {
                    if name == "_update" {
                        continue;
                    }
                    let kept = match value {
                        Value::Null => None,
                        Value::String(s) if s.is_empty() => None,
                        other => Some(other.clone()),
                    };
                    if let Some(Value::String(other)) = &kept {
                        match (name.as_str(), key.kind) {
                            ("email", kind) if kind != IdKind::Email => {
                                aliases.push(PersonKey::new(IdKind::Email, other))
                            }
                            ("id", kind) if kind != IdKind::Id => {
                                aliases.push(PersonKey::new(IdKind::Id, other))
                            }
                            _ => {}
                        }
                    }
                    person.attributes.insert(name.clone(), kept);
                }
            }
            "delete" => person.remove(Presence::Deleted),
            "suppress" => person.remove(Presence::Suppressed),
            "unsuppress" | "delete_relationships" => {}
            "add_device" => {
                let device = body.get("device");
                let token = device.and_then(|d| d.get("token")).and_then(Value::as_str);
                if let (Some(device), Some(token)) = (device, token) {
                    person.touch(&key);
                    let expected = ExpectedDevice {
                        platform: device
                            .get("platform")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                        attributes: device
                            .get("attributes")
                            .and_then(Value::as_object)
                            .cloned()
                            .unwrap_or_default(),
                    };
                    person.devices.insert(token.to_string(), Some(expected));
                }
            }
            "delete_device" => {
                let token = body.pointer("/device/token").and_then(Value::as_str);
                if let Some(token) = token {
                    person.devices.insert(token.to_string(), None);
                }
            }
            // Events, page and screen views, content events, relationships added.
            _ => person.touch(&key),
        }
        for alias in aliases {
            self.alias(alias, &key);
        }
    }

    /// The person `key` names (through an alias when one is known), held or newly admitted;
    /// `None` when the sample leaves them out.
    fn entry(&mut self, key: PersonKey) -> Option<(PersonKey, &mut Expected)> {
        let key = self.aliases.get(&key).cloned().unwrap_or(key);
        if !self.people.contains_key(&key) {
            self.seen.people += 1;
            if let Some(sampler) = &mut self.sampler {
                match sampler.admit(&key) {
                    Admission::Out => return None,
                    Admission::In(Some(evicted)) => self.evict(&evicted),
                    Admission::In(None) => {}
                }
            }
            self.people.insert(key.clone(), Expected::new());
        }
        let person = self.people.get_mut(&key)?;
        Some((key, person))
    }

    fn evict(&mut self, key: &PersonKey) {
        if let Some(gone) = self.people.remove(key) {
            for alias in gone.aliases {
                self.aliases.remove(&alias);
            }
        }
    }

    /// Let `alias` resolve to `key`, unless it is a person of its own already.
    fn alias(&mut self, alias: PersonKey, key: &PersonKey) {
        if self.people.contains_key(&alias) || self.aliases.contains_key(&alias) {
            return;
        }
        if let Some(person) = self.people.get_mut(key) {
            person.aliases.push(alias.clone());
            self.aliases.insert(alias, key.clone());
        }
    }

    /// A merge: the secondary's attributes and devices move to the primary where it lacks them,
    /// and the secondary is gone. Nothing happens when either of them is suppressed.
    fn merge(&mut self, body: &Value) {
        let primary = PersonKey::of_identifiers(body.get("primary"));
        let secondary = PersonKey::of_identifiers(body.get("secondary"));
        self.seen.person_operations += 1;
        let primary = primary.and_then(|k| self.entry(k).map(|(k, _)| k));
        let secondary = secondary.and_then(|k| self.entry(k).map(|(k, _)| k));
        if primary.is_some() && primary == secondary {
            return;
        }
        let blocked = [&primary, &secondary].into_iter().flatten().any(|k| {
            self.people
                .get(k)
                .is_some_and(|p| p.presence == Presence::Suppressed)
        });
        if blocked {
            return;
        }
        let moved = secondary.as_ref().and_then(|k| {
            let person = self.people.get_mut(k)?;
            let moved = (person.attributes.clone(), person.devices.clone());
            person.remove(Presence::Deleted);
            Some(moved)
        });
        let Some(person) = primary.as_ref().and_then(|k| self.people.get_mut(k)) else {
            return;
        };
        match moved {
            Some((attributes, devices)) => {
                for (name, value) in attributes {
                    let slot = person.attributes.entry(name).or_insert(None);
                    if slot.is_none() {
                        *slot = value;
                    }
                }
                for (token, device) in devices {
                    if device.is_some() {
                        person.devices.entry(token).or_insert(device);
                    }
                }
            }
            // The secondary is not held (not sampled, or not addressable): whatever it had may
            // fill what the primary removed, so those are not checked.
            None => person.attributes.retain(|_, value| value.is_some()),
        }
    }

    /// People held, sorted by identifier.
    pub(crate) fn into_people(self) -> (Vec<(PersonKey, Expected)>, Seen) {
        let mut people: Vec<_> = self.people.into_iter().collect();
        people.sort_by(|a, b| a.0.cmp(&b.0));
        (people, self.seen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::track::Action;
    use serde_json::json;

    fn run(ops: &[Value]) -> BTreeMap<String, Expected> {
        let mut e = Expectations::new(None);
        for body in ops {
            e.apply(&Operation::new(Action::CreateUpdatePerson, body.clone()));
        }
        e.into_people()
            .0
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    }

    fn identify(id: &str, attrs: Value) -> Value {
        json!({"type": "person", "action": "identify", "identifiers": {"id": id}, "attributes": attrs})
    }

    #[test]
    fn last_values_win_and_removals_are_kept() {
        let got = run(&[
            identify("u1", json!({"plan": "free", "seats": 2, "gone": "x"})),
            identify("u1", json!({"plan": "pro", "gone": null})),
        ]);
        let u1 = &got["id u1"];
        assert_eq!(u1.presence, Presence::Present);
        assert_eq!(u1.attributes["plan"], Some(json!("pro")));
        assert_eq!(u1.attributes["seats"], Some(json!(2)));
        assert_eq!(u1.attributes["gone"], None);
    }

    #[test]
    fn deletes_suppressions_and_what_comes_after() {
        let person = |action: &str, id: &str| json!({"type": "person", "action": action, "identifiers": {"id": id}});
        let got = run(&[
            identify("u1", json!({"plan": "free"})),
            person("delete", "u1"),
            identify("u2", json!({"a": 1})),
            person("suppress", "u2"),
            identify("u2", json!({"b": 1})),
            person("suppress", "u3"),
            person("unsuppress", "u3"),
            identify("u4", json!({"a": 1})),
            person("delete", "u4"),
            identify("u4", json!({"b": 2})),
        ]);
        assert_eq!(got["id u1"].presence, Presence::Deleted);
        assert!(got["id u1"].attributes.is_empty());
        assert_eq!(got["id u2"].presence, Presence::Suppressed);
        assert!(got["id u2"].attributes.is_empty());
        assert_eq!(got["id u3"].presence, Presence::Deleted);
        assert_eq!(got["id u4"].presence, Presence::Present);
        assert_eq!(got["id u4"].attributes.len(), 1);
    }

    #[test]
    fn merges_move_what_the_primary_lacks() {
        let got = run(&[
            identify("p", json!({"plan": "pro", "removed": null})),
            identify(
                "s",
                json!({"plan": "free", "city": "Oslo", "removed": "back"}),
            ),
            json!({"type": "person", "action": "add_device", "identifiers": {"id": "s"},
                   "device": {"token": "t1", "platform": "ios"}}),
            json!({"type": "person", "action": "merge", "primary": {"id": "p"}, "secondary": {"id": "s"}}),
        ]);
        let p = &got["id p"];
        assert_eq!(p.attributes["plan"], Some(json!("pro")));
        assert_eq!(p.attributes["city"], Some(json!("Oslo")));
        assert_eq!(p.attributes["removed"], Some(json!("back")));
        assert!(p.devices["t1"].is_some());
        assert_eq!(got["id s"].presence, Presence::Deleted);
    }

    #[test]
    fn an_email_attribute_makes_an_alias() {
        let got = run(&[
            identify("u1", json!({"email": "Ann@X.io"})),
            json!({"type": "person", "action": "delete", "identifiers": {"email": "ann@x.io"}}),
        ]);
        assert_eq!(got.len(), 1);
        assert_eq!(got["id u1"].presence, Presence::Deleted);
    }

    #[test]
    fn devices_and_update_only_identifies() {
        let got = run(&[
            identify("u1", json!({"_update": true, "plan": "x"})),
            json!({"type": "person", "action": "delete_device", "identifiers": {"id": "u2"},
                   "device": {"token": "t9"}}),
            json!({"type": "person", "action": "event", "identifiers": {"anonymous_id": "a"}, "name": "e"}),
        ]);
        assert_eq!(got["id u1"].presence, Presence::Unknown);
        assert_eq!(got["id u1"].attributes["plan"], Some(json!("x")));
        assert_eq!(got["id u2"].presence, Presence::Unknown);
        assert_eq!(got["id u2"].devices["t9"], None);
        assert_eq!(got.len(), 2);
    }
}
