//! The sandbox's endpoints: routing, Basic auth, faults, size limits, envelope and schema checks,
//! then applying what is accepted to the workspace; App API requests go to [`super::app`] behind
//! their own Bearer auth and rate limit.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::app::{self, AppRoute};
use super::faults::{Fault, Faults, ScriptedReply, ScriptedStatus};
use super::http::{Body, Handler, HttpRequest, Reply};
use super::op;
use super::rate::RateWindow;
use super::state::Requests;
use super::validate::{Problem, check_metric, check_operation, check_operation_with};
use super::workspace::Workspace;
use crate::secret::Secret;
use crate::track::Region;
use crate::track::limits::{MAX_BATCH_BYTES, MAX_OPERATION_BYTES};

/// Largest `POST /_sandbox/script` body.
const MAX_SCRIPT_BYTES: usize = 1_000_000;

/// Everything the workers share, behind one lock.
pub(super) struct Inner {
    pub workspace: Workspace,
    pub requests: Requests,
    pub faults: Faults,
    /// The App API's own limit, apart from the Track throttle.
    pub app_limit: RateWindow,
}

pub(super) struct Api {
    pub site_id: String,
    pub api_key: Secret,
    pub app_api_key: Secret,
    pub region: Region,
    pub latency: Duration,
    pub base_url: String,
    pub inner: Mutex<Inner>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Resource {
    Entity,
    Batch,
    Metrics,
    Region,
    State,
    Script,
    Reset,
}

impl Resource {
    fn of(method: &str, path: &str) -> Result<Resource, u16> {
        let (route, wanted) = match path.trim_end_matches('/') {
            "/api/v2/entity" => (Resource::Entity, "POST"),
            "/api/v2/batch" => (Resource::Batch, "POST"),
            "/api/v1/metrics" => (Resource::Metrics, "POST"),
            "/api/v1/accounts/region" => (Resource::Region, "GET"),
            "/_sandbox/state" => (Resource::State, "GET"),
            "/_sandbox/script" => (Resource::Script, "POST"),
            "/_sandbox/reset" => (Resource::Reset, "POST"),
            _ => return Err(404),
        };
        if method == wanted {
            Ok(route)
        } else {
            Err(405)
        }
    }

    fn cap(self) -> usize {
        match self {
            Resource::Batch => MAX_BATCH_BYTES,
            Resource::Script => MAX_SCRIPT_BYTES,
            _ => MAX_OPERATION_BYTES,
        }
    }
}

impl Api {
    pub(super) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn authorized(&self, request: &HttpRequest<'_>) -> bool {
        let Some(encoded) = request.header("authorization").and_then(|h| {
            h.strip_prefix("Basic ")
                .or_else(|| h.strip_prefix("basic "))
        }) else {
            return false;
        };
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
            return false;
        };
        let expected = format!("{}:{}", self.site_id, self.api_key.expose());
        decoded == expected.as_bytes()
    }

    fn api(&self, route: Resource, request: HttpRequest<'_>) -> Reply {
        if !self.latency.is_zero() {
            std::thread::sleep(self.latency);
        }
        if route != Resource::Region {
            let body = match request.body {
                Body::Complete(body) => body,
                Body::TooLarge => &[],
            };
            let scripted = self.lock().faults.next_scripted(body);
            if let Some(scripted) = scripted
                && let Some(reply) = scripted_reply(scripted, &request)
            {
                return reply;
            }
        }
        if route != Resource::Metrics && !self.authorized(&request) {
            return reply(401, json!({"meta": {"error": "Unauthorized"}}));
        }
        if route == Resource::Region {
            return reply(
                200,
                json!({"url": self.base_url, "region": self.region.name(), "environment_id": 1}),
            );
        }
        let fault = self.lock().faults.decide(Instant::now());
        match fault {
            Some(Fault::Throttled(secs)) => {
                return with_retry_after(
                    reply(429, json!({"meta": {"error": "Too Many Requests"}})),
                    secs,
                );
            }
            Some(Fault::Injected(status)) => {
                return reply(status, json!({"meta": {"error": "injected failure"}}));
            }
            _ => {}
        }
        let Body::Complete(body) = request.body else {
            let message = format!("request body is over the {}-byte limit", route.cap());
            return errors(413, vec![Problem::new("too_large", "", message)]);
        };
        match route {
            Resource::Entity => self.entity(body),
            Resource::Batch => self.batch(body),
            _ => self.metrics(body),
        }
    }

