//! The ways to address a person in the workspace.

use serde_json::Value;

/// A way to address a person. Emails are kept lower-cased (matching is case-insensitive).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Ident {
    Id(String),
    Email(String),
    CioId(String),
    Phone(String),
    Anonymous(String),
}

impl Ident {
    /// The identifier in `{"id": ...}`-style map (the first key; validation made sure there is one).
    pub(crate) fn from_map(ids: &Value) -> Option<Ident> {
        let (key, value) = ids.as_object()?.iter().next()?;
        let value = value.as_str()?.to_string();
        Some(match key.as_str() {
            "id" => Ident::Id(value),
            "email" => Ident::Email(value.to_lowercase()),
            "cio_id" => Ident::CioId(value),
            "phone" => Ident::Phone(value),
            "anonymous_id" => Ident::Anonymous(value),
            _ => return None,
        })
    }

    /// `("id", value)` for display.
    pub(crate) fn parts(&self) -> (&'static str, &str) {
        match self {
            Ident::Id(v) => ("id", v),
            Ident::Email(v) => ("email", v),
            Ident::CioId(v) => ("cio_id", v),
            Ident::Phone(v) => ("phone", v),
            Ident::Anonymous(v) => ("anonymous_id", v),
        }
    }
}
