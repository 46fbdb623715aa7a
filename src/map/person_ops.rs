//! Person operations without attributes: delete-person, suppress-person and unsuppress-person
//! (segment-destination.md §5.7), the person found by userId or an email fallback (mapping.md §3).

use serde_json::{Map, Value};

use super::fields::Ev;
use super::identifiers::known_person;
use super::{Built, Invalid};
use crate::track::Action;

/// `{"type":"person","action":"delete"|"suppress"|"unsuppress","identifiers":{...}}`.
pub(crate) fn person_op(ev: &Ev<'_>) -> Result<Built, Invalid> {
    let op_action = match ev.action {
        Action::SuppressPerson => "suppress",
        Action::UnsuppressPerson => "unsuppress",
        _ => "delete",
    };
    let identifiers = known_person(ev)?;
    let mut body = Map::with_capacity(3);
    body.insert("type".to_owned(), Value::from("person"));
    body.insert("action".to_owned(), Value::from(op_action));
    body.insert("identifiers".to_owned(), identifiers);
    Ok(Built::Body(Value::Object(body)))
}