    fn entity(&self, body: &[u8]) -> Reply {
        let op: Value = match serde_json::from_slice(body) {
            Ok(op) => op,
            Err(err) => return malformed(&err),
        };
        let problems = check_operation(&op);
        if !problems.is_empty() {
            return errors(400, problems);
        }
        self.lock().workspace.apply(&op);
        reply(200, json!({}))
    }

    fn batch(&self, body: &[u8]) -> Reply {
        #[derive(Deserialize)]
        struct Envelope<'a> {
            #[serde(borrow)]
            batch: Option<Vec<&'a RawValue>>,
        }
        let envelope: Envelope = match serde_json::from_slice(body) {
            Ok(envelope) => envelope,
            Err(err) => return malformed(&err),
        };
        let Some(batch) = envelope.batch else {
            return errors(
                400,
                vec![Problem::new("required", "batch", "batch is required")],
            );
        };
        if batch.is_empty() {
            return errors(
                400,
                vec![Problem::new("invalid", "batch", "batch must not be empty")],
            );
        }
        let mut problems = Vec::new();
        let mut accepted = Vec::new();
        for (index, raw) in batch.iter().enumerate() {
            let first = if raw.get().len() > MAX_OPERATION_BYTES {
                Some(Problem::new(
                    "too_large",
                    "",
                    format!("operation is over the {MAX_OPERATION_BYTES}-byte limit"),
                ))
            } else {
                let parsed = op::parse(raw.get()).map_or_else(
                    || serde_json::from_str::<Value>(raw.get()).map(|op| (op, None)),
                    |p| Ok((p.op, p.event_attributes)),
                );
                match parsed {
                    Ok((op, measured)) => {
                        match check_operation_with(&op, measured).into_iter().next() {
                            Some(problem) => Some(problem),
                            None => {
                                accepted.push(op);
                                None
                            }
                        }
                    }
                    Err(err) => Some(Problem::new("invalid", "", err.to_string())),
                }
            };
            if let Some(p) = first {
                problems.push(json!({"batch_index": index, "reason": p.reason, "field": p.field, "message": p.message}));
            }
        }
        let mut inner = self.lock();
        for op in &accepted {
            inner.workspace.apply(op);
        }
        drop(inner);
        if problems.is_empty() {
            reply(200, json!({}))
        } else {
            reply(207, json!({ "errors": problems }))
        }
    }

    fn metrics(&self, body: &[u8]) -> Reply {
        let metric: Value = match serde_json::from_slice(body) {
            Ok(metric) => metric,
            Err(err) => {
                return reply(
                    400,
                    json!({"meta": {"error": format!("malformed JSON: {err}")}}),
                );
            }
        };
        if let Err(message) = check_metric(&metric) {
            return reply(400, json!({"meta": {"error": message}}));
        }
        self.lock().workspace.metric(&metric);
        reply(200, json!({}))
    }

    fn script(&self, body: &Body<'_>) -> Reply {
        let Body::Complete(body) = body else {
            return reply(413, json!({"error": "script too large"}));
        };
        let entries: Result<Vec<ScriptedReply>, String> =
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Array(items)) => items.iter().map(ScriptedReply::from_json).collect(),
                Ok(one @ Value::Object(_)) => ScriptedReply::from_json(&one).map(|e| vec![e]),
                Ok(_) => Err("expected a JSON array of replies".into()),
                Err(err) => Err(format!("malformed JSON: {err}")),
            };
        match entries {
            Ok(entries) => {
                let mut inner = self.lock();
                inner.faults.push_script(entries);
                reply(200, json!({"queued": inner.faults.script_len()}))
            }
            Err(message) => reply(400, json!({"error": message})),
        }
    }
}

impl Handler for Api {
    fn body_cap(&self, method: &str, path: &str) -> usize {
        if AppRoute::of(method, path).is_some() {
            return app::MAX_BODY_BYTES;
        }
        Resource::of(method, path).map_or(MAX_OPERATION_BYTES, Resource::cap)
    }

