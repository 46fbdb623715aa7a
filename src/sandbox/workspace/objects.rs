//! Objects and relationships in the workspace: object identify / delete, relationship lists.

use serde_json::{Map, Value};

use super::{Ident, Object, ObjectKey, Outcome, Workspace, set_attribute};

impl Workspace {
    pub(super) fn object(&mut self, op: &Value) -> Outcome {
        let action = op.get("action").and_then(Value::as_str).unwrap_or_default();
        let ids = op.get("identifiers");
        let create = matches!(
            action,
            "identify" | "identify_anonymous" | "add_relationships"
        );
        let Some(key) = ids.and_then(|ids| self.object_key(ids, create)) else {
            return Outcome::Ignored;
        };
        if action == "delete" {
            self.objects.remove(&key);
            self.object_cio.retain(|_, k| *k != key);
            for person in self.people.values_mut() {
                person.relationships.remove(&key);
            }
            for anon in self.anonymous.values_mut() {
                anon.relationships.remove(&key);
            }
            return Outcome::Applied;
        }
        if let Some(object) = self.objects.get_mut(&key) {
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
                if add {
                    rels.insert(key.clone(), attrs);
                } else {
                    rels.remove(&key);
                }
            }
        }
        Outcome::Applied
    }

    /// The object these identifiers name, created (type + id only) when `create`.
    fn object_key(&mut self, ids: &Value, create: bool) -> Option<ObjectKey> {
        if let Some(cio) = ids.get("cio_object_id").and_then(Value::as_str) {
            return self.object_cio.get(cio).cloned();
        }
        let type_id = ids.get("object_type_id")?.as_str()?.to_string();
        let key = (type_id, ids.get("object_id")?.as_str()?.to_string());
        if !self.objects.contains_key(&key) {
            if !create {
                return None;
            }
            self.next_object += 1;
            let cio_object_id = format!("ob{:08x}", self.next_object);
            self.object_cio.insert(cio_object_id.clone(), key.clone());
            let attributes = Map::new();
            self.objects.insert(
                key.clone(),
                Object {
                    cio_object_id,
                    attributes,
                },
            );
        }
        Some(key)
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
                if add {
                    person.relationships.insert(object, attrs);
                } else {
                    person.relationships.remove(&object);
                }
            }
        }
    }
}

fn relationship_attributes(rel: &Value) -> Map<String, Value> {
    rel.get("relationship_attributes")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}
