//! Deterministic generator of realistic Segment-spec events (NDJSON) for the benchmark suite.
//!
//! `cargo run --release --example gen-events -- --records 1000000 --seed 7 -o events.ndjson`
//!
//! All 15 actions in the proportions of a typical product's history (mostly track events, identifies,
//! pages and screens; a few devices, groups, deletions, suppressions, merges and metrics), about 400-600
//! bytes a record, timestamps spread over the first half of 2024 (so `send` needs no `--allow-recent`).
//! The same `--records` and `--seed` always give the same bytes (for one build: fastrand's wyrand).
//! It is an example rather than a `src/bin` target so that `cargo install` never ships it to users.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Parser;
use serde_json::{Map, Value, json};

/// Print N deterministic Segment-spec events as NDJSON.
#[derive(Debug, Parser)]
#[command(name = "gen-events")]
struct Args {
    /// Number of records.
    #[arg(long, short = 'n', default_value_t = 1_000, value_name = "N")]
    records: u64,
    /// Seed of the random generator.
    #[arg(long, default_value_t = 7, value_name = "N")]
    seed: u64,
    /// Write to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// One kind of record the generator makes; each triggers exactly one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Track,
    Identify,
    Page,
    Screen,
    Group,
    Alias,
    DeviceUpdate,
    DeviceDelete,
    RelationshipDelete,
    PersonDelete,
    ObjectDelete,
    Suppress,
    Unsuppress,
    DeliveryMetric,
    ContentEvent,
}

/// Records of each kind per 10,000.
const MIX: [(Kind, u32); 15] = [
    (Kind::Track, 5_480),
    (Kind::Identify, 1_500),
    (Kind::Page, 1_400),
    (Kind::Screen, 700),
    (Kind::DeviceUpdate, 300),
    (Kind::Group, 250),
    (Kind::Alias, 80),
    (Kind::DeviceDelete, 60),
    (Kind::DeliveryMetric, 50),
    (Kind::ContentEvent, 50),
    (Kind::RelationshipDelete, 40),
    (Kind::PersonDelete, 30),
    (Kind::Suppress, 30),
    (Kind::ObjectDelete, 20),
    (Kind::Unsuppress, 10),
];

const TRACK_EVENTS: [&str; 10] = [
    "Product Viewed",
    "Product Added",
    "Order Completed",
    "Checkout Started",
    "Products Searched",
    "Signed In",
    "Video Played",
    "Coupon Applied",
    "Subscription Renewed",
    "Feature Used",
];
const PLANS: [&str; 4] = ["free", "starter", "pro", "enterprise"];
const CITIES: [(&str, &str); 6] = [
    ("Berlin", "DE"),
    ("Portland", "US"),
    ("Lyon", "FR"),
    ("Osaka", "JP"),
    ("São Paulo", "BR"),
    ("Leeds", "GB"),
];
const FIRST: [&str; 8] = [
    "Ada", "Grace", "Linus", "Zoë", "Ken", "Barbara", "Dennis", "Margaret",
];
const LAST: [&str; 8] = [
    "Lovelace", "Hopper", "Torvalds", "Müller", "Thompson", "Liskov", "Ritchie", "Hamilton",
];
const PATHS: [&str; 6] = [
    "/",
    "/pricing",
    "/docs/getting-started",
    "/blog/2024/roadmap",
    "/account/billing",
    "/products/42",
];
const SCREENS: [&str; 5] = [
    "Home",
    "Cart",
    "Product Detail",
    "Settings",
    "Onboarding Step 2",
];
const AGENTS: [&str; 3] = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Mobile/15E148",
];
const METRICS: [&str; 5] = ["delivered", "opened", "clicked", "converted", "bounced"];

/// 2024-01-01T00:00:00Z and the length of the window events fall in (181 days).
const WINDOW_START: i64 = 1_704_067_200;
const WINDOW_SECS: i64 = 181 * 86_400;

/// The state of one generator: its random stream and the size of the population it draws from.
struct Generator {
    rng: fastrand::Rng,
    people: u64,
    objects: u64,
}

