//! Posting one request body to one Track API endpoint: the `Transport` trait, the real one on a
//! single `ureq::Agent` (proxy and certificate choices, server text redacted as it comes in), and a
//! recording one (no sockets) for tests.

#[cfg(test)]
use std::collections::VecDeque;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};
use ureq::{Proxy, ProxyProtocol};

use crate::secret::{Redactor, Secret};
use crate::track::Endpoint;
use crate::track::url::{self, UrlError};

/// The most of a reply's body that is read; a longer body is [`BodyError::TooLarge`].
pub(crate) const READ_LIMIT: u64 = 1 << 20;

/// What the server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    /// The response body, read whole (at most [`READ_LIMIT`] bytes, else the reply is
    /// [`TransportError::Unreadable`]), with the API key redacted.
    pub body: String,
    /// `Retry-After`, as a delay (seconds or an HTTP date), when present and readable.
    pub retry_after: Option<Duration>,
}

impl Reply {
    #[cfg(test)]
    pub(crate) fn new(status: u16, body: impl Into<String>) -> Reply {
        Reply {
            status,
            body: body.into(),
            retry_after: None,
        }
    }
}

/// Why a request got no reply at all, or a reply whose body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("timed out: {0}")]
    Timeout(String),
    #[error("network error: {0}")]
    Network(String),
    /// The status and headers arrived, the body did not (in full): what the server meant is
    /// unknown beyond its status.
    #[error("{status} with an unreadable body: {why}")]
    Unreadable {
        status: u16,
        retry_after: Option<Duration>,
        why: BodyError,
    },
}

/// Why a reply's body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("larger than the {0}-byte read limit")]
    TooLarge(u64),
    /// The connection broke (or timed out) before the end of the body.
    #[error("cut off before its end ({0})")]
    Cut(String),
    #[error("not UTF-8 text")]
    NotUtf8,
}

/// Something that posts a JSON body to an endpoint. Shared by all lanes at once.
pub trait Transport: Send + Sync {
    fn post(&self, endpoint: Endpoint, body: &[u8]) -> Result<Reply, TransportError>;
}

/// Why an endpoint or credentials cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error(transparent)]
    Url(#[from] UrlError),
    #[error(
        "endpoint {endpoint:?} uses plain http and the environment names a proxy ({proxy}): the API \
         key would reach the proxy unencrypted. Use https, or exempt the host with NO_PROXY"
    )]
    InsecureProxy { endpoint: String, proxy: String },
    #[error(
        "the proxy from the environment ({0}) is a SOCKS proxy, which cio-replay does not support: \
         set ALL_PROXY / HTTPS_PROXY / HTTP_PROXY to an http:// or https:// proxy (it tunnels with \
         CONNECT), or exempt the host with NO_PROXY"
    )]
    UnsupportedProxy(String),
    #[error("--ca-bundle {path}: {why}")]
    CaBundle { path: String, why: String },
}

/// Check a Track API base URL by the one rule ([`crate::track::url::check`]).
pub(crate) fn check_base_url(url: &str) -> Result<String, EndpointError> {
    Ok(url::check(url)?)
}

/// The proxy requests to the checked `base` URL go through, given the environment's (`ALL_PROXY`,
/// `HTTPS_PROXY`, `HTTP_PROXY`, with `NO_PROXY`): none to a loopback host (the sandbox) or a
/// `NO_PROXY` host; otherwise an http(s) CONNECT proxy, and only for https, so that the proxy sees
/// a TLS tunnel, never the `Authorization` header.
pub(crate) fn proxy_for(base: &str, env: Option<Proxy>) -> Result<Option<Proxy>, EndpointError> {
    let Some(proxy) = env else {
        return Ok(None);
    };
    if url::is_loopback(url::authority(base)) {
        return Ok(None);
    }
    let uri: ureq::http::Uri = base
        .parse()
        .map_err(|_| UrlError::NotAUrl(base.to_string()))?;
    if proxy.is_no_proxy(&uri) {
        return Ok(None);
    }
    // Never the user name or password the proxy URL may hold.
    let shown = format!("{}:{}", proxy.host(), proxy.port());
    if !matches!(proxy.protocol(), ProxyProtocol::Http | ProxyProtocol::Https) {
        return Err(EndpointError::UnsupportedProxy(shown));
    }
    if !uri
        .scheme_str()
        .is_some_and(|s| s.eq_ignore_ascii_case("https"))
    {
        return Err(EndpointError::InsecureProxy {
            endpoint: base.to_string(),
            proxy: shown,
        });
    }
    Ok(Some(proxy))
}

