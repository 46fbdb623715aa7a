//! The workspace as JSON (`GET /_sandbox/state`) and as the human summary printed on exit.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::workspace::{Events, Relationships, Workspace, cio_id, cio_object_id, shown};

/// Request counters kept next to the workspace.
#[derive(Debug, Default, Clone)]
pub(super) struct Requests {
    pub by_status: BTreeMap<u16, u64>,
    /// Connections dropped on purpose (scripted `"close"`).
    pub closed: u64,
    /// Requests that never completed (truncated body, timeout, garbage).
    pub incomplete: u64,
    /// `GET /api/v1/accounts/region` lookups (a send's preflight), not in the totals.
    pub region_lookups: u64,
}

impl Requests {
    pub(super) fn total(&self) -> u64 {
        self.by_status.values().sum::<u64>() + self.closed
    }
}

/// Figures the summary and tests use.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub people: usize,
    pub objects: usize,
    pub relationships: usize,
    pub devices: usize,
    pub suppressed: usize,
    pub events: u64,
    pub duplicates: u64,
    pub metrics: u64,
}

impl Workspace {
    pub(super) fn totals(&self) -> Totals {
        Totals {
            people: self.people.len(),
            objects: self.objects.len(),
            relationships: self
                .people
                .values()
                .map(|p| self.count_relationships(&p.relationships))
                .sum::<usize>()
                + self
                    .anonymous
                    .values()
                    .map(|a| self.count_relationships(&a.relationships))
                    .sum::<usize>(),
            devices: self.people.values().map(|p| p.devices.len()).sum(),
            suppressed: self.suppressions.values().map(|g| g.len()).sum(),
            events: self.events_total,
            duplicates: self.events_duplicates,
            metrics: self.metrics.values().sum::<u64>() + self.deliveries.values().sum::<u64>(),
        }
    }

    /// The whole workspace as JSON.
    pub(super) fn to_json(&self, requests: &Requests) -> Value {
        let mut people: Vec<_> = self.people.iter().collect();
        people.sort_unstable_by_key(|(key, _)| **key);
        let people: Vec<Value> = people
            .into_iter()
            .map(|(key, p)| {
                let mut ids = Map::new();
                ids.insert("cio_id".into(), json!(cio_id(*key)));
                if let Some(id) = &p.id {
                    ids.insert("id".into(), json!(id));
                }
                if let Some(email) = &p.email {
                    ids.insert("email".into(), json!(email));
                }
                if let Some(phone) = &p.phone {
                    ids.insert("phone".into(), json!(phone));
                }
                json!({
                    "identifiers": ids,
                    "anonymous_ids": p.anonymous_ids,
                    "attributes": p.attributes.to_map(),
                    "devices": p.devices.values().map(|d| shown(&d.raw)).collect::<Vec<_>>(),
                    "relationships": self.relationships(&p.relationships),
                    "events": self.events(&p.events),
                })
            })
            .collect();
        let mut objects: Vec<_> = self.objects.iter().collect();
        objects.sort_unstable_by(|(_, a), (_, b)| (&a.type_id, &a.id).cmp(&(&b.type_id, &b.id)));
        let objects: Vec<Value> = objects
            .into_iter()
            .map(|(number, o)| {
                json!({"object_type_id": o.type_id, "object_id": o.id,
                       "cio_object_id": cio_object_id(*number), "attributes": o.attributes})
            })
            .collect();
        let mut anonymous: Vec<_> = self.anonymous.iter().collect();
        anonymous.sort_unstable_by_key(|(anon, _)| *anon);
        let anonymous: Vec<Value> = anonymous
            .into_iter()
            .map(|(anon, a)| {
                json!({"anonymous_id": anon, "events": self.events(&a.events),
                       "relationships": self.relationships(&a.relationships)})
            })
            .collect();
        let suppressed: Vec<Value> = self
            .suppressions
            .values()
            .flatten()
            .map(|ident| {
                let (kind, value) = ident.parts();
                json!({ kind: value })
            })
            .collect();
        let t = self.totals();
        json!({
            "people": people,
            "objects": objects,
            "anonymous": anonymous,
            "suppressed": suppressed,
            "events": {"total": t.events, "unique": t.events - t.duplicates, "duplicates": t.duplicates},
            "metrics": self.metrics,
            "deliveries": self.deliveries,
            "operations": {"applied": self.applied, "blocked": self.blocked_ops, "ignored": self.ignored_ops},
            "totals": {"people": t.people, "objects": t.objects, "relationships": t.relationships,
                       "devices": t.devices, "suppressed": t.suppressed},
            "requests": {
                "total": requests.total(),
                "by_status": requests.by_status.iter().map(|(s, n)| (s.to_string(), json!(n))).collect::<Map<_, _>>(),
                "closed": requests.closed,
                "incomplete": requests.incomplete,
                "region_lookups": requests.region_lookups,
            },
        })
    }

    /// A few human lines: what the workspace holds and what the requests got.
    pub(super) fn summary(&self, requests: &Requests) -> String {
        let t = self.totals();
        let mut out = format!(
            "sandbox workspace: {} {}, {} {}, {} {}, {} {}, {} suppressed, {} {} ({} unique, {} {} dropped), {} delivery {}\n",
            t.people,
            plural(t.people as u64, "person", "people"),
            t.objects,
            plural(t.objects as u64, "object", "objects"),
            t.relationships,
            plural(t.relationships as u64, "relationship", "relationships"),
            t.devices,
            plural(t.devices as u64, "device", "devices"),
            t.suppressed,
            t.events,
            plural(t.events, "event", "events"),
            t.events - t.duplicates,
            t.duplicates,
            plural(t.duplicates, "duplicate", "duplicates"),
            t.metrics,
            plural(t.metrics, "metric", "metrics"),
        );
        let statuses: Vec<String> = requests
            .by_status
            .iter()
            .map(|(s, n)| format!("{s}: {n}"))
            .collect();
        out.push_str(&format!(
            "sandbox requests: {} ({}){}; operations applied {}, blocked {}, ignored {}\n",
            requests.total(),
            if statuses.is_empty() {
                "none".to_string()
            } else {
                statuses.join(", ")
            },
            if requests.closed > 0 {
                format!(", {} dropped on purpose", requests.closed)
            } else {
                String::new()
            },
            self.applied,
            self.blocked_ops,
            self.ignored_ops,
        ));
        out.push_str(OPERATIONS_LEGEND);
        out
    }
}

/// What the three operation counts mean (Customer.io answers 2xx to all three).
pub(crate) const OPERATIONS_LEGEND: &str = "  (applied: changed the workspace; blocked: addressed a suppressed person and\n  was dropped; ignored: had nothing to apply to, e.g. a delete of nobody or an\n  event for an unknown cio_id; all three were accepted with 2xx)\n";

fn plural(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

impl Workspace {
    fn relationships(&self, rels: &Relationships) -> Vec<Value> {
        self.relationships_of(rels)
            .into_iter()
            .map(|(type_id, id, attrs)| {
                json!({"object_type_id": type_id, "object_id": id, "attributes": attrs})
            })
            .collect()
    }

    fn events(&self, events: &Events) -> Value {
        json!({"total": events.total(), "by_type": events.by_kind(&self.names)})
    }
}
