//! Customer.io Track API facts shared by the mapper, the sender and the sandbox: regions, endpoints,
//! the 15 destination actions, the operation type, the documented size limits and the base-URL rule.

pub(crate) mod limits;
pub(crate) mod region_check;
pub mod url;

use std::fmt;

use serde_json::Value;

/// A Customer.io account region; decides the Track API host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Region {
    Us,
    Eu,
}

impl Region {
    /// The Track API base URL of this region.
    pub(crate) fn base_url(self) -> &'static str {
        match self {
            Region::Us => "https://track.customer.io",
            Region::Eu => "https://track-eu.customer.io",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Region::Us => "us",
            Region::Eu => "eu",
        }
    }
}

/// How operations are delivered: packed into batches or one per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    Batch,
    Sequential,
}

impl Mode {
    /// The name `--mode` takes, shown in summaries and stored in checkpoints.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Batch => "batch",
            Mode::Sequential => "sequential",
        }
    }
}

/// A Track API endpoint that cio-replay posts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `POST /api/v2/entity`: one v2 operation.
    Entity,
    /// `POST /api/v2/batch`: `{"batch": [operation, ...]}`.
    Batch,
    /// `POST /api/v1/metrics`: one delivery metric (never batched).
    Metrics,
}

impl Endpoint {
    /// The request path.
    pub(crate) fn path(self) -> &'static str {
        match self {
            Endpoint::Entity => "/api/v2/entity",
            Endpoint::Batch => "/api/v2/batch",
            Endpoint::Metrics => "/api/v1/metrics",
        }
    }

    /// `POST /api/v2/entity` and so on, as dry-run prints it.
    pub fn label(self) -> &'static str {
        match self {
            Endpoint::Entity => "POST /api/v2/entity",
            Endpoint::Batch => "POST /api/v2/batch",
            Endpoint::Metrics => "POST /api/v1/metrics",
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One of the destination's 15 actions (mapping.md §1), named as on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    CreateUpdatePerson,
    TrackPageView,
    TrackScreenView,
    CreateUpdateObject,
    MergePeople,
    CreateUpdateDevice,
    DeleteDevice,
    DeleteRelationship,
    DeletePerson,
    DeleteObject,
    SuppressPerson,
    UnsuppressPerson,
    ReportDeliveryEvent,
    ReportContentEvent,
    TrackEvent,
}

impl Action {
    /// Every action, in the order of mapping.md §1.
    pub(crate) const ALL: [Action; 15] = [
        Action::CreateUpdatePerson,
        Action::TrackPageView,
        Action::TrackScreenView,
        Action::CreateUpdateObject,
        Action::MergePeople,
        Action::CreateUpdateDevice,
        Action::DeleteDevice,
        Action::DeleteRelationship,
        Action::DeletePerson,
        Action::DeleteObject,
        Action::SuppressPerson,
        Action::UnsuppressPerson,
        Action::ReportDeliveryEvent,
        Action::ReportContentEvent,
        Action::TrackEvent,
    ];

