//! report-delivery-event: the v1 metrics body for `POST /api/v1/metrics`
//! (segment-destination.md §5.12; mapping.md §4, D1, D7).

use serde_json::{Map, Value};

use super::event::root_seconds;
use super::fields::Ev;
use super::{Built, Invalid};
use crate::track::DELIVERY_METRICS;

pub(crate) fn delivery(ev: &Ev<'_>) -> Result<Built, Invalid> {
    let properties = ev.object("properties")?;
    let get = |key: &str| properties.and_then(|p| p.get(key));
    let delivery_id = ev
        .id_value(get("deliveryId"), "properties.deliveryId")?
        .ok_or_else(|| {
            ev.invalid(
                "properties.deliveryId",
                "report delivery event has no properties.deliveryId: set it to the delivery's id \
                 from Customer.io",
            )
        })?;
    let metric = match get("metric") {
        Some(Value::String(m)) if DELIVERY_METRICS.contains(&m.as_str()) => m.clone(),
        _ => {
            return Err(ev.invalid(
                "properties.metric",
                "Metric must be one of: \"delivered\", \"opened\", \"clicked\", \"converted\", \
                 \"spammed\", \"bounced\", \"dropped\", or \"deferred\": set properties.metric to \
                 one of them",
            ));
        }
    };
    let seconds = root_seconds(ev)?;
    let mut body = Map::with_capacity(7);
    body.insert("delivery_id".to_owned(), Value::String(delivery_id));
    body.insert("metric".to_owned(), Value::String(metric));
    if let Some(s) = seconds {
        body.insert("timestamp".to_owned(), Value::from(s));
    }
    for (from, to) in [
        ("recipient", "recipient"),
        ("reason", "reason"),
        ("href", "href"),
    ] {
        let path = format!("properties.{from}");
        if let Some(v) = ev.text_value(get(from), &path)? {
            body.insert(to.to_owned(), Value::String(v));
        }
    }
    let mut metadata = Map::new();
    for (from, to) in [
        ("actionName", "action_name"),
        ("actionValue", "action_value"),
    ] {
        let path = format!("properties.{from}");
        if let Some(v) = ev.text_value(get(from), &path)? {
            metadata.insert(to.to_owned(), Value::String(v));
        }
    }
    if !metadata.is_empty() {
        body.insert("metadata".to_owned(), Value::Object(metadata));
    }
    Ok(Built::Body(Value::Object(body)))
}
