//! Reading one batch operation cheaply. An event's `attributes` (most of its bytes) are only
//! checked for their kind and measured (the length of their compact JSON), never built into a
//! `Value`; everything else is read as usual. Whenever this could differ in any way from reading
//! the whole operation as a `Value` (malformed JSON, a repeated key, deep nesting, serde_json's
//! raw-value marker key), it gives up and the caller reads it the ordinary way.

use std::borrow::Cow;
use std::fmt;
use std::hash::BuildHasher;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::validate::{EVENT_ACTIONS, EventAttributes, compact_len};

/// Nesting below the event attributes allowed on this path (serde_json stops at 128 in all).
const MAX_DEPTH: usize = 100;
/// Keys of one object compared for repeats on this path.
const MAX_KEYS: usize = 64;
/// Room made at once for an operation's keys (an event has 7), so the map does not regrow.
const TOP_LEVEL_KEYS: usize = 8;
/// The key serde_json gives a special meaning when it reads a `Value`.
const RAW_VALUE_KEY: &str = "$serde_json::private::RawValue";

/// An operation as read here: `op` lacks `attributes` when `event_attributes` is set.
pub(super) struct ParsedOp {
    pub op: Value,
    pub event_attributes: Option<EventAttributes>,
}

/// `None`: read it as a whole `Value` instead.
pub(super) fn parse(text: &str) -> Option<ParsedOp> {
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = de.deserialize_map(TopLevel).ok()?;
    de.end().ok()?;
    Some(parsed)
}

/// The operation's keys as `Value`s, in one pass; `attributes` measured when `type` and
/// `action` (read before them, as every sender writes them) say it is an event.
struct TopLevel;

impl<'de> Visitor<'de> for TopLevel {
    type Value = ParsedOp;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an operation object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<ParsedOp, A::Error> {
        let mut map = Map::with_capacity(TOP_LEVEL_KEYS);
        // Set once `attributes` was read: whether the operation is an event.
        let mut event: Option<bool> = None;
        let mut event_attributes = None;
        while let Some(key) = access.next_key_seed(Key)? {
            let decided = event.is_some();
            match key.as_ref() {
                RAW_VALUE_KEY => return Err(de::Error::custom("raw value marker")),
                "attributes" | "type" | "action" if decided => {
                    return Err(de::Error::custom("read the ordinary way"));
                }
                "attributes" => {
                    let is_event = map.get("type").and_then(Value::as_str) == Some("person")
                        && map
                            .get("action")
                            .and_then(Value::as_str)
                            .is_some_and(|a| EVENT_ACTIONS.contains(&a));
                    event = Some(is_event);
                    if is_event {
                        event_attributes = Some(access.next_value_seed(Shape)?);
                        continue;
                    }
                }
                _ => {}
            }
            let value: Value = access.next_value()?;
            map.insert(key.into_owned(), value);
        }
        Ok(ParsedOp {
            op: Value::Object(map),
            event_attributes,
        })
    }
}

/// An object key, borrowed when it has no escapes.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
}

/// What the event attributes are: null, an object (measured) or anything else.
struct Shape;

impl<'de> DeserializeSeed<'de> for Shape {
    type Value = EventAttributes;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Shape {
    type Value = EventAttributes;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("event attributes")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(EventAttributes::Null)
    }

    fn visit_map<A: MapAccess<'de>>(self, access: A) -> Result<Self::Value, A::Error> {
        Measure { depth: 1 }
            .visit_map(access)
            .map(|compact_len| EventAttributes::Object { compact_len })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, access: A) -> Result<Self::Value, A::Error> {
        Measure { depth: 1 }
            .visit_seq(access)
            .map(|_| EventAttributes::Other)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(EventAttributes::Other)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(EventAttributes::Other)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(EventAttributes::Other)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(EventAttributes::Other)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(EventAttributes::Other)
    }
}

