//! Parsing JSON text into a `serde_json::Value` whose objects are built at their exact size: the
//! members of an object are gathered first (on one scratch stack shared by every level), then the
//! map is made with room for all of them, so it is never rehashed or regrown. The result equals
//! `serde_json::from_str::<Value>` (same numbers, last duplicate key wins in the first one's
//! place, same nesting limit); a fifth less work on typical events (docs/performance.md).

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Parse `text` as one JSON value (trailing whitespace allowed, anything else after it is an error).
/// The JSON kind of a value, for messages ("an array", "a boolean", ...).
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(crate) fn from_str(text: &str) -> serde_json::Result<Value> {
    let mut scratch = Vec::new();
    let mut de = serde_json::Deserializer::from_str(text);
    let value = ValueSeed(&mut scratch).deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// Members of the objects being read, innermost last.
type Scratch = Vec<(String, Value)>;

struct ValueSeed<'a>(&'a mut Scratch);

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(ValueSeed(&mut *self.0))? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let base = self.0.len();
        while let Some(key) = access.next_key::<String>()? {
            let value = match access.next_value_seed(ValueSeed(&mut *self.0)) {
                Ok(value) => value,
                Err(e) => {
                    self.0.truncate(base);
                    return Err(e);
                }
            };
            self.0.push((key, value));
        }
        let mut map = Map::with_capacity(self.0.len() - base);
        for (key, value) in self.0.drain(base..) {
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::from_str;

    #[test]
    fn equals_serde_json_on_every_shape() {
        let texts = [
            r#"{"a":1,"b":[1,-2,3.5,1e300,-0.0,18446744073709551615,-9223372036854775808],"c":{"d":null,"e":true,"f":false,"g":"h\u00e9\n\"x"}}"#,
            r#"{"dup":1,"x":2,"dup":{"y":[{"z":{}}]}}"#,
            r#"  [ {}, [], "", 0 ]  "#,
            r#"{"k":{"k":{"k":{"k":[[[[{"deep":1}]]]]}}}}"#,
            "\"\\ud83d\\ude00\"",
        ];
        for text in texts {
            let ours = from_str(text).unwrap();
            let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(ours, theirs, "{text}");
            // Same member order too.
            assert_eq!(ours.to_string(), theirs.to_string(), "{text}");
        }
    }

    #[test]
    fn errors_match_serde_json() {
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        for text in [
            "{\"a\":1",
            "{\"a\":1}}",
            "{\"a\":[1,{\"b\":}]}",
            "1e400",
            "",
            "{\"a\":1} x",
            deep.as_str(),
        ] {
            let ours = from_str(text).map_err(|e| e.to_string());
            let theirs = serde_json::from_str::<serde_json::Value>(text).map_err(|e| e.to_string());
            assert_eq!(ours, theirs, "{text}");
        }
    }
}
