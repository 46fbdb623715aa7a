//! The pieces of an App API request: percent-decoded path segments and query values, and the
//! `id_type` that says which identifier they are.

use super::super::workspace::Ident;

/// Which identifier an App API lookup names (`id_type`; `id` when it is left out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdType {
    Id,
    Email,
    Phone,
    CioId,
}

impl IdType {
    /// The `id_type` of a raw query string; `Err` holds the value that is not one.
    pub(crate) fn of_query(query: &str) -> Result<IdType, String> {
        let Some(raw) = query_value(query, "id_type") else {
            return Ok(IdType::Id);
        };
        let value = decode(&raw, true).unwrap_or_default();
        match value.as_str() {
            "id" => Ok(IdType::Id),
            "email" => Ok(IdType::Email),
            "phone" => Ok(IdType::Phone),
            "cio_id" => Ok(IdType::CioId),
            _ => Err(value),
        }
    }

    /// The workspace identifier for `value` (emails match case-insensitively, as on the Track
    /// side; a cio_id is the bare value the sandbox shows, without a `cio_` prefix).
    pub(crate) fn ident(self, value: &str) -> Ident {
        match self {
            IdType::Id => Ident::Id(value.to_string()),
            IdType::Email => Ident::Email(value.to_lowercase()),
            IdType::Phone => Ident::Phone(value.to_string()),
            IdType::CioId => Ident::CioId(value.to_string()),
        }
    }
}

/// The raw (still encoded) value of the first `name=` in a query string.
fn query_value(query: &str, name: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find(|(key, _)| decode(key, true).as_deref() == Some(name))
        .map(|(_, value)| value.to_string())
}

/// Percent-decode `text`; in a query (`plus_is_space`) a `+` is a space, which is why Customer.io
/// asks for `%2B`. `None` when an escape is broken or the bytes are not UTF-8.
pub(crate) fn decode(text: &str, plus_is_space: bool) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'%' => {
                let hex = bytes.get(at + 1..at + 3)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
                at += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                at += 1;
            }
            byte => {
                out.push(byte);
                at += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_type_defaults_to_id_and_rejects_others() {
        assert_eq!(IdType::of_query(""), Ok(IdType::Id));
        assert_eq!(IdType::of_query("x=1&id_type=email"), Ok(IdType::Email));
        assert_eq!(IdType::of_query("id_type=cio_id"), Ok(IdType::CioId));
        assert_eq!(IdType::of_query("id_type=phone"), Ok(IdType::Phone));
        assert_eq!(IdType::of_query("id%5Ftype=id"), Ok(IdType::Id));
        assert_eq!(IdType::of_query("id_type=cio"), Err("cio".to_string()));
        assert_eq!(IdType::of_query("id_type"), Err(String::new()));
    }

    #[test]
    fn decoding_follows_where_the_text_is() {
        assert_eq!(decode("a%40b.com", false).as_deref(), Some("a@b.com"));
        assert_eq!(decode("%2B4930", true).as_deref(), Some("+4930"));
        assert_eq!(decode("+4930", true).as_deref(), Some(" 4930"));
        assert_eq!(decode("a+b", false).as_deref(), Some("a+b"));
        assert_eq!(decode("%C3%A9", false).as_deref(), Some("é"));
        assert_eq!(decode("%", false), None);
        assert_eq!(decode("%4", false), None);
        assert_eq!(decode("%zz", false), None);
        assert_eq!(decode("%+1", false), None);
        assert_eq!(decode("%FF", false), None);
    }

    #[test]
    fn emails_are_matched_lower_cased() {
        assert_eq!(
            IdType::Email.ident("Ann@Example.com"),
            Ident::Email("ann@example.com".into())
        );
        assert_eq!(
            IdType::CioId.ident("0000000a"),
            Ident::CioId("0000000a".into())
        );
    }
}
