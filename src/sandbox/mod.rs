//! The local Customer.io Track API stand-in: the Track API seen from the other side, on loopback,
//! with an in-memory workspace, and the App API's people reads of that workspace (see `app`). It
//! shares `crate::track`'s limits, never the mapping code.
//!
//! In-process use (what `send --sandbox` and tests do):
//!
//! ```no_run
//! use cio_replay::sandbox::{Sandbox, SandboxConfig, ScriptedReply};
//! let mut sandbox = Sandbox::start(SandboxConfig::default())?;
//! let base = sandbox.url(); // "http://127.0.0.1:PORT"; Basic auth `sandbox` / `sandbox-key`
//! // App API: `Authorization: Bearer sandbox-app-key`
//! sandbox.script(vec![ScriptedReply::status(429).retry_after(1).times(2), ScriptedReply::close()]);
//! // ... POST {base}/api/v2/batch ...
//! eprint!("{}", sandbox.summary());
//! sandbox.stop();
//! # anyhow::Ok(())
//! ```
//!
//! Endpoints: `POST /api/v2/entity`, `POST /api/v2/batch`, `POST /api/v1/metrics` (no auth),
//! `GET /api/v1/accounts/region`, and for tests `GET /_sandbox/state`, `POST /_sandbox/script`
//! (a JSON array of `{"status": 429 | "close", "retry_after": 2, "times": 3, "body": {...}}`, with
//! the fault keys `"text"` (a raw body, sent as HTML), `"pad"` (pad the body to N bytes), `"cut"`
//! (announce the whole body, send half, drop the connection), `"echo_headers"` (append the request's
//! headers, `Authorization` included, to the body) and `"match"` (answer only requests whose body
//! contains this text, ahead of the queue)),
//! `POST /_sandbox/reset`. Order of checks on the API endpoints: latency, scripted reply, Basic auth
//! (401), throttle (429 + `Retry-After`), injected 5xx, size (413), JSON envelope (400), schema
//! (400 for entity, 207 with `batch_index` for batch), then the workspace applies what passed.
//! The region endpoint answers to auth only (no script, throttle or injected faults), so a
//! client's start-up check does not eat a reply scripted for its first batch. It answers
//! `{"url": <the sandbox's own base URL>, "region": "us" | "eu" (`SandboxConfig::region`),
//! "environment_id": 1}`: the real service names its region's Track host; a sandbox names itself.
//!
//! The App API (`POST /v1/customers/attributes`, `GET /v1/customers/{id}/attributes`) takes
//! `Authorization: Bearer <app_api_key>` only (the Track credentials get 401 there, and the App
//! key gets 401 on the Track endpoints), answers to latency, then auth, then its own limit of 10
//! requests a second (429 with `Retry-After`, apart from `--throttle`), never to the script or
//! injected faults; its requests are counted with the others.
//!
//! Where the documentation is silent, the sandbox decides (and the tests pin it): a 207 lists the
//! first problem of each invalid operation; an entity 400 lists them all; an empty batch is a 400;
//! `viewed_content`/`clicked_content` person actions and `{"anonymous_id"}` identifiers on events
//! are accepted because Segment's destination sends them; a scripted 2xx means "answer normally"
//! unless it carries a body; people are created by identify, events, devices and relationships
//! addressed by id, email or phone, never by cio_id (ignored) or anonymous id (kept apart until an
//! identify links it through `attributes.anonymous_id`); suppressing blocks every identifier the
//! person had, and unsuppressing any of them frees them all.

mod api;
mod app;
mod faults;
mod http;
mod op;
mod rate;
mod state;
mod validate;
mod workspace;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use anyhow::Context;
use serde_json::Value;

pub use faults::ScriptedReply;
pub(crate) use state::Totals;

use crate::secret::Secret;
use crate::track::Region;

/// The site id the sandbox accepts when none is given.
pub(crate) const DEFAULT_SITE_ID: &str = "sandbox";
/// The API key the sandbox accepts when none is given.
pub(crate) const DEFAULT_API_KEY: &str = "sandbox-key";
/// The App API key the sandbox accepts when none is given.
pub(crate) const DEFAULT_APP_API_KEY: &str = "sandbox-app-key";

/// How to run a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Basic-auth user name accepted.
    pub site_id: String,
    /// Basic-auth password accepted.
    pub api_key: Secret,
    /// App API Bearer key accepted (must differ from `api_key`).
    pub app_api_key: Secret,
    /// The region `GET /api/v1/accounts/region` reports.
    pub region: Region,
    /// Delay before every API reply.
    pub latency: Duration,
    /// Fraction (0..=1) of API requests answered with an injected 500, 502 or 503.
    pub fail_rate: f64,
    /// Requests per second above which API requests get 429 with `Retry-After`.
    pub throttle: Option<f64>,
    /// Seed of the fault injection.
    pub seed: Option<u64>,
}