impl Generator {
    fn new(seed: u64, records: u64) -> Generator {
        Generator {
            rng: fastrand::Rng::with_seed(seed),
            people: (records / 20).max(100),
            objects: (records / 500).max(10),
        }
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.rng.usize(..items.len())]
    }

    fn kind(&mut self) -> Kind {
        let mut roll = self.rng.u32(..10_000);
        for (kind, weight) in MIX {
            if roll < weight {
                return kind;
            }
            roll -= weight;
        }
        Kind::Track
    }

    fn hex(&mut self, digits: usize) -> String {
        (0..digits)
            .map(|_| char::from_digit(self.rng.u32(..16), 16).unwrap_or('0'))
            .collect()
    }

    fn uuid(&mut self) -> String {
        format!(
            "{}-{}-4{}-a{}-{}",
            self.hex(8),
            self.hex(4),
            self.hex(3),
            self.hex(3),
            self.hex(12)
        )
    }

    fn user_id(&mut self) -> String {
        format!("user_{:07}", self.rng.u64(..self.people))
    }

    fn email_of(user_id: &str) -> String {
        format!("{}@example.com", user_id.replace('_', "."))
    }

    fn iso(secs: i64, millis: u32) -> String {
        chrono::DateTime::from_timestamp(secs, millis * 1_000_000)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .unwrap_or_default()
    }

    fn time(&mut self) -> String {
        let secs = WINDOW_START + self.rng.i64(0..WINDOW_SECS);
        Self::iso(secs, self.rng.u32(..1000))
    }

    fn context(&mut self, mobile: bool) -> Value {
        let (city, country) = self.pick(&CITIES);
        let ip = format!(
            "{}.{}.{}.{}",
            self.rng.u8(1..224),
            self.rng.u8(..),
            self.rng.u8(..),
            self.rng.u8(1..255)
        );
        if mobile {
            json!({
                "app": {"name": "Acme", "version": format!("5.{}.{}", self.rng.u8(..20), self.rng.u8(..10))},
                "device": {"type": self.pick(&["ios", "android"]), "model": "Pixel 8"},
                "ip": ip,
                "library": {"name": "analytics-swift", "version": "1.5.9"},
                "locale": "en-US",
                "location": {"city": city, "country": country},
            })
        } else {
            json!({
                "ip": ip,
                "library": {"name": "analytics.js", "version": "next-1.64.0"},
                "locale": "en-US",
                "userAgent": self.pick(&AGENTS),
            })
        }
    }

    fn traits(&mut self, user_id: &str) -> Value {
        let (city, country) = self.pick(&CITIES);
        json!({
            "email": Self::email_of(user_id),
            "first_name": self.pick(&FIRST),
            "last_name": self.pick(&LAST),
            "plan": self.pick(&PLANS),
            "logins": self.rng.u32(..500),
            "vip": self.rng.bool(),
            "created_at": Self::iso(WINDOW_START - self.rng.i64(0..90_000_000), 0),
            "address": {"city": city, "country": country},
            "company": {"name": format!("Company {}", self.rng.u32(..5000)), "employees": self.rng.u32(1..20000)},
        })
    }

    fn track_properties(&mut self, event: &str) -> Value {
        match event {
            "Order Completed" | "Checkout Started" => json!({
                "order_id": self.hex(12),
                "total": f64::from(self.rng.u32(100..50_000)) / 100.0,
                "currency": "EUR",
                "coupon": null,
                "products": [
                    {"sku": format!("SKU-{}", self.rng.u16(..)), "price": 19.99, "quantity": self.rng.u8(1..4)},
                    {"sku": format!("SKU-{}", self.rng.u16(..)), "price": 5.5, "quantity": 1}
                ],
            }),
            _ => json!({
                "product_id": format!("p-{}", self.rng.u32(..100_000)),
                "category": self.pick(&["Books", "Games", "Garden", "Tools"]),
                "price": f64::from(self.rng.u32(100..10_000)) / 100.0,
                "position": self.rng.u8(1..50),
                "seen_at": self.time(),
            }),
        }
    }

    /// One record of the given kind.
    fn record(&mut self, kind: Kind) -> Value {
        let user_id = self.user_id();
        let mut base = Map::new();
        base.insert("messageId".into(), Value::String(self.uuid()));
        base.insert("anonymousId".into(), Value::String(self.uuid()));
        base.insert("timestamp".into(), Value::String(self.time()));
        let mobile = matches!(kind, Kind::Screen | Kind::DeviceUpdate | Kind::DeviceDelete);
        let (kind_fields, with_user) = match kind {
            Kind::Track => {
                let event = self.pick(&TRACK_EVENTS);
                (
                    json!({"type": "track", "event": event, "properties": self.track_properties(event)}),
                    true,
                )
            }
            Kind::Identify => (
                json!({"type": "identify", "traits": self.traits(&user_id)}),
                true,
            ),
            Kind::Page => {
                let path = self.pick(&PATHS);
                (
                    json!({"type": "page", "name": path, "properties": {
                    "path": path, "url": format!("https://www.acme.example{path}"),
                    "referrer": "https://www.google.com/", "title": "Acme", "search": ""}}),
                    true,
                )
            }
            Kind::Screen => (
                json!({"type": "screen", "name": self.pick(&SCREENS),
                    "properties": {"duration_ms": self.rng.u32(..60_000), "from": self.pick(&SCREENS)}}),
                true,
            ),
            Kind::Group => {
                let group = format!("acct_{:05}", self.rng.u64(..self.objects));
                (
                    json!({"type": "group", "groupId": group, "traits": {
                    "object_type_id": "1", "name": format!("Account {group}"),
                    "plan": self.pick(&PLANS), "seats": self.rng.u16(1..500),
                    "created_at": Self::iso(WINDOW_START - self.rng.i64(0..90_000_000), 0),
                    "relationshipAttributes": {"role": self.pick(&["admin", "member"])}}}),
                    true,
                )
            }
            Kind::Alias => (json!({"type": "alias", "previousId": self.user_id()}), true),
            Kind::DeviceUpdate => {
                let event = self.pick(&[
                    "Application Installed",
                    "Application Opened",
                    "Device Created or Updated",
                ]);
                (
                    json!({"type": "track", "event": event, "properties": {"build": self.rng.u16(..9999)}}),
                    true,
                )
            }
            Kind::DeviceDelete => (
                json!({"type": "track", "event": self.pick(&["Application Uninstalled", "Device Deleted"]), "properties": {}}),
                true,
            ),
            Kind::RelationshipDelete | Kind::ObjectDelete => {
                let event = if kind == Kind::ObjectDelete {
                    "Object Deleted"
                } else {
                    "Relationship Deleted"
                };
                (
                    json!({"type": "track", "event": event, "properties": {
                    "objectId": format!("acct_{:05}", self.rng.u64(..self.objects)), "objectTypeId": "1"}}),
                    true,
                )
            }
            Kind::PersonDelete => (
                json!({"type": "track", "event": "User Deleted", "properties": {}}),
                true,
            ),
            Kind::Suppress => (
                json!({"type": "track", "event": "User Suppressed", "properties": {}}),
                true,
            ),
            Kind::Unsuppress => (
                json!({"type": "track", "event": "User Unsuppressed", "properties": {}}),
                true,
            ),
            Kind::DeliveryMetric => (
                json!({"type": "track", "event": "Report Delivery Event", "properties": {
                    "deliveryId": format!("dlv_{}", self.hex(16)), "metric": self.pick(&METRICS),
                    "recipient": Self::email_of(&user_id)}}),
                true,
            ),
            Kind::ContentEvent => (
                json!({"type": "track", "event": "Report Content Event", "properties": {
                    "actionType": self.pick(&["viewed_content", "clicked_content"]),
                    "contentType": "banner", "contentId": self.rng.u16(..500), "templateId": self.rng.u16(..50)}}),
                false,
            ),
        };
        if with_user {
            base.insert("userId".into(), Value::String(user_id));
        }
        if let Value::Object(fields) = kind_fields {
            base.extend(fields);
        }
        let mut context = self.context(mobile);
        if matches!(kind, Kind::DeviceUpdate | Kind::DeviceDelete)
            && let Some(device) = context.get_mut("device").and_then(Value::as_object_mut)
        {
            device.insert("token".into(), Value::String(self.hex(64)));
        }
        base.insert("context".into(), context);
        Value::Object(base)
    }
}

