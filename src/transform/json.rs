//! Records to jaq values and back: strings are moved, not copied, on the way in; numbers keep
//! their exact value both ways (an integer beyond 64 bits, or a decimal jq kept as text, becomes
//! the nearest JSON number serde_json reads from its text).

use jaq_json::{Map, Num, Val};
use serde_json::{Number, Value};

/// A record as a jaq value.
pub(super) fn to_val(value: Value) -> Val {
    match value {
        Value::Null => Val::Null,
        Value::Bool(b) => Val::Bool(b),
        Value::Number(n) => Val::Num(number_to_num(&n)),
        Value::String(s) => Val::utf8_str(s),
        Value::Array(items) => items.into_iter().map(to_val).collect(),
        Value::Object(members) => {
            let mut map = Map::with_capacity_and_hasher(members.len(), Default::default());
            for (key, value) in members {
                map.insert(Val::utf8_str(key), to_val(value));
            }
            Val::obj(map)
        }
    }
}

fn number_to_num(n: &Number) -> Num {
    if let Some(i) = n.as_i64() {
        Num::from_integral(i)
    } else if let Some(u) = n.as_u64() {
        Num::from_integral(u)
    } else {
        Num::Float(n.as_f64().unwrap_or(f64::NAN))
    }
}

/// A jaq value as JSON. Byte strings and invalid UTF-8 become text (invalid bytes replaced), a
/// non-finite number `null` (as jq prints it), an object key that is not a string its JSON text.
pub(super) fn to_value(val: Val) -> Value {
    match val {
        Val::Null => Value::Null,
        Val::Bool(b) => Value::Bool(b),
        Val::Num(n) => num_to_value(&n),
        Val::TStr(bytes) | Val::BStr(bytes) => Value::String(text(&bytes)),
        Val::Arr(items) => Value::Array(unwrap_or_clone(items).into_iter().map(to_value).collect()),
        Val::Obj(members) => {
            let members = unwrap_or_clone(members);
            let mut map = serde_json::Map::with_capacity(members.len());
            for (key, value) in members {
                let key = match key {
                    Val::TStr(bytes) | Val::BStr(bytes) => text(&bytes),
                    other => other.to_string(),
                };
                map.insert(key, to_value(value));
            }
            Value::Object(map)
        }
    }
}

fn num_to_value(n: &Num) -> Value {
    match n {
        Num::Int(i) => Value::from(*i as i64),
        Num::Float(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
        // Arbitrary-size integers and decimals kept as text: serde_json reads the text.
        other => {
            let text = other.to_string();
            serde_json::from_str::<Number>(&text)
                .ok()
                .or_else(|| text.parse::<f64>().ok().and_then(Number::from_f64))
                .map_or(Value::Null, Value::Number)
        }
    }
}

fn text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

fn unwrap_or_clone<T: Clone>(rc: jaq_json::Rc<T>) -> T {
    jaq_json::Rc::try_unwrap(rc).unwrap_or_else(|rc| (*rc).clone())
}
