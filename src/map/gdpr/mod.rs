//! The mapping of GDPR runs: a list entry (an id, an email, a cio_id, an object) becomes a person
//! by the identifier rule of mapping.md §3 (`resolve`), and a person a delete, suppress or
//! unsuppress operation; `fold` tells a person listed twice.

pub(crate) mod fold;
pub(crate) mod resolve;

use std::fmt;

use serde_json::{Value, json};

use crate::track::{Action, Operation};

/// What a GDPR run does to every person of its list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GdprAction {
    Delete,
    Suppress,
    Unsuppress,
}

/// Which identifier a person is addressed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum IdKind {
    Id,
    Email,
    CioId,
}

impl IdKind {
    /// The identifier's name, as in the operation's `identifiers` and in the receipt.
    pub(crate) fn name(self) -> &'static str {
        match self {
            IdKind::Id => "id",
            IdKind::Email => "email",
            IdKind::CioId => "cio_id",
        }
    }
}

impl fmt::Display for IdKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One person on a list: the identifier exactly as it is sent (a `cio_id` without its prefix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Person {
    pub kind: IdKind,
    pub identifier: String,
}

impl Person {
    pub(crate) fn new(kind: IdKind, identifier: impl Into<String>) -> Person {
        Person {
            kind,
            identifier: identifier.into(),
        }
    }

    /// The `identifiers` object of the operation: exactly one key.
    pub(crate) fn identifiers(&self) -> Value {
        json!({ self.kind.name(): self.identifier })
    }

    /// The person an operation of [`operation`] addresses: the one key of its `identifiers`.
    pub(crate) fn of_operation(body: &Value) -> Option<Person> {
        let identifiers = body.get("identifiers")?.as_object()?;
        let (name, value) = identifiers.iter().next()?;
        let kind = [IdKind::Id, IdKind::Email, IdKind::CioId]
            .into_iter()
            .find(|k| k.name() == name)?;
        Some(Person::new(kind, value.as_str()?))
    }

    /// How the person is written for humans and in the receipt: `cio_` ids keep their prefix.
    pub(crate) fn display(&self) -> String {
        match self.kind {
            IdKind::CioId => format!("cio_{}", self.identifier),
            _ => self.identifier.clone(),
        }
    }
}

/// The three GDPR actions, as the Track API and the mapping name them.
pub(crate) fn track_action(action: GdprAction) -> Action {
    match action {
        GdprAction::Delete => Action::DeletePerson,
        GdprAction::Suppress => Action::SuppressPerson,
        GdprAction::Unsuppress => Action::UnsuppressPerson,
    }
}

/// The word used on the command line, in the receipt and in the operation's `action`.
pub(crate) fn action_name(action: GdprAction) -> &'static str {
    match action {
        GdprAction::Delete => "delete",
        GdprAction::Suppress => "suppress",
        GdprAction::Unsuppress => "unsuppress",
    }
}

/// What the action does to a person, in plain words (the gate and the summary say it).
pub(crate) fn action_explained(action: GdprAction) -> &'static str {
    match action {
        GdprAction::Delete => {
            "delete removes each person and all their data; it does not block them: a later identify \
             or event for the same id or email creates the person again (use suppress to prevent that)"
        }
        GdprAction::Suppress => {
            "suppress deletes each person's profile and all their data AND blocks the identifier, so \
             later calls that use it are ignored; the data cannot be brought back"
        }
        GdprAction::Unsuppress => {
            "unsuppress frees each identifier so that it can be used again; it does NOT restore any \
             deleted data: the next identify starts a fresh, empty profile"
        }
    }
}

/// The exact operation sent for `person`.
pub(crate) fn operation(action: GdprAction, person: &Person) -> Operation {
    Operation::new(
        track_action(action),
        json!({
            "type": "person",
            "action": action_name(action),
            "identifiers": person.identifiers(),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_has_exactly_one_identifier() {
        let op = operation(
            GdprAction::Suppress,
            &Person::new(IdKind::CioId, "a3000001"),
        );
        assert_eq!(op.action, Action::SuppressPerson);
        assert_eq!(
            op.body.to_string(),
            r#"{"type":"person","action":"suppress","identifiers":{"cio_id":"a3000001"}}"#
        );
        let p = Person::new(IdKind::Email, "Ada@Example.org");
        let op = operation(GdprAction::Delete, &p);
        assert_eq!(
            op.body.to_string(),
            r#"{"type":"person","action":"delete","identifiers":{"email":"Ada@Example.org"}}"#
        );
        assert_eq!(Person::of_operation(&op.body), Some(p));
    }
}
