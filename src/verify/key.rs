//! Which person an operation addresses, as the App API looks them up: an identifier kind (the
//! `id_type` of the lookup) and its value; emails lower-cased, as Customer.io matches them.

use std::fmt;

use serde_json::{Value, json};

/// The identifier kinds a person can be looked up by (`id_type`). Anonymous ids cannot be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum IdKind {
    Id,
    Email,
    CioId,
    Phone,
}

impl IdKind {
    /// The `id_type` query value and the identifier's name in a Track operation.
    pub(crate) fn name(self) -> &'static str {
        match self {
            IdKind::Id => "id",
            IdKind::Email => "email",
            IdKind::CioId => "cio_id",
            IdKind::Phone => "phone",
        }
    }

    fn of_name(name: &str) -> Option<IdKind> {
        Some(match name {
            "id" => IdKind::Id,
            "email" => IdKind::Email,
            "cio_id" => IdKind::CioId,
            "phone" => IdKind::Phone,
            _ => return None,
        })
    }
}

/// One person as the input addresses them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct PersonKey {
    pub kind: IdKind,
    pub value: String,
}

impl PersonKey {
    pub(crate) fn new(kind: IdKind, value: &str) -> PersonKey {
        let value = match kind {
            IdKind::Email => value.to_lowercase(),
            _ => value.to_string(),
        };
        PersonKey { kind, value }
    }

    /// The person a Track `identifiers` object (`{"id": "u1"}`) names; `None` for an anonymous id
    /// or anything the App API cannot look up.
    pub(crate) fn of_identifiers(identifiers: Option<&Value>) -> Option<PersonKey> {
        let (name, value) = identifiers?.as_object()?.iter().next()?;
        let kind = IdKind::of_name(name)?;
        let value = match value {
            Value::String(s) if !s.is_empty() => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        Some(PersonKey::new(kind, &value))
    }

    /// `{"id": "u1"}`, as the difference lines show a person.
    pub(crate) fn to_json(&self) -> Value {
        json!({ self.kind.name(): self.value })
    }
}

impl fmt::Display for PersonKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind.name(), self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_name_people_and_anonymous_ids_do_not() {
        let key = PersonKey::of_identifiers(Some(&json!({"email": "Ann@X.io"})));
        assert_eq!(key, Some(PersonKey::new(IdKind::Email, "ann@x.io")));
        assert_eq!(
            PersonKey::of_identifiers(Some(&json!({"id": 42}))),
            Some(PersonKey::new(IdKind::Id, "42"))
        );
        assert_eq!(
            PersonKey::of_identifiers(Some(&json!({"anonymous_id": "a"}))),
            None
        );
        assert_eq!(PersonKey::of_identifiers(None), None);
        assert_eq!(
            PersonKey::new(IdKind::Id, "u1").to_json(),
            json!({"id": "u1"})
        );
    }
}
