//! The one rule for an API base URL (`https://…`, or plain `http://` only to a loopback host) and
//! the parts of it that may be shown: its authority and its origin, never user info or a path.

/// Why a base URL cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("endpoint {0:?} is not a URL (expected e.g. https://track.customer.io)")]
    NotAUrl(String),
    #[error("endpoint {0:?}: give just the base URL, such as https://track.customer.io")]
    NotABase(String),
    #[error(
        "endpoint {0:?} uses plain http: the API key would cross the network unencrypted. Use https \
         (plain http is only allowed to a loopback address such as 127.0.0.1 or localhost)"
    )]
    Insecure(String),
}

/// Check a base URL: `https://host[:port][/path]`, or `http://` to a loopback host; no user info,
/// query, fragment or white space. Returned trimmed, without a trailing `/`.
pub(crate) fn check(url: &str) -> Result<String, UrlError> {
    let trimmed = url.trim().trim_end_matches('/');
    let (scheme, rest) = trimmed
        .split_once("://")
        .ok_or_else(|| UrlError::NotAUrl(url.to_string()))?;
    let authority = rest.split('/').next().unwrap_or("");
    if authority.is_empty() || authority.starts_with(':') || authority.contains('@') {
        return Err(UrlError::NotAUrl(url.to_string()));
    }
    if rest.contains(['?', '#']) || rest.contains(char::is_whitespace) {
        return Err(UrlError::NotABase(url.to_string()));
    }
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Ok(trimmed.to_string()),
        "http" if is_loopback(authority) => Ok(trimmed.to_string()),
        "http" => Err(UrlError::Insecure(url.to_string())),
        _ => Err(UrlError::NotAUrl(url.to_string())),
    }
}

/// The authority (`host[:port]`) of a URL, without scheme, user info, path, query or fragment.
pub(crate) fn authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
}

/// `scheme://host[:port]` of a URL, lower-cased, without path, query or user info (a URL may
/// carry secrets): what a checkpoint records of where it sent.
pub(crate) fn origin(url: &str) -> String {
    let host = authority(url).to_ascii_lowercase();
    match url.split_once("://") {
        Some((scheme, _)) => format!("{}://{host}", scheme.to_ascii_lowercase()),
        None => host,
    }
}

/// Whether `host[:port]` names a loopback host: 127.0.0.0/8, localhost or [::1].
pub(crate) fn is_loopback(authority: &str) -> bool {
    let host = if let Some(rest) = authority.strip_prefix('[') {
        match rest.split_once(']') {
            Some((h, _)) => h,
            None => return false,
        }
    } else {
        authority.split(':').next().unwrap_or("")
    };
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_required_except_loopback() {
        assert!(check("https://track.customer.io/").is_ok());
        assert!(check("http://127.0.0.1:8080").is_ok());
        assert!(check("http://127.5.0.1").is_ok());
        assert!(check("http://localhost:9").is_ok());
        assert!(check("http://[::1]:9/").is_ok());
        assert!(matches!(
            check("http://track.customer.io"),
            Err(UrlError::Insecure(_))
        ));
        assert!(matches!(
            check("http://127.0.0.1.evil.com"),
            Err(UrlError::Insecure(_))
        ));
        assert!(check("ftp://x").is_err());
        assert!(check("track.customer.io").is_err());
        assert!(check("http://user:pw@127.0.0.1").is_err());
        assert!(check("https://").is_err());
        assert!(check("https://:443").is_err());
        assert!(matches!(
            check("https://x.io/?a=b"),
            Err(UrlError::NotABase(_))
        ));
        assert_eq!(
            check(" https://track-eu.customer.io/ ").unwrap(),
            "https://track-eu.customer.io"
        );
    }

    #[test]
    fn authority_and_origin_drop_user_info_and_path() {
        assert_eq!(authority("http://127.0.0.1:8080/"), "127.0.0.1:8080");
        assert_eq!(
            authority("https://user:secret@track.customer.io/x"),
            "track.customer.io"
        );
        assert_eq!(authority("track.customer.io"), "track.customer.io");
        assert_eq!(
            origin("http://user:pw@127.0.0.1:8080/api?x=1"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            origin("HTTPS://Track.Customer.io"),
            "https://track.customer.io"
        );
    }
}