/// The certificate authorities of a `--ca-bundle` PEM file, each checked to be a usable X.509
/// certificate.
pub(crate) fn read_ca_bundle(path: &Path) -> Result<Vec<Certificate<'static>>, EndpointError> {
    let fail = |why: String| EndpointError::CaBundle {
        path: path.display().to_string(),
        why,
    };
    let pem = std::fs::read(path).map_err(|e| fail(format!("cannot read it: {e}")))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(PemItem::Certificate(cert)) => certs.push(cert),
            Ok(_) => {}
            Err(e) => return Err(fail(format!("not a PEM file: {e}"))),
        }
    }
    if certs.is_empty() {
        return Err(fail(
            "holds no certificate (expected PEM blocks: -----BEGIN CERTIFICATE-----)".to_string(),
        ));
    }
    let mut store = rustls::RootCertStore::empty();
    for (n, cert) in certs.iter().enumerate() {
        store
            .add(rustls::pki_types::CertificateDer::from(cert.der()))
            .map_err(|e| fail(format!("certificate {} is not usable: {e}", n + 1)))?;
    }
    Ok(certs)
}

/// The one way this program builds an HTTP client, for the Track API and the App API alike: to
/// the checked `base` URL, through the environment's proxy where [`proxy_for`] allows one,
/// trusting the operating system's store or only `ca_bundle`, no redirects, statuses as replies,
/// `timeout` per attempt, a pool of `connections` (+2) and the caching resolver.
pub(crate) fn agent(
    base: &str,
    timeout: Duration,
    connections: usize,
    ca_bundle: Option<&Path>,
) -> Result<ureq::Agent, EndpointError> {
    let proxy = proxy_for(base, Proxy::try_from_env())?;
    let roots = match ca_bundle {
        Some(path) => RootCerts::new_with_certs(&read_ca_bundle(path)?),
        None => RootCerts::PlatformVerifier,
    };
    let config = ureq::Agent::config_builder()
        .proxy(proxy)
        .tls_config(TlsConfig::builder().root_certs(roots).build())
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .user_agent(concat!("cio-replay/", env!("CARGO_PKG_VERSION")))
        .timeout_global(Some(timeout))
        .timeout_connect(Some(timeout))
        .max_idle_connections_per_host(connections.max(1) + 2)
        .build();
    Ok(ureq::Agent::with_parts(
        config,
        DefaultConnector::new(),
        CachingResolver::default(),
    ))
}

/// The real transport: one `ureq::Agent` (keep-alive pool) for the whole run.
pub struct HttpTransport {
    agent: ureq::Agent,
    base: String,
    /// `Basic base64(site:key)`, built once; never printed.
    authorization: Secret,
    /// Takes the key out of every text the server sends (bodies, errors), built once.
    redactor: Redactor,
}

impl HttpTransport {
    /// A transport to `base_url` (checked with [`check_base_url`]) with Basic auth, through the
    /// environment's proxy where [`proxy_for`] allows one, trusting the operating system's
    /// certificate store.
    pub fn new(
        base_url: &str,
        site_id: &str,
        key: &Secret,
        timeout: Duration,
        concurrency: usize,
    ) -> Result<HttpTransport, EndpointError> {
        HttpTransport::with_ca_bundle(base_url, site_id, key, timeout, concurrency, None)
    }

    /// [`HttpTransport::new`], trusting only the authorities in `ca_bundle` (PEM) when given.
    pub(crate) fn with_ca_bundle(
        base_url: &str,
        site_id: &str,
        key: &Secret,
        timeout: Duration,
        concurrency: usize,
        ca_bundle: Option<&Path>,
    ) -> Result<HttpTransport, EndpointError> {
        let base = check_base_url(base_url)?;
        let agent = agent(&base, timeout, concurrency, ca_bundle)?;
        let token =
            base64::engine::general_purpose::STANDARD.encode(format!("{site_id}:{}", key.expose()));
        Ok(HttpTransport {
            agent,
            base,
            authorization: Secret::new(format!("Basic {token}")),
            redactor: Redactor::for_basic_auth(site_id, key),
        })
    }
}

impl HttpTransport {
    /// `GET` a Track API path (such as the region lookup) with the run's credentials; the reply
    /// is read and redacted as a `post`'s is.
    pub(crate) fn get(&self, path: &str) -> Result<Reply, TransportError> {
        let url = format!("{}{path}", self.base);
        let result = self
            .agent
            .get(&url)
            .header("Authorization", self.authorization.expose())
            .call();
        self.reply(result)
    }

