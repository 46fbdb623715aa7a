//! The App API stand-in (`https://api.customer.io/v1/...` seen from the other side): its routes,
//! Bearer auth with the App API key, and people read from the workspace the Track API built.
//!
//! * `POST /v1/customers/attributes?id_type=T` (`getPeopleById`): body `{"ids": [string, ...]}`,
//!   1 to 100 ids of the one `id_type`; 200 `{"customers": [{"customer": P}, ...]}` in the order
//!   asked, each person once; ids nobody has are left out without a word. A body without an
//!   `ids` array of 1 to 100 strings is a 400.
//! * `GET /v1/customers/{id}/attributes?id_type=T` (`getPersonAttributes`): 200
//!   `{"customer": P}`, 404 when nobody has it (deleted, merged away and suppressed people too).
//!
//! `id_type` is `id` (when left out), `email`, `phone` or `cio_id` (the bare cio_id the sandbox
//! shows, no `cio_` prefix); anything else is a 400. Path ids and query values are
//! percent-decoded (a `+` in the query is a space: send `%2B`).
//!
//! P, built in [`profile`]: `id` (the identifier asked for), `identifiers` `{email, id, cio_id}`
//! (null when the person has none), `attributes` (every value a string: strings as they are,
//! anything else as compact JSON text), `timestamps` (attribute → Unix seconds when it was set:
//! the operation's `timestamp` when it had one, else the sandbox's clock), `unsubscribed` (the
//! `unsubscribed` attribute, truthy or not, shown here and not among `attributes`) and `devices`
//! (`{id: token, platform, last_used, attributes}`, attributes as strings). What the sandbox fills
//! in: `attributes.cio_id` and `attributes.id` (the identifiers), `attributes.email` and
//! `attributes.phone` when the person has that identifier and the attribute was not sent, their
//! `timestamps` (when the person was created), and a device's `last_used` when it was not sent
//! (when the device was stored). Nothing else (no `_last_emailed`, `_last_updated`, subscription
//! preferences or device `_last_status`): the sandbox sends no messages.
//!
//! Errors are `{"meta": {"error": "..."}}`: 401 for a missing or wrong Bearer key (the Track
//! API's Basic credentials never pass), 429 with `Retry-After` above 10 requests a second, 413
//! for a body over 1 MiB, 405 for another method.

mod profile;
mod query;

use serde_json::{Value, json};

use super::http::{Body, HttpRequest, Reply};
use super::workspace::Workspace;
use crate::secret::Secret;
use query::{IdType, decode};

/// Requests a second the App API admits (Customer.io's limit for most endpoints).
pub(crate) const APP_API_RPS: f64 = 10.0;
/// Most ids one `POST /v1/customers/attributes` takes.
pub(crate) const MAX_IDS: usize = 100;
/// Largest App API request body (the spec gives none; 100 long ids fit many times over).
pub(crate) const MAX_BODY_BYTES: usize = 1 << 20;

/// An App API endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AppRoute {
    /// `POST /v1/customers/attributes`.
    People,
    /// `GET /v1/customers/{id}/attributes`, with the id as it came (still percent-encoded).
    Profile(String),
}

impl AppRoute {
    /// The App API route of a request; `None` when the path is not the App API's, `Err(405)` for
    /// the wrong method.
    pub(crate) fn of(method: &str, path: &str) -> Option<Result<AppRoute, u16>> {
        let rest = path.trim_end_matches('/').strip_prefix("/v1/customers/")?;
        let (route, wanted) = if rest == "attributes" {
            (AppRoute::People, "POST")
        } else {
            let id = rest.strip_suffix("/attributes")?;
            if id.is_empty() || id.contains('/') {
                return None;
            }
            (AppRoute::Profile(id.to_string()), "GET")
        };
        Some(if method == wanted {
            Ok(route)
        } else {
            Err(405)
        })
    }
}

/// Whether the request carries `Authorization: Bearer <key>`.
pub(crate) fn authorized(key: &Secret, request: &HttpRequest<'_>) -> bool {
    request
        .header("authorization")
        .and_then(|h| h.split_once(' '))
        .is_some_and(|(scheme, token)| {
            scheme.eq_ignore_ascii_case("bearer") && token.trim() == key.expose()
        })
}

/// The answer to an authorized, admitted request.
pub(crate) fn answer(workspace: &Workspace, route: &AppRoute, request: &HttpRequest<'_>) -> Reply {
    let id_type = match IdType::of_query(&request.query) {
        Ok(id_type) => id_type,
        Err(bad) => {
            return error(
                400,
                &format!("id_type must be id, email, phone or cio_id, not {bad:?}"),
            );
        }
    };
    match route {
        AppRoute::Profile(raw) => person(workspace, id_type, raw),
        AppRoute::People => match &request.body {
            Body::Complete(body) => people(workspace, id_type, body),
            Body::TooLarge => error(
                413,
                &format!("request body is over the {MAX_BODY_BYTES}-byte limit"),
            ),
        },
    }
}

fn person(workspace: &Workspace, id_type: IdType, raw: &str) -> Reply {
    let Some(asked) = decode(raw, false) else {
        return error(
            400,
            "the customer id in the path is not valid percent-encoded UTF-8",
        );
    };
    let found = workspace
        .find(&id_type.ident(&asked))
        .and_then(|key| Some((key, workspace.people.get(&key)?)));
    match found {
        Some((key, p)) => send(200, json!({"customer": profile::profile(&asked, key, p)})),
        None => error(404, "customer not found"),
    }
}

fn people(workspace: &Workspace, id_type: IdType, body: &[u8]) -> Reply {
    let ids = match ids_of(body) {
        Ok(ids) => ids,
        Err(message) => return error(400, &message),
    };
    let mut seen = Vec::new();
    let mut customers = Vec::new();
    for asked in &ids {
        let Some(key) = workspace.find(&id_type.ident(asked)) else {
            continue;
        };
        let Some(p) = workspace.people.get(&key).filter(|_| !seen.contains(&key)) else {
            continue;
        };
        seen.push(key);
        customers.push(json!({"customer": profile::profile(asked, key, p)}));
    }
    send(200, json!({ "customers": customers }))
}

/// The `ids` of a `getPeopleById` body: 1 to [`MAX_IDS`] strings.
fn ids_of(body: &[u8]) -> Result<Vec<String>, String> {
    let shape = format!(
        "the body must be {{\"ids\": [...]}}: 1 to {MAX_IDS} strings, all of the one id_type"
    );
    let parsed: Value =
        serde_json::from_slice(body).map_err(|err| format!("malformed JSON: {err}"))?;
    let Some(Value::Array(items)) = parsed.get("ids") else {
        return Err(shape);
    };
    if items.is_empty() || items.len() > MAX_IDS {
        return Err(format!("{shape} (got {})", items.len()));
    }
    items
        .iter()
        .map(|item| {
            item.as_str()
                .map(str::to_string)
                .ok_or_else(|| shape.clone())
        })
        .collect()
}

fn send(status: u16, body: Value) -> Reply {
    Reply::Send {
        status,
        headers: Vec::new(),
        body: body.to_string().into_bytes(),
    }
}

/// An App API error reply.
pub(crate) fn error(status: u16, message: &str) -> Reply {
    send(status, json!({"meta": {"error": message}}))
}

#[cfg(test)]
mod tests;
