//! Objects and relationships in the workspace: object identify / delete, relationship lists.

use serde_json::{Map, Value};

use super::{
    Effect, Ident, Object, ObjectKey, Relationships, Workspace, object_number, set_attribute,
};

impl Workspace {
    pub(super) fn object(&mut self, op: &Value) -> Effect {
        let action = op.get("action").and_then(Value::as_str).unwrap_or_default();
        let ids = op.get("identifiers");
        let create = matches!(
            action,
            "identify" | "identify_anonymous" | "add_relationships"
        );
        let Some(number) = ids.and_then(|ids| self.object_key(ids, create)) else {
            return Effect::Ignored;
        };
        if action == "delete" {
            // Relationships to it go stale (see `Relationships`): nothing else to visit.
            if let Some(object) = self.objects.remove(&number) {
                self.object_numbers.remove(&(object.type_id, object.id));
            }
            return Effect::Applied;
        }
        if let Some(object) = self.objects.get_mut(&number) {
            for (name, value) in op
                .get("attributes")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                set_attribute(&mut object.attributes, name, value);
            }
        }
        let add = action != "delete_relationships";
        let rels = op.get("cio_relationships").and_then(Value::as_array);
        for rel in rels.into_iter().flatten() {
            let Some(ident) = rel.get("identifiers").and_then(Ident::from_map) else {
                continue;
            };
            let attrs = relationship_attributes(rel);
            if self.is_blocked(&ident) {
                continue;
            }
            let person = if add {
                self.find_or_create(&ident)
            } else {
                self.find(&ident)
            };
            let slot = match (person, &ident) {
                (Some(p), _) => self.people.get_mut(&p).map(|p| &mut p.relationships),
                (None, Ident::Anonymous(anon)) => Some(
                    &mut self
                        .anonymous
                        .entry(anon.clone())
                        .or_default()
                        .relationships,
                ),
                (None, _) => None,
            };
            if let Some(rels) = slot {
                relate(rels, &self.objects, number, add, attrs);
            }
        }
        Effect::Applied
    }

    /// The number of the object these identifiers name, created (type + id only) when `create`.
    fn object_key(&mut self, ids: &Value, create: bool) -> Option<u64> {
        if let Some(cio) = ids.get("cio_object_id").and_then(Value::as_str) {
            return object_number(cio).filter(|n| self.objects.contains_key(n));
        }
        let type_id = ids.get("object_type_id")?.as_str()?;
        let id = ids.get("object_id")?.as_str()?;
        let key: ObjectKey = (type_id.to_string(), id.to_string());
        if let Some(number) = self.object_numbers.get(&key) {
            return Some(*number);
        }
        if !create {
            return None;
        }
        self.next_object += 1;
        let number = self.next_object;
        self.object_numbers.insert(key, number);
        self.objects.insert(
            number,
            Object {
                type_id: type_id.to_string(),
                id: id.to_string(),
                attributes: Map::new(),
            },
        );
        Some(number)
    }

    pub(super) fn relate_person(&mut self, key: u64, rels: Option<&Value>, add: bool) {
        for rel in rels.and_then(Value::as_array).into_iter().flatten() {
            let Some(object) = rel
                .get("identifiers")
                .and_then(|ids| self.object_key(ids, add))
            else {
                continue;
            };
            let attrs = relationship_attributes(rel);
            if let Some(person) = self.people.get_mut(&key) {
                relate(&mut person.relationships, &self.objects, object, add, attrs);
            }
        }
    }

    /// The live relationships of a profile, in `(object_type_id, object_id)` order.
    pub(crate) fn relationships_of<'a>(
        &'a self,
        rels: &'a Relationships,
    ) -> Vec<(&'a str, &'a str, &'a Map<String, Value>)> {
        let mut out: Vec<_> = rels
            .iter()
            .filter_map(|(number, attrs)| {
                let object = self.objects.get(number)?;
                Some((object.type_id.as_str(), object.id.as_str(), attrs))
            })
            .collect();
        out.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        out
    }

    /// How many relationships of a profile are live.
    pub(crate) fn count_relationships(&self, rels: &Relationships) -> usize {
        rels.keys().filter(|n| self.objects.contains_key(n)).count()
    }
}

/// Add (or replace) or remove the relationship to object `number`, first dropping stale entries.
fn relate(
    rels: &mut Relationships,
    objects: &foldhash::HashMap<u64, Object>,
    number: u64,
    add: bool,
    attrs: Map<String, Value>,
) {
    rels.retain(|n, _| objects.contains_key(n));
    if add {
        rels.insert(number, attrs);
    } else {
        rels.remove(&number);
    }
}

fn relationship_attributes(rel: &Value) -> Map<String, Value> {
    rel.get("relationship_attributes")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}
