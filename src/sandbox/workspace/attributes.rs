//! A person's attributes kept small: each value as its compact JSON text, in the order and with
//! the update rules of serde_json's ordered `Map` (a new name goes last, an update keeps its
//! place, a removal moves the last attribute into the gap), rebuilt as a `Map` only when shown.

use serde_json::value::{RawValue, to_raw_value};
use serde_json::{Map, Value};

#[derive(Debug, Default, Clone)]
pub struct Attributes(Vec<(Box<str>, Box<RawValue>)>);

impl Attributes {
    /// Set `name` to `value`; `null` or an empty string removes it.
    pub fn set(&mut self, name: &str, value: &Value) {
        let at = self.0.iter().position(|(n, _)| &**n == name);
        let remove = match value {
            Value::Null => true,
            Value::String(s) => s.is_empty(),
            _ => false,
        };
        if remove {
            if let Some(at) = at {
                self.0.swap_remove(at);
            }
            return;
        }
        let Ok(raw) = to_raw_value(value) else {
            return;
        };
        match at {
            Some(at) => self.0[at].1 = raw,
            None => self.0.push((name.into(), raw)),
        }
    }

    /// Add the attributes of `other` this one lacks (a merge keeps the primary's values).
    pub fn absorb_missing(&mut self, other: Attributes) {
        for (name, raw) in other.0 {
            if !self.0.iter().any(|(n, _)| *n == name) {
                self.0.push((name, raw));
            }
        }
    }

    /// As a JSON object, for showing.
    pub fn to_map(&self) -> Map<String, Value> {
        self.0
            .iter()
            .map(|(name, raw)| {
                let value = serde_json::from_str(raw.get()).unwrap_or(Value::Null);
                (name.to_string(), value)
            })
            .collect()
    }
}

/// A stored JSON text shown as a value again.
pub fn shown(raw: &RawValue) -> Value {
    serde_json::from_str(raw.get()).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn updates_follow_the_ordered_map_rules() {
        let mut attrs = Attributes::default();
        let mut map = Map::new();
        let steps = [
            ("a", json!(1)),
            ("b", json!({"x": [1.5, "é", null], "y": {}})),
            ("c", json!("c")),
            ("d", json!(true)),
            ("a", json!(2)),
            ("b", Value::Null),
            ("e", json!(1e300)),
            ("c", json!("")),
            ("missing", Value::Null),
        ];
        for (name, value) in steps {
            attrs.set(name, &value);
            super::super::set_attribute(&mut map, name, &value);
            assert_eq!(
                serde_json::to_string(&attrs.to_map()).unwrap(),
                serde_json::to_string(&map).unwrap()
            );
        }
        let mut other = Attributes::default();
        other.set("a", &json!(9));
        other.set("z", &json!([1]));
        attrs.absorb_missing(other);
        assert_eq!(
            Value::Object(attrs.to_map()),
            json!({"a": 2, "e": 1e300, "d": true, "z": [1]})
        );
    }
}