    /// Read a response (at most [`READ_LIMIT`] bytes, UTF-8), redacting the key everywhere.
    fn reply(
        &self,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Reply, TransportError> {
        let mut response = result.map_err(|e| self.redacted(classify_error(e)))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, chrono::Utc::now()));
        let read = response
            .body_mut()
            .with_config()
            .limit(READ_LIMIT)
            .read_to_vec();
        let unreadable = |why| TransportError::Unreadable {
            status,
            retry_after,
            why,
        };
        let bytes = match read {
            Ok(bytes) => bytes,
            Err(ureq::Error::BodyExceedsLimit(_)) => {
                return Err(unreadable(BodyError::TooLarge(READ_LIMIT)));
            }
            Err(e) => return Err(self.redacted(unreadable(BodyError::Cut(e.to_string())))),
        };
        let body = String::from_utf8(bytes).map_err(|_| unreadable(BodyError::NotUtf8))?;
        Ok(Reply {
            status,
            body: self.redactor.redact(body),
            retry_after,
        })
    }
}

impl Transport for HttpTransport {
    fn post(&self, endpoint: Endpoint, body: &[u8]) -> Result<Reply, TransportError> {
        let url = format!("{}{}", self.base, endpoint.path());
        let result = self
            .agent
            .post(&url)
            .header("Authorization", self.authorization.expose())
            .header("Content-Type", "application/json")
            .send(body);
        self.reply(result)
    }
}

impl HttpTransport {
    /// `err` with the key taken out of its text (a server can put anything into a reply that
    /// breaks the protocol).
    fn redacted(&self, err: TransportError) -> TransportError {
        match err {
            TransportError::Timeout(t) => TransportError::Timeout(self.redactor.redact(t)),
            TransportError::Network(t) => TransportError::Network(self.redactor.redact(t)),
            TransportError::Unreadable {
                status,
                retry_after,
                why: BodyError::Cut(t),
            } => TransportError::Unreadable {
                status,
                retry_after,
                why: BodyError::Cut(self.redactor.redact(t)),
            },
            other => other,
        }
    }
}

/// How long a looked-up address of the API host is reused.
const RESOLVED_FOR: Duration = Duration::from_secs(60);

/// Resolves the API host without a thread per request: ureq's default resolver, with a timeout
/// set, spawns a thread for every lookup, and it looks up on every request (pooled connection or
/// not). The last answer is reused for [`RESOLVED_FOR`].
#[derive(Debug, Default)]
struct CachingResolver {
    inner: DefaultResolver,
    last: Mutex<Option<(String, Instant, ResolvedSocketAddrs)>>,
}

impl Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let key = format!(
            "{}://{}",
            uri.scheme_str().unwrap_or(""),
            uri.authority().map_or("", |a| a.as_str())
        );
        if let Ok(last) = self.last.lock()
            && let Some((k, at, addrs)) = last.as_ref()
            && *k == key
            && at.elapsed() < RESOLVED_FOR
        {
            return Ok(addrs.clone());
        }
        let addrs = self.inner.resolve(uri, config, timeout)?;
        if let Ok(mut last) = self.last.lock() {
            *last = Some((key, Instant::now(), addrs.clone()));
        }
        Ok(addrs)
    }
}

pub(crate) fn classify_error(err: ureq::Error) -> TransportError {
    match err {
        ureq::Error::Timeout(t) => TransportError::Timeout(t.to_string()),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            TransportError::Timeout(io.to_string())
        }
        other => TransportError::Network(other.to_string()),
    }
}

/// `Retry-After`: a number of seconds, or an HTTP date (a delay from `now`; a past date is 0).
pub(crate) fn parse_retry_after(
    value: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Some(Duration::from_secs_f64(secs.min(86_400.0)));
        }
        return None;
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let delta = date.with_timezone(&chrono::Utc) - now;
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

/// One request a [`RecordingTransport`] saw.
#[cfg(test)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Recorded {
    pub endpoint: Endpoint,
    pub body: Vec<u8>,
}

/// A scripted answer: a reply or a network failure.
#[cfg(test)]
pub(crate) type Scripted = Result<Reply, TransportError>;

#[cfg(test)]
type Responder = Box<dyn Fn(Endpoint, &[u8]) -> Option<Scripted> + Send + Sync>;

