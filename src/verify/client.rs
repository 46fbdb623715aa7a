//! The App API client: `POST /v1/customers/attributes?id_type=T` with up to 100 ids, Bearer
//! auth with the App API key (from `CIO_APP_API_KEY` or `--app-api-key-file`, never printed and
//! taken out of any text the server sends back), at most 10 requests a second, retries after
//! 429, 5xx and network errors honouring `Retry-After`. The HTTP client is the Track sender's
//! (same base-URL rule, proxy, certificates and timeouts).

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use super::key::{IdKind, PersonKey};
use super::limit::{APP_API_RPS, Pacer};
use crate::deliver::transport::{self, EndpointError, READ_LIMIT, TransportError};
use crate::secret::{Redactor, Secret};
use crate::track::Region;

/// Most ids in one `getPeopleById` request.
pub(crate) const MAX_IDS: usize = 100;
/// The longest wait for one retry (a larger `Retry-After` is cut to this).
const MAX_RETRY_WAIT: Duration = Duration::from_secs(60);

/// The App API host of a region.
pub(crate) fn base_url(region: Region) -> &'static str {
    match region {
        Region::Us => "https://api.customer.io",
        Region::Eu => "https://api-eu.customer.io",
    }
}

/// Why there is no App API key (usage errors, exit 2).
#[derive(Debug, thiserror::Error)]
pub(crate) enum KeyError {
    #[error(
        "no App API key: set CIO_APP_API_KEY or pass --app-api-key-file FILE (Customer.io → \
         Settings → API Credentials → App API Keys; not the Track API key)"
    )]
    Missing,
    #[error("--app-api-key-file {path}: cannot read it: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}: the App API key is empty")]
    Empty(&'static str),
}

/// The App API key: the first line of `file` when given, else `env` (`CIO_APP_API_KEY`).
pub(crate) fn app_key(file: Option<&Path>, env: Option<String>) -> Result<Secret, KeyError> {
    if let Some(path) = file {
        let key = crate::secret::credentials::key_from_file(path)
            .map_err(|source| KeyError::File {
                path: path.display().to_string(),
                source,
            })?
            .ok_or(KeyError::Empty("--app-api-key-file"))?;
        return Ok(Secret::new(key));
    }
    match env.map(|k| k.trim().to_string()) {
        Some(key) if !key.is_empty() => Ok(Secret::new(key)),
        Some(_) => Err(KeyError::Empty("CIO_APP_API_KEY")),
        None => Err(KeyError::Missing),
    }
}

/// Why a lookup failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LookupError {
    /// 401 or 403: the key is wrong, or lacks the scope.
    #[error(
        "the App API refused the key ({status}): check CIO_APP_API_KEY / --app-api-key-file (an \
         App API key with read access to people, not the Track API key) and the region"
    )]
    Refused { status: u16 },
    #[error("the App API answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("the App API's reply is not what its documentation shows: {0}")]
    Shape(String),
    #[error("gave up after {attempts} attempts: {last}")]
    GaveUp { attempts: u32, last: String },
}

/// Counts of the requests made.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Traffic {
    pub requests: u64,
    /// Answered 429.
    pub throttled: u64,
    /// Attempts repeated (after a 429, a 5xx or a network error).
    pub retries: u64,
}

/// The client; one request at a time.
pub(crate) struct AppClient {
    agent: ureq::Agent,
    base: String,
    authorization: Secret,
    redactor: Redactor,
    pacer: Pacer,
    retries: u32,
    pub traffic: Traffic,
}

impl AppClient {
    /// A client for the checked `base_url` with `key`.
    pub(crate) fn new(
        base_url: &str,
        key: &Secret,
        timeout: Duration,
        retries: u32,
        ca_bundle: Option<&Path>,
    ) -> Result<AppClient, EndpointError> {
        let base = transport::check_base_url(base_url)?;
        Ok(AppClient {
            agent: transport::agent(&base, timeout, 1, ca_bundle)?,
            base,
            authorization: Secret::new(format!("Bearer {}", key.expose())),
            redactor: Redactor::for_bearer(key),
            pacer: Pacer::new(APP_API_RPS),
            retries,
            traffic: Traffic::default(),
        })
    }

    pub(crate) fn base_url(&self) -> &str {
        &self.base
    }