/// The length of the compact JSON serde_json would write for the value read.
#[derive(Clone, Copy)]
struct Measure {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Measure {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<usize, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Measure {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<usize, E> {
        Ok(4)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<usize, E> {
        Ok(if v { 4 } else { 5 })
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<usize, E> {
        Ok(compact_len(&v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<usize, E> {
        Ok(compact_len(&v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<usize, E> {
        Ok(compact_len(&v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<usize, E> {
        Ok(compact_len(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<usize, A::Error> {
        let inner = self.deeper()?;
        let mut len = 2;
        let mut count = 0usize;
        while let Some(item) = access.next_element_seed(inner)? {
            len += item + usize::from(count > 0);
            count += 1;
        }
        Ok(len)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<usize, A::Error> {
        let inner = self.deeper()?;
        // Repeated keys are noticed by hash, on the stack (a clash only means the ordinary path).
        let hasher = foldhash::fast::FixedState::default();
        let mut seen = [0u64; MAX_KEYS];
        let mut count = 0;
        let mut len = 2;
        while let Some(key) = access.next_key_seed(Key)? {
            let hash = hasher.hash_one(key.as_ref());
            if count >= MAX_KEYS || key == RAW_VALUE_KEY || seen[..count].contains(&hash) {
                return Err(de::Error::custom("not measured here"));
            }
            seen[count] = hash;
            let value = access.next_value_seed(inner)?;
            len += compact_len(key.as_ref()) + 1 + value + usize::from(count > 0);
            count += 1;
        }
        Ok(len)
    }
}

impl Measure {
    fn deeper<E: de::Error>(self) -> Result<Measure, E> {
        if self.depth >= MAX_DEPTH {
            return Err(E::custom("too deep to measure here"));
        }
        Ok(Measure {
            depth: self.depth + 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(text: &str) -> Option<EventAttributes> {
        let op = format!(r#"{{"type":"person","action":"event","name":"n","attributes":{text}}}"#);
        parse(&op).and_then(|p| p.event_attributes)
    }

    #[test]
    fn the_measure_is_the_compact_json_length() {
        for text in [
            r#"{}"#,
            r#"{"a":1}"#,
            r#" { "a" : [ 1 , -2 , 3.50 , 1e3, 0.1 , true , false , null , "x\u00e9\n\/" ] ,
                "b\"" : { "c" : { } , "d" : [ ] } , "e": 18446744073709551615, "f": -9223372036854775808 } "#,
            r#"{"emoji":"😀","ctl":"\u0001","big":1.7976931348623157e308}"#,
        ] {
            let value: Value = serde_json::from_str(text).unwrap();
            let expected = serde_json::to_string(&value).unwrap().len();
            assert_eq!(
                measured(text),
                Some(EventAttributes::Object {
                    compact_len: expected
                }),
                "{text}"
            );
        }
        assert_eq!(measured("null"), Some(EventAttributes::Null));
        assert_eq!(measured("[1]"), Some(EventAttributes::Other));
        assert_eq!(measured(r#""x""#), Some(EventAttributes::Other));
    }

    #[test]
    fn anything_unusual_is_left_to_the_ordinary_reading() {
        assert!(parse(r#"{"a":1}"#).is_some());
        assert!(parse(r#"{"type":"person","action":"identify","attributes":{"a":1}}"#).is_some());
        for text in [
            r#"{"type":"person","action":"event","attributes":{"a":1,"a":2}}"#,
            r#"{"type":"person","action":"event","attributes":{},"attributes":{}}"#,
            r#"{"type":"person","action":"event","attributes":{},"type":"object"}"#,
            r#"{"attributes":{},"type":"person","action":"event"}"#,
            r#"{"type":"person","action":"event","attributes":{"a":1e400}}"#,
            r#"{"type":"person","action":"event","attributes":[1e400]}"#,
            r#"{"type":"person","action":"event","attributes":{"$serde_json::private::RawValue":"1"}}"#,
            r#"{"$serde_json::private::RawValue":"1"}"#,
            r#"[1]"#,
            r#"{"a":1} x"#,
            r#"{"a":"#,
        ] {
            assert!(parse(text).is_none(), "{text}");
        }
        let deep = format!(
            r#"{{"type":"person","action":"page","attributes":{}{}}}"#,
            "[".repeat(MAX_DEPTH + 1),
            "]".repeat(MAX_DEPTH + 1)
        );
        assert!(parse(&deep).is_none());
        let keys = |n: usize| {
            let list: Vec<String> = (0..n).map(|i| format!(r#""k{i}":{i}"#)).collect();
            format!("{{{}}}", list.join(","))
        };
        let text = keys(MAX_KEYS);
        let value: Value = serde_json::from_str(&text).unwrap();
        let expected = serde_json::to_string(&value).unwrap().len();
        assert_eq!(
            measured(&text),
            Some(EventAttributes::Object {
                compact_len: expected
            })
        );
        assert_eq!(measured(&keys(MAX_KEYS + 1)), None);
    }

    #[test]
    fn other_operations_keep_their_attributes() {
        let text = r#"{"type":"person","action":"identify","identifiers":{"id":"u"},"attributes":{"b":1,"a":[2]}}"#;
        let parsed = parse(text).unwrap();
        assert!(parsed.event_attributes.is_none());
        assert_eq!(
            parsed.op,
            serde_json::from_str::<Value>(text).unwrap(),
            "same value, same key order inside attributes"
        );
    }
}