    fn handle(&self, request: HttpRequest<'_>) -> Reply {
        if let Some(route) = AppRoute::of(&request.method, &request.path) {
            let out = match route {
                Ok(route) => self.app(&route, &request),
                Err(status) => app::error(status, "method not allowed"),
            };
            self.count(&out);
            return out;
        }
        let route = match Resource::of(&request.method, &request.path) {
            Ok(route) => route,
            Err(status) => {
                let message = format!("no endpoint {} {}", request.method, request.path);
                let out = errors(status, vec![Problem::new("not_found", "", message)]);
                self.count(&out);
                return out;
            }
        };
        let out = match route {
            Resource::State => {
                let inner = self.lock();
                return reply(200, inner.workspace.to_json(&inner.requests));
            }
            Resource::Script => return self.script(&request.body),
            Resource::Reset => {
                let mut inner = self.lock();
                inner.workspace = Workspace::default();
                inner.requests = Requests::default();
                inner.faults.clear_script();
                return reply(200, json!({}));
            }
            // The preflight's region lookups are counted apart: `requests` are the data requests.
            Resource::Region => {
                let out = self.api(route, request);
                self.lock().requests.region_lookups += 1;
                return out;
            }
            _ => self.api(route, request),
        };
        self.count(&out);
        out
    }

    fn incomplete(&self) {
        self.lock().requests.incomplete += 1;
    }
}

impl Api {
    /// An App API request: latency, Bearer auth (401), the 10-a-second limit (429 with
    /// `Retry-After`), then the answer from the workspace. No script or injected faults.
    fn app(&self, route: &AppRoute, request: &HttpRequest<'_>) -> Reply {
        if !self.latency.is_zero() {
            std::thread::sleep(self.latency);
        }
        if !app::authorized(&self.app_api_key, request) {
            return app::error(401, "Unauthorized");
        }
        let mut inner = self.lock();
        if let Err(secs) = inner.app_limit.admit(Instant::now()) {
            return with_retry_after(app::error(429, "Too Many Requests"), secs);
        }
        app::answer(&inner.workspace, route, request)
    }

    fn count(&self, out: &Reply) {
        let mut inner = self.lock();
        match out {
            Reply::Send { status, .. } => {
                *inner.requests.by_status.entry(*status).or_default() += 1
            }
            Reply::Close | Reply::Cut { .. } => inner.requests.closed += 1,
        }
    }
}

/// The reply for a scripted entry; `None` for a plain 2xx, which means "answer normally".
fn scripted_reply(scripted: ScriptedReply, request: &HttpRequest<'_>) -> Option<Reply> {
    let shaped = scripted.body.is_some()
        || scripted.text.is_some()
        || scripted.pad.is_some()
        || scripted.cut
        || scripted.echo_headers;
    let status = match scripted.status {
        ScriptedStatus::Close => return Some(Reply::Close),
        ScriptedStatus::Code(code) if (200..300).contains(&code) && !shaped => {
            return None;
        }
        ScriptedStatus::Code(code) => code,
    };
    let mut headers = Vec::new();
    let mut body = match (scripted.text, scripted.body) {
        (Some(text), _) => {
            headers.push(("Content-Type", "text/html".to_string()));
            text.into_bytes()
        }
        (None, Some(body)) => body.to_string().into_bytes(),
        (None, None) => json!({"meta": {"error": super::http::reason(status)}})
            .to_string()
            .into_bytes(),
    };
    if scripted.echo_headers {
        for (name, value) in &request.headers {
            body.extend_from_slice(format!("\n{name}: {value}").as_bytes());
        }
    }
    if let Some(pad) = scripted.pad {
        body.resize(pad.max(body.len()), b' ');
    }
    if let Some(secs) = scripted.retry_after {
        headers.push(("Retry-After", secs.to_string()));
    }
    Some(if scripted.cut {
        Reply::Cut {
            status,
            headers,
            body,
        }
    } else {
        Reply::Send {
            status,
            headers,
            body,
        }
    })
}

fn reply(status: u16, body: Value) -> Reply {
    Reply::Send {
        status,
        headers: Vec::new(),
        body: body.to_string().into_bytes(),
    }
}

fn with_retry_after(mut out: Reply, secs: u64) -> Reply {
    if let Reply::Send { headers, .. } = &mut out {
        headers.push(("Retry-After", secs.to_string()));
    }
    out
}

fn errors(status: u16, problems: Vec<Problem>) -> Reply {
    let list: Vec<Value> = problems
        .into_iter()
        .map(|p| json!({"reason": p.reason, "field": p.field, "message": p.message}))
        .collect();
    reply(status, json!({ "errors": list }))
}

fn malformed(err: &serde_json::Error) -> Reply {
    errors(
        400,
        vec![Problem::new(
            "invalid",
            "",
            format!("malformed JSON: {err}"),
        )],
    )
}