    /// The profiles of `people` (all of one kind, at most [`MAX_IDS`]), in the order asked;
    /// `None` for those not found.
    pub(crate) fn people(
        &mut self,
        kind: IdKind,
        people: &[&PersonKey],
    ) -> Result<Vec<Option<Value>>, LookupError> {
        let ids: Vec<&str> = people.iter().map(|p| p.value.as_str()).collect();
        let body = json!({ "ids": ids }).to_string();
        let reply = self.post(kind, body.as_bytes())?;
        let parsed: Value = serde_json::from_str(&reply)
            .map_err(|e| LookupError::Shape(format!("not JSON ({e})")))?;
        let customers = parsed
            .get("customers")
            .and_then(Value::as_array)
            .ok_or_else(|| LookupError::Shape("no \"customers\" array".into()))?;
        let at: HashMap<&str, usize> = people
            .iter()
            .enumerate()
            .map(|(i, p)| (p.value.as_str(), i))
            .collect();
        let mut found: Vec<Option<Value>> = vec![None; people.len()];
        for customer in customers {
            let Some(profile) = customer.get("customer") else {
                continue;
            };
            let asked = |v: Option<&Value>| {
                let v = v.and_then(Value::as_str)?;
                let v = match kind {
                    IdKind::Email => v.to_lowercase(),
                    _ => v.to_string(),
                };
                at.get(v.as_str()).copied()
            };
            let slot = asked(profile.get("id"))
                .or_else(|| asked(profile.pointer(&format!("/identifiers/{}", kind.name()))));
            if let Some(slot) = slot {
                found[slot] = Some(profile.clone());
            }
        }
        Ok(found)
    }

    /// One `getPeopleById` request, paced and retried; the body of its 2xx reply.
    fn post(&mut self, kind: IdKind, body: &[u8]) -> Result<String, LookupError> {
        let url = format!(
            "{}/v1/customers/attributes?id_type={}",
            self.base,
            kind.name()
        );
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            self.pacer.pace();
            self.traffic.requests += 1;
            let (why, wait) = match self.send(&url, body) {
                Ok((status, text, _)) if (200..300).contains(&status) => return Ok(text),
                Ok((status @ (401 | 403), ..)) => return Err(LookupError::Refused { status }),
                Ok((status, text, retry_after)) if status == 429 || status >= 500 => {
                    if status == 429 {
                        self.traffic.throttled += 1;
                    }
                    (format!("{status}: {}", short(&text)), retry_after)
                }
                Ok((status, text, _)) => {
                    return Err(LookupError::Status {
                        status,
                        body: short(&text),
                    });
                }
                Err(err) => (err.to_string(), None),
            };
            if attempt > self.retries {
                return Err(LookupError::GaveUp {
                    attempts: attempt,
                    last: why,
                });
            }
            self.traffic.retries += 1;
            let backoff = Duration::from_millis(500u64 << (attempt - 1).min(6));
            std::thread::sleep(wait.unwrap_or(backoff).min(MAX_RETRY_WAIT));
        }
    }

    /// One attempt: status, body (key redacted), `Retry-After`.
    fn send(
        &self,
        url: &str,
        body: &[u8],
    ) -> Result<(u16, String, Option<Duration>), TransportError> {
        let redact = |e: TransportError| match e {
            TransportError::Network(t) => TransportError::Network(self.redactor.redact(t)),
            TransportError::Timeout(t) => TransportError::Timeout(self.redactor.redact(t)),
            other => other,
        };
        let mut response = self
            .agent
            .post(url)
            .header("Authorization", self.authorization.expose())
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .send(body)
            .map_err(|e| redact(transport::classify_error(e)))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| transport::parse_retry_after(v, chrono::Utc::now()));
        let bytes = response
            .body_mut()
            .with_config()
            .limit(READ_LIMIT * 64)
            .read_to_vec()
            .map_err(|e| redact(TransportError::Network(format!("reading the reply: {e}"))))?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Ok((status, self.redactor.redact(text), retry_after))
    }
}

/// A server's text, cut to a line's length for an error message.
fn short(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_comes_from_the_file_first_then_the_environment() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("key");
        std::fs::write(&file, " file-key \nmore\n").expect("write");
        let key = app_key(Some(&file), Some("env-key".into())).map(|k| k.expose().to_string());
        assert_eq!(key.ok().as_deref(), Some("file-key"));
        let key = app_key(None, Some(" env-key ".into())).map(|k| k.expose().to_string());
        assert_eq!(key.ok().as_deref(), Some("env-key"));
        assert!(matches!(app_key(None, None), Err(KeyError::Missing)));
        assert!(matches!(
            app_key(None, Some(" ".into())),
            Err(KeyError::Empty(_))
        ));
        std::fs::write(&file, "\n").expect("write");
        assert!(matches!(
            app_key(Some(&file), None),
            Err(KeyError::Empty(_))
        ));
    }

    #[test]
    fn hosts_by_region() {
        assert_eq!(base_url(Region::Us), "https://api.customer.io");
        assert_eq!(base_url(Region::Eu), "https://api-eu.customer.io");
    }

    #[test]
    fn plain_http_only_to_loopback() {
        let key = Secret::new("k");
        let t = Duration::from_secs(1);
        assert!(AppClient::new("http://127.0.0.1:9", &key, t, 0, None).is_ok());
        assert!(AppClient::new("http://api.customer.io", &key, t, 0, None).is_err());
    }
}