/// A transport without sockets: records every request and answers from a script (queued replies
/// first, then an optional responder function, then `200 {}`).
#[cfg(test)]
#[derive(Default)]
pub(crate) struct RecordingTransport {
    requests: Mutex<Vec<Recorded>>,
    script: Mutex<VecDeque<Scripted>>,
    responder: Option<Responder>,
}

#[cfg(test)]
impl RecordingTransport {
    pub(crate) fn new() -> RecordingTransport {
        RecordingTransport::default()
    }

    /// Answer the next requests with these, in order.
    pub(crate) fn script(self, replies: impl IntoIterator<Item = Scripted>) -> RecordingTransport {
        if let Ok(mut s) = self.script.lock() {
            s.extend(replies);
        }
        self
    }

    /// Answer with `f` (when the queued script is empty); `None` from `f` means `200 {}`.
    pub(crate) fn respond_with(
        mut self,
        f: impl Fn(Endpoint, &[u8]) -> Option<Scripted> + Send + Sync + 'static,
    ) -> RecordingTransport {
        self.responder = Some(Box::new(f));
        self
    }

    /// Every request so far, in the order they were made.
    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
impl Transport for RecordingTransport {
    fn post(&self, endpoint: Endpoint, body: &[u8]) -> Result<Reply, TransportError> {
        if let Ok(mut r) = self.requests.lock() {
            r.push(Recorded {
                endpoint,
                body: body.to_vec(),
            });
        }
        let queued = self.script.lock().ok().and_then(|mut s| s.pop_front());
        if let Some(answer) = queued {
            return answer;
        }
        if let Some(f) = &self.responder
            && let Some(answer) = f(endpoint, body)
        {
            return answer;
        }
        Ok(Reply::new(200, "{}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxy_only_for_https_outside_loopback_and_no_proxy() {
        let env = |url: &str| Proxy::new(url).ok();
        let squid = || env("http://127.0.0.1:3128");
        for local in [
            "http://127.0.0.1:9",
            "http://localhost:9",
            "https://[::1]:9",
        ] {
            assert_eq!(proxy_for(local, squid()), Ok(None), "{local}");
        }
        assert_eq!(proxy_for("https://track.customer.io", None), Ok(None));
        assert_eq!(proxy_for("https://track.customer.io", squid()), Ok(squid()));
        assert!(matches!(
            proxy_for("http://track.customer.io", squid()),
            Err(EndpointError::InsecureProxy { .. })
        ));
        let socks = proxy_for(
            "https://track.customer.io",
            env("socks5://user:hunter2@127.0.0.1:1080"),
        );
        assert_eq!(
            socks,
            Err(EndpointError::UnsupportedProxy("127.0.0.1:1080".into()))
        );
        assert!(!format!("{:?}", socks.map(|_| ())).contains("hunter2"));
        for exempt in ["track.customer.io", "*.customer.io", ".customer.io", "*"] {
            let proxy = Proxy::builder(ProxyProtocol::Http)
                .host("127.0.0.1")
                .port(3128)
                .no_proxy(exempt)
                .build()
                .ok();
            assert_eq!(
                proxy_for("https://track.customer.io", proxy),
                Ok(None),
                "{exempt}"
            );
        }
    }

    #[test]
    fn ca_bundles_are_read_and_checked() {
        let fixture = |name: &str| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/tls")
                .join(name)
        };
        assert_eq!(read_ca_bundle(&fixture("ca.pem")).map(|c| c.len()), Ok(1));
        let no_cert = read_ca_bundle(&fixture("server.key")).map(|c| c.len());
        assert!(
            matches!(&no_cert, Err(EndpointError::CaBundle { why, .. }) if why.contains("holds no certificate")),
            "{no_cert:?}"
        );
        let missing = read_ca_bundle(&fixture("nowhere.pem")).map(|c| c.len());
        assert!(
            matches!(&missing, Err(EndpointError::CaBundle { why, .. }) if why.starts_with("cannot read it")),
            "{missing:?}"
        );
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = chrono::DateTime::parse_from_rfc3339("2015-10-21T07:28:00Z")
            .map(|d| d.with_timezone(&chrono::Utc))
            .unwrap_or_default();
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-4", now), None);
    }

    #[test]
    fn recording_transport_scripts_then_defaults() {
        let t = RecordingTransport::new().script([Ok(Reply::new(500, ""))]);
        assert_eq!(t.post(Endpoint::Batch, b"{}").map(|r| r.status), Ok(500));
        assert_eq!(t.post(Endpoint::Batch, b"{}").map(|r| r.status), Ok(200));
        assert_eq!(t.requests().len(), 2);
    }
}