/// Write `records` events from `seed` to `out`, one JSON object per line.
fn generate(records: u64, seed: u64, out: &mut dyn Write) -> std::io::Result<()> {
    let mut generator = Generator::new(seed, records);
    let mut line = Vec::with_capacity(1024);
    for _ in 0..records {
        let kind = generator.kind();
        line.clear();
        serde_json::to_writer(&mut line, &generator.record(kind))?;
        line.push(b'\n');
        out.write_all(&line)?;
    }
    out.flush()
}

fn main() -> Result<()> {
    let args = Args::parse();
    match &args.output {
        Some(path) => {
            let file =
                File::create(path).with_context(|| format!("creating {}", path.display()))?;
            generate(
                args.records,
                args.seed,
                &mut BufWriter::with_capacity(1 << 20, file),
            )
            .with_context(|| format!("writing {}", path.display()))
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
            match generate(args.records, args.seed, &mut out) {
                Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => other.context("writing standard output"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(records: u64, seed: u64) -> Vec<u8> {
        let mut out = Vec::new();
        generate(records, seed, &mut out).expect("in memory");
        out
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        assert_eq!(events(500, 7), events(500, 7));
        assert_ne!(events(500, 7), events(500, 8));
    }

    #[test]
    fn mix_adds_up_and_covers_every_kind() {
        assert_eq!(MIX.iter().map(|(_, w)| w).sum::<u32>(), 10_000);
        let mut generator = Generator::new(1, 200_000);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..20_000 {
            seen.insert(format!("{:?}", generator.kind()));
        }
        assert_eq!(seen.len(), 15);
    }

    #[test]
    fn times_fall_in_the_first_half_of_2024() {
        let mut generator = Generator::new(5, 1_000);
        for _ in 0..1_000 {
            let time = generator.time();
            assert!(time.starts_with("2024-0") && time.ends_with('Z'), "{time}");
            assert!(("2024-01".."2024-07").contains(&&time[..7]), "{time}");
        }
    }

    #[test]
    fn records_are_objects_of_realistic_size() {
        let out = events(5_000, 3);
        let lines: Vec<&[u8]> = out
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(lines.len(), 5_000);
        for line in &lines {
            let value: Value = serde_json::from_slice(line).expect("valid JSON");
            assert!(value.get("type").and_then(Value::as_str).is_some());
        }
        let mean = (out.len() - lines.len()) / lines.len();
        assert!((400..=600).contains(&mean), "mean record size {mean} bytes");
    }
}