impl Default for SandboxConfig {
    fn default() -> SandboxConfig {
        SandboxConfig {
            port: 0,
            site_id: DEFAULT_SITE_ID.to_string(),
            api_key: Secret::new(DEFAULT_API_KEY),
            app_api_key: Secret::new(DEFAULT_APP_API_KEY),
            region: Region::Us,
            latency: Duration::ZERO,
            fail_rate: 0.0,
            throttle: None,
            seed: None,
        }
    }
}

/// A running sandbox. Dropping it stops it.
pub struct Sandbox {
    server: http::HttpServer,
    api: Arc<api::Api>,
}

impl Sandbox {
    /// Bind 127.0.0.1:`config.port` and serve in background threads.
    pub fn start(config: SandboxConfig) -> anyhow::Result<Sandbox> {
        if !(0.0..=1.0).contains(&config.fail_rate) {
            anyhow::bail!(
                "--fail-rate must be between 0 and 1, not {}",
                config.fail_rate
            );
        }
        if let Some(rps) = config
            .throttle
            .filter(|rps| !(*rps > 0.0 && rps.is_finite()))
        {
            anyhow::bail!("--throttle must be a positive number of requests per second, not {rps}");
        }
        if config.app_api_key.expose() == config.api_key.expose() {
            anyhow::bail!("the App API key must differ from the Track API key");
        }
        // The handler needs the URL, which needs the port: bind first through a placeholder.
        let shared = Arc::new(OnceLock::<Arc<api::Api>>::new());
        let late = LateHandler(shared.clone());
        let server = http::HttpServer::start(config.port, Arc::new(late))
            .with_context(|| format!("cannot listen on 127.0.0.1:{}", config.port))?;
        let api = Arc::new(api::Api {
            site_id: config.site_id,
            api_key: config.api_key,
            app_api_key: config.app_api_key,
            region: config.region,
            latency: config.latency,
            base_url: format!("http://{}", server.addr()),
            inner: Mutex::new(api::Inner {
                workspace: workspace::Workspace::default(),
                requests: state::Requests::default(),
                faults: faults::Faults::new(config.fail_rate, config.throttle, config.seed),
                app_limit: rate::RateWindow::per_second(app::APP_API_RPS),
            }),
        });
        let _ = shared.set(api.clone());
        Ok(Sandbox { server, api })
    }

    /// `http://127.0.0.1:PORT`, the base to put in front of `/api/v2/batch`.
    pub fn url(&self) -> String {
        self.api.base_url.clone()
    }

    /// The site id it accepts.
    pub fn site_id(&self) -> &str {
        &self.api.site_id
    }

    /// The API key it accepts.
    pub fn api_key(&self) -> &Secret {
        &self.api.api_key
    }

    /// The App API key it accepts (as `Authorization: Bearer`).
    pub fn app_api_key(&self) -> &Secret {
        &self.api.app_api_key
    }

    /// The whole workspace and the request counters, as `GET /_sandbox/state` shows them.
    pub fn state(&self) -> Value {
        let inner = self.api.lock();
        inner.workspace.to_json(&inner.requests)
    }

    /// Counts of what the workspace holds.
    pub fn totals(&self) -> Totals {
        self.api.lock().workspace.totals()
    }

    /// Two human lines: people, objects, relationships, devices, suppressed, events; requests.
    pub fn summary(&self) -> String {
        let inner = self.api.lock();
        inner.workspace.summary(&inner.requests)
    }

    /// Queue scripted replies for the next API requests.
    pub fn script(&self, replies: Vec<ScriptedReply>) {
        self.api.lock().faults.push_script(replies);
    }

    /// Empty the workspace, the counters and the script.
    pub fn reset(&self) {
        let mut inner = self.api.lock();
        inner.workspace = workspace::Workspace::default();
        inner.requests = state::Requests::default();
        inner.faults.clear_script();
    }

    /// Stop serving (the state stays readable). Idempotent.
    pub fn stop(&mut self) {
        self.server.stop();
    }
}

/// Forwards to the API once it exists (a request arriving in between gets a 503).
struct LateHandler(Arc<OnceLock<Arc<api::Api>>>);

impl LateHandler {
    fn api(&self) -> Option<&Arc<api::Api>> {
        self.0.get()
    }
}

impl http::Handler for LateHandler {
    fn body_cap(&self, method: &str, path: &str) -> usize {
        self.api().map_or(0, |api| api.body_cap(method, path))
    }

    fn handle(&self, request: http::HttpRequest<'_>) -> http::Reply {
        let Some(api) = self.api() else {
            return http::Reply::Send {
                status: 503,
                headers: Vec::new(),
                body: b"{}".to_vec(),
            };
        };
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| api.handle(request)));
        caught.unwrap_or_else(|_| http::Reply::Send {
            status: 500,
            headers: Vec::new(),
            body: br#"{"meta":{"error":"sandbox internal error"}}"#.to_vec(),
        })
    }

    fn incomplete(&self) {
        if let Some(api) = self.api() {
            api.incomplete();
        }
    }
}
