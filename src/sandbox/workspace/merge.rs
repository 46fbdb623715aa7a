//! Merging two people, and linking an anonymous id to a person (both move data between profiles).

use serde_json::Value;

use super::{Effect, Ident, Workspace};

impl Workspace {
    pub(super) fn merge(&mut self, op: &Value) -> Effect {
        let primary = op.get("primary").and_then(Ident::from_map);
        let secondary = op.get("secondary").and_then(Ident::from_map);
        let (Some(primary), Some(secondary)) = (primary, secondary) else {
            return Effect::Ignored;
        };
        if self.is_blocked(&primary) || self.is_blocked(&secondary) {
            return Effect::Blocked;
        }
        let (Some(p), Some(s)) = (self.find(&primary), self.find(&secondary)) else {
            return Effect::Ignored;
        };
        if p == s {
            return Effect::Ignored;
        }
        let Some(gone) = self.people.remove(&s) else {
            return Effect::Ignored;
        };
        self.unindex(s, &gone);
        for token in gone.devices.keys() {
            self.device_owner.insert(token.clone(), p);
        }
        // The secondary's id and email move only where the primary has none.
        let (has_id, has_email) = self.people.get(&p).map_or((true, true), |person| {
            (person.id.is_some(), person.email.is_some())
        });
        if let Some(id) = gone.id.clone().filter(|_| !has_id) {
            self.claim(p, Ident::Id(id));
        }
        if let Some(email) = gone.email.clone().filter(|_| !has_email) {
            self.claim(p, Ident::Email(email));
        }
        for anon in &gone.anonymous_ids {
            self.link(p, anon);
        }
        if let Some(person) = self.people.get_mut(&p) {
            person.attributes.absorb_missing(gone.attributes);
            for (token, device) in gone.devices {
                person.devices.entry(token).or_insert(device);
            }
            for (object, attrs) in gone.relationships {
                person.relationships.entry(object).or_insert(attrs);
            }
            person.events.absorb(gone.events);
        }
        Effect::Applied
    }

    /// Link an anonymous id to person `key`, moving what was recorded under it.
    pub(super) fn link(&mut self, key: u64, anon: &str) {
        let ident = Ident::Anonymous(anon.to_string());
        if self.index.get(&ident).is_some_and(|owner| *owner != key) {
            return;
        }
        self.index.insert(ident, key);
        let moved = self.anonymous.remove(anon);
        if let Some(person) = self.people.get_mut(&key) {
            person.anonymous_ids.insert(anon.to_string());
            if let Some(moved) = moved {
                person.events.absorb(moved.events);
                for (object, attrs) in moved.relationships {
                    person.relationships.entry(object).or_insert(attrs);
                }
            }
        }
    }
}
