//! A wrapper for the API key whose `Debug` and `Display` never show it, the redactor that takes
//! it out of text a server sent back, and where keys come from ([`credentials`]: the environment,
//! a file, or with a warning the command line).

pub(crate) mod credentials;

use std::fmt;

use base64::Engine;
use memchr::memmem::Finder;

/// A secret string (the Track API key). Only [`Secret::expose`] gives the value, and only the
/// transport's Basic-auth header and the sandbox's credential check call it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret value itself. Never print it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(redacted)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(redacted)")
    }
}

/// What a redacted secret is replaced with.
pub(crate) const REDACTED: &str = "(redacted)";

/// Takes the API key out of text that came from a server (an error page or message echoing the
/// request's `Authorization` header), in every form a server may echo it: the key itself, the
/// Basic-auth token (base64 of `site_id:key`) and the key's own base64, padded or not, in the
/// standard and the URL-safe alphabet. Built once per run; [`Redactor::redact`] only searches.
pub(crate) struct Redactor {
    /// The forms of the secret, longest first, each with its searcher built once.
    finders: Vec<Finder<'static>>,
}

impl Redactor {
    /// The redactor for Basic auth as `user` with `key`.
    pub(crate) fn for_basic_auth(user: &str, key: &Secret) -> Redactor {
        let key = key.expose();
        let pair = format!("{user}:{key}");
        let mut forms: Vec<String> = vec![key.to_string()];
        for text in [pair.as_str(), key] {
            for engine in [
                base64::engine::general_purpose::STANDARD,
                base64::engine::general_purpose::URL_SAFE,
            ] {
                // Unpadded: matches the padded form too.
                forms.push(engine.encode(text).trim_end_matches('=').to_string());
            }
        }
        Redactor::of_forms(forms)
    }

    /// The redactor for `Authorization: Bearer <key>` (the App API key): the key itself and its
    /// base64, padded or not, in both alphabets.
    pub(crate) fn for_bearer(key: &Secret) -> Redactor {
        let key = key.expose();
        let mut forms: Vec<String> = vec![key.to_string()];
        for engine in [
            base64::engine::general_purpose::STANDARD,
            base64::engine::general_purpose::URL_SAFE,
        ] {
            forms.push(engine.encode(key).trim_end_matches('=').to_string());
        }
        Redactor::of_forms(forms)
    }

    fn of_forms(mut forms: Vec<String>) -> Redactor {
        forms.retain(|f| !f.is_empty());
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        forms.dedup();
        Redactor {
            finders: forms
                .iter()
                .map(|f| Finder::new(f.as_bytes()).into_owned())
                .collect(),
        }
    }

    /// `text` with every form of the secret replaced by [`REDACTED`]; unchanged (not copied) when
    /// it holds none.
    pub(crate) fn redact(&self, text: String) -> String {
        let mut text = text;
        for finder in &self.finders {
            if finder.find(text.as_bytes()).is_none() {
                continue;
            }
            let mut out = String::with_capacity(text.len());
            let mut from = 0;
            for at in finder.find_iter(text.as_bytes()) {
                // A match of valid UTF-8 in valid UTF-8 starts and ends on character boundaries.
                out.push_str(text.get(from..at).unwrap_or_default());
                out.push_str(REDACTED);
                from = at + finder.needle().len();
            }
            out.push_str(text.get(from..).unwrap_or_default());
            text = out;
        }
        text
    }
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} forms, redacted)", self.finders.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_the_key_the_basic_token_and_the_keys_base64() {
        let key = Secret::new("k3y+/?>~secret");
        let r = Redactor::for_basic_auth("site-1", &key);
        let b64 = |t: &str| base64::engine::general_purpose::STANDARD.encode(t);
        let url = |t: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(t);
        let token = b64("site-1:k3y+/?>~secret");
        let texts = [
            format!("<p>authorization: Basic {token}</p>"),
            "key was k3y+/?>~secret, twice: k3y+/?>~secret".to_string(),
            format!(
                "key b64 {} and unpadded {}",
                b64("k3y+/?>~secret"),
                url("k3y+/?>~secret")
            ),
            format!("url-safe token {}", url("site-1:k3y+/?>~secret")),
        ];
        for text in texts {
            let out = r.redact(text.clone());
            assert!(out.contains(REDACTED), "{out}");
            assert!(!out.contains("k3y+/?>~secret"), "{out}");
            assert!(!out.contains(token.trim_end_matches('=')), "{out}");
            assert!(
                !out.contains(b64("k3y+/?>~secret").trim_end_matches('=')),
                "{out}"
            );
            assert!(!out.contains(&url("k3y+/?>~secret")), "{out}");
        }
        assert_eq!(
            r.redact("ünïcode k3y+/?>~secret ✓".into()),
            "ünïcode (redacted) ✓"
        );
        assert_eq!(r.redact("nothing here".into()), "nothing here");
        assert!(!format!("{r:?}").contains("secret"));
    }

    #[test]
    fn a_bearer_key_and_its_base64_are_redacted() {
        let r = Redactor::for_bearer(&Secret::new("app-k3y"));
        let b64 = base64::engine::general_purpose::STANDARD.encode("app-k3y");
        let out = r.redact(format!("Bearer app-k3y / {b64}"));
        // The unpadded form matches the padded one too (its `==` stays).
        assert_eq!(out, "Bearer (redacted) / (redacted)==");
    }

    #[test]
    fn never_printed() {
        let s = super::Secret::new("hunter2");
        assert_eq!(
            format!("{s} {s:?} {s:#?}"),
            "(redacted) (redacted) (redacted)"
        );
    }
}
