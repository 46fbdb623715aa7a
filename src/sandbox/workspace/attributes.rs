//! A person's attributes kept small: each value as its compact JSON text, in the order and with
//! the update rules of serde_json's ordered `Map` (a new name goes last, an update keeps its
//! place, a removal moves the last attribute into the gap), rebuilt as a `Map` only when shown.
//! Each also keeps when it was set (Unix seconds), which the App API shows as `timestamps`.

use serde_json::value::{RawValue, to_raw_value};
use serde_json::{Map, Value};

#[derive(Debug, Default, Clone)]
pub(crate) struct Attributes(Vec<(Box<str>, Box<RawValue>, u64)>);

impl Attributes {
    /// Set `name` to `value` at Unix second `at`; `null` or an empty string removes it.
    pub(crate) fn set(&mut self, name: &str, value: &Value, at: u64) {
        let found = self.0.iter().position(|(n, _, _)| &**n == name);
        let remove = match value {
            Value::Null => true,
            Value::String(s) => s.is_empty(),
            _ => false,
        };
        if remove {
            if let Some(found) = found {
                self.0.swap_remove(found);
            }
            return;
        }
        let Ok(raw) = to_raw_value(value) else {
            return;
        };
        match found {
            Some(found) => {
                self.0[found].1 = raw;
                self.0[found].2 = at;
            }
            None => self.0.push((name.into(), raw, at)),
        }
    }

    /// Add the attributes of `other` this one lacks (a merge keeps the primary's values).
    pub(crate) fn absorb_missing(&mut self, other: Attributes) {
        for (name, raw, at) in other.0 {
            if !self.0.iter().any(|(n, _, _)| *n == name) {
                self.0.push((name, raw, at));
            }
        }
    }

    /// Each attribute in order: name, stored JSON text, Unix second it was set.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (&str, &RawValue, u64)> {
        self.0.iter().map(|(name, raw, at)| (&**name, &**raw, *at))
    }

    /// As a JSON object, for showing.
    pub(crate) fn to_map(&self) -> Map<String, Value> {
        self.0
            .iter()
            .map(|(name, raw, _)| {
                let value = serde_json::from_str(raw.get()).unwrap_or(Value::Null);
                (name.to_string(), value)
            })
            .collect()
    }
}

/// A stored JSON text shown as a value again.
pub(crate) fn shown(raw: &RawValue) -> Value {
    serde_json::from_str(raw.get()).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_update_moves_the_time_it_was_set() {
        let mut attrs = Attributes::default();
        attrs.set("plan", &json!("free"), 100);
        attrs.set("seats", &json!(2), 100);
        attrs.set("plan", &json!("pro"), 200);
        let times: Vec<(&str, &str, u64)> = attrs
            .entries()
            .map(|(n, raw, at)| (n, raw.get(), at))
            .collect();
        assert_eq!(times, [("plan", "\"pro\"", 200), ("seats", "2", 100)]);
    }

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
            attrs.set(name, &value, 7);
            super::super::set_attribute(&mut map, name, &value);
            assert_eq!(
                serde_json::to_string(&attrs.to_map()).unwrap(),
                serde_json::to_string(&map).unwrap()
            );
        }
        let mut other = Attributes::default();
        other.set("a", &json!(9), 8);
        other.set("z", &json!([1]), 9);
        attrs.absorb_missing(other);
        assert_eq!(
            Value::Object(attrs.to_map()),
            json!({"a": 2, "e": 1e300, "d": true, "z": [1]})
        );
        let times: Vec<(&str, u64)> = attrs.entries().map(|(n, _, at)| (n, at)).collect();
        assert_eq!(times, [("a", 7), ("d", 7), ("e", 7), ("z", 9)]);
    }
}
