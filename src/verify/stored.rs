//! Values compared the way Customer.io stores them: the App API gives every attribute as a
//! string, so a sent value matches the string Customer.io would make of it. A string matches
//! itself; a number matches its decimal text, or any text of the same number (`5`, `5.0`); a
//! boolean matches `true`/`false` in any case; an array or object matches JSON text of an equal
//! value (numbers by value, object keys in any order).

use serde_json::Value;

/// Whether the stored text `actual` is how Customer.io stores the sent value `expected`.
pub(crate) fn matches(expected: &Value, actual: &str) -> bool {
    match expected {
        Value::String(s) => s == actual,
        Value::Number(n) => {
            n.to_string() == actual
                || matches!((n.as_f64(), actual.trim().parse::<f64>()), (Some(a), Ok(b)) if a == b)
        }
        Value::Bool(b) => actual.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
        Value::Array(_) | Value::Object(_) => {
            serde_json::from_str::<Value>(actual).is_ok_and(|stored| same_value(expected, &stored))
        }
        Value::Null => false,
    }
}

/// JSON equality with numbers compared by value (`1` equals `1.0`).
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_value(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_value(v, w)))
        }
        _ => a == b,
    }
}

/// Customer.io's truthy values (for `unsubscribed`): `true`, `1`, `"true"` in any case, `"1"`.
pub(crate) fn truthy(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() == Some(1.0),
        Value::String(s) => s.eq_ignore_ascii_case("true") || s == "1",
        _ => false,
    }
}

/// An App API value as text: a string as it is, anything else (a sandbox or a future API that
/// sends a number) as its JSON text.
pub(super) fn text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sent_values_match_their_stored_strings() {
        assert!(matches(&json!("pro"), "pro"));
        assert!(!matches(&json!("pro"), "Pro"));
        assert!(matches(&json!(5), "5"));
        assert!(matches(&json!(5), "5.0"));
        assert!(matches(&json!(129.5), "129.5"));
        assert!(!matches(&json!(5), "6"));
        assert!(matches(&json!(1_672_646_400), "1672646400"));
        assert!(matches(&json!(true), "true"));
        assert!(matches(&json!(false), "FALSE"));
        assert!(!matches(&json!(true), "1"));
        assert!(matches(&json!(["a", 1]), "[\"a\",1]"));
        assert!(matches(&json!({"a": 1, "b": [2.0]}), "{\"b\":[2],\"a\":1}"));
        assert!(!matches(&json!({"a": 1}), "{\"a\":2}"));
        assert!(!matches(&json!({"a": 1}), "not json"));
    }

    #[test]
    fn truthy_values() {
        for (v, want) in [
            (json!(true), true),
            (json!("TRUE"), true),
            (json!("1"), true),
            (json!(1), true),
            (json!(0), false),
            (json!("yes"), false),
        ] {
            assert_eq!(truthy(&v), want, "{v}");
        }
    }
}
