//! A wrapper for the API key whose `Debug` and `Display` never show it.

use std::fmt;

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

#[cfg(test)]
mod tests {
    #[test]
    fn never_printed() {
        let s = super::Secret::new("hunter2");
        assert_eq!(
            format!("{s} {s:?} {s:#?}"),
            "(redacted) (redacted) (redacted)"
        );
    }
}
