//! The preflight's verdict on `GET /api/v1/accounts/region`: credentials refused, a workspace in
//! the other region (which Customer.io answers with 200 while storing nothing), or go on.

use super::Region;

/// What the region lookup says about the run about to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The workspace is where the run sends.
    Proceed,
    /// 401: the site id or API key is wrong.
    Refused(u16),
    /// The workspace is in `actual`, the run targets `expected`.
    OtherRegion { actual: Region, expected: Region },
    /// The lookup could not say (another status, an unreadable body): the send's own handling
    /// of faults takes over; the reason is for a warning.
    Unknown(String),
}

/// Judge a region lookup's reply (`status`, `body`) for a run that expects `expected`.
pub(crate) fn judge(status: u16, body: &str, expected: Region) -> Verdict {
    match status {
        // A 403 can come from a proxy that lets only the data paths through: it decides nothing.
        401 => return Verdict::Refused(status),
        200..=299 => {}
        other => return Verdict::Unknown(format!("the region lookup answered {other}")),
    }
    let value: serde_json::Value = match serde_json::from_str(body) {
        Ok(value) => value,
        Err(_) => return Verdict::Unknown("the region lookup's answer is not JSON".into()),
    };
    let actual = match value.get("region").and_then(|r| r.as_str()) {
        Some("us") => Region::Us,
        Some("eu") => Region::Eu,
        _ => return Verdict::Unknown("the region lookup's answer names no region".into()),
    };
    if actual == expected {
        Verdict::Proceed
    } else {
        Verdict::OtherRegion { actual, expected }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        let eu = r#"{"url":"https://track-eu.customer.io","region":"eu","environment_id":3}"#;
        assert_eq!(judge(200, eu, Region::Eu), Verdict::Proceed);
        assert_eq!(
            judge(200, eu, Region::Us),
            Verdict::OtherRegion {
                actual: Region::Eu,
                expected: Region::Us
            }
        );
        assert_eq!(judge(401, "", Region::Us), Verdict::Refused(401));
        assert!(matches!(judge(403, "{}", Region::Us), Verdict::Unknown(_)));
        assert!(matches!(judge(404, "", Region::Us), Verdict::Unknown(_)));
        assert!(matches!(judge(503, "", Region::Us), Verdict::Unknown(_)));
        assert!(matches!(
            judge(200, "<html>", Region::Us),
            Verdict::Unknown(_)
        ));
        assert!(matches!(
            judge(200, r#"{"region":"ap"}"#, Region::Us),
            Verdict::Unknown(_)
        ));
    }
}