    /// The CLI / output name, e.g. `create-update-person`.
    pub fn name(self) -> &'static str {
        match self {
            Action::CreateUpdatePerson => "create-update-person",
            Action::TrackPageView => "track-page-view",
            Action::TrackScreenView => "track-screen-view",
            Action::CreateUpdateObject => "create-update-object",
            Action::MergePeople => "merge-people",
            Action::CreateUpdateDevice => "create-update-device",
            Action::DeleteDevice => "delete-device",
            Action::DeleteRelationship => "delete-relationship",
            Action::DeletePerson => "delete-person",
            Action::DeleteObject => "delete-object",
            Action::SuppressPerson => "suppress-person",
            Action::UnsuppressPerson => "unsuppress-person",
            Action::ReportDeliveryEvent => "report-delivery-event",
            Action::ReportContentEvent => "report-content-event",
            Action::TrackEvent => "track-event",
        }
    }

    /// The action with this CLI name.
    pub(crate) fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The default track event names that trigger this action (empty for the `type`-routed ones
    /// and for `track-event`, which takes every other track event).
    pub(crate) fn default_triggers(self) -> &'static [&'static str] {
        match self {
            Action::CreateUpdateDevice => &[
                "Application Installed",
                "Application Opened",
                "Device Created or Updated",
            ],
            Action::DeleteDevice => &["Application Uninstalled", "Device Deleted"],
            Action::DeleteRelationship => &["Relationship Deleted"],
            Action::DeletePerson => &["User Deleted"],
            Action::DeleteObject => &["Object Deleted"],
            Action::SuppressPerson => &["User Suppressed"],
            Action::UnsuppressPerson => &["User Unsuppressed"],
            Action::ReportDeliveryEvent => &["Report Delivery Event"],
            Action::ReportContentEvent => &["Report Content Event"],
            _ => &[],
        }
    }

    /// Whether the operation of this action goes to `/api/v1/metrics` (never batched).
    pub(crate) fn is_metric(self) -> bool {
        self == Action::ReportDeliveryEvent
    }

    /// The endpoint an operation of this action goes to in `mode`.
    pub fn endpoint(self, mode: Mode) -> Endpoint {
        match (self.is_metric(), mode) {
            (true, _) => Endpoint::Metrics,
            (false, Mode::Batch) => Endpoint::Batch,
            (false, Mode::Sequential) => Endpoint::Entity,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The delivery metrics `POST /api/v1/metrics` accepts (track-api.md; the mapper checks a
/// `Report Delivery Event`'s metric against it, the sandbox its requests).
pub(crate) const DELIVERY_METRICS: [&str; 8] = [
    "delivered",
    "opened",
    "clicked",
    "converted",
    "spammed",
    "bounced",
    "dropped",
    "deferred",
];

/// One mapped operation: a Track API v2 entity, or for `report-delivery-event` a v1 metrics body.
/// The body is not changed once the operation is made (nothing does): its compact JSON, when
/// written at the mapping's size check ([`Operation::encoded`]), is kept and reused, so each
/// operation is serialized once.
#[derive(Debug, Clone)]
pub struct Operation {
    /// The action that produced it.
    pub action: Action,
    /// The JSON body exactly as it is sent (a v2 entity or a v1 metrics object).
    pub body: Value,
    /// `body` as compact JSON, when written already.
    json: Option<Vec<u8>>,
}

/// Operations are equal when their actions and bodies are (the kept JSON follows the body).
impl PartialEq for Operation {
    fn eq(&self, other: &Operation) -> bool {
        self.action == other.action && self.body == other.body
    }
}

impl Operation {
    pub(crate) fn new(action: Action, body: Value) -> Operation {
        Operation {
            action,
            body,
            json: None,
        }
    }

    /// An operation with its body written as compact JSON now, kept for [`Operation::write_json`],
    /// [`Operation::json_len`] and [`Operation::into_json`].
    pub(crate) fn encoded(action: Action, body: Value) -> Operation {
        let mut json = Vec::with_capacity(512);
        // Writing a Value into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut json, &body);
        Operation {
            action,
            body,
            json: Some(json),
        }
    }

    /// The size of the body as compact JSON, in bytes.
    pub(crate) fn json_len(&self) -> usize {
        match &self.json {
            Some(json) => json.len(),
            None => limits::json_bytes(&self.body),
        }
    }

    /// Append the body as compact JSON to `out`.
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) {
        match &self.json {
            Some(json) => out.extend_from_slice(json),
            // Writing a Value into a Vec cannot fail.
            None => {
                let _ = serde_json::to_writer(&mut *out, &self.body);
            }
        }
    }

    /// The body as compact JSON (the kept text, without a copy, when there is one).
    pub(crate) fn into_json(self) -> Vec<u8> {
        match self.json {
            Some(json) => json,
            None => {
                let mut out = Vec::new();
                self.write_json(&mut out);
                out
            }
        }
    }

    /// The same operation without its body, for counting once the body is written out.
    pub(crate) fn without_body(&self) -> Operation {
        Operation::new(self.action, Value::Null)
    }

    /// The endpoint this operation goes to in `mode`.
    pub fn endpoint(&self, mode: Mode) -> Endpoint {
        self.action.endpoint(mode)
    }
}
