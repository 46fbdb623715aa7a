//! The sandbox over loopback: each documented response, the workspace after a fixed script of
//! operations, and survival of garbage (random bytes, truncated and huge bodies, slow clients).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::common;
use crate::common::wire::{self, Got, auth, basic, batch, parse, post};
use cio_replay::sandbox::{Sandbox, SandboxConfig, ScriptedReply};
use serde_json::{Value, json};

fn addr(sandbox: &Sandbox) -> String {
    sandbox.url().trim_start_matches("http://").to_string()
}

fn raw(sandbox: &Sandbox, method: &str, path: &str, auth: Option<&str>, body: &[u8]) -> Got {
    wire::raw(&sandbox.url(), method, path, auth, body)
}

fn identify(id: &str, attributes: Value) -> Value {
    json!({"type":"person","action":"identify","identifiers":{"id":id},"attributes":attributes})
}

const ULID_A: &str = "01HZY1K3E8M6N0Q2R4S6T8V0W2";
const ULID_B: &str = "01HZY1K3E8M6N0Q2R4S6T8V0W3";

#[test]
fn entity_identify_is_200_and_region_names_the_sandbox() {
    let sandbox = common::sandbox(SandboxConfig::default());
    let got = post(
        &sandbox,
        "/api/v2/entity",
        &identify("u1", json!({"plan": "pro"})),
    );
    assert_eq!((got.status, got.json()), (200, json!({})));
    let region = raw(
        &sandbox,
        "GET",
        "/api/v1/accounts/region",
        Some(&auth()),
        b"",
    );
    assert_eq!(region.status, 200);
    assert_eq!(
        region.json(),
        json!({"url": sandbox.url(), "region": "us", "environment_id": 1})
    );
    let state = sandbox.state();
    assert_eq!(state["people"][0]["identifiers"]["id"], "u1");
    assert_eq!(state["people"][0]["attributes"], json!({"plan": "pro"}));
    let unknown = raw(&sandbox, "GET", "/nope", None, b"");
    assert_eq!(unknown.status, 404);
    assert!(unknown.json()["errors"].is_array());
}

#[test]
fn batch_with_invalid_operations_is_207_with_their_indexes_and_applies_the_rest() {
    let sandbox = common::sandbox(SandboxConfig::default());
    let ops = vec![
        identify("ok-0", json!({})),
        json!({"type":"person","action":"fly","identifiers":{"id":"x"}}),
        identify("ok-2", json!({})),
        json!({"type":"person","action":"identify","identifiers":{"id":"x","email":"x@example.com"}}),
        json!({"type":"person","action":"event","identifiers":{"id":"ok-0"},"name":"  "}),
        json!({"type":"person","action":"add_device","identifiers":{"id":"ok-0"},"device":{"token":"t","platform":"web"}}),
        identify(
            "big",
            json!({"blob": "x".repeat(900), "more": "y".repeat(32_000)}),
        ),
        json!({"type":"person","action":"event","identifiers":{"id":"ok-0"},"name":"n","id":"not-a-ulid"}),
        json!({"type":"person","action":"event","identifiers":{"id":"ok-0"},"name":"n","timestamp":1.5}),
        json!({"type":"person","action":"merge","primary":{"id":"a"},"secondary":{}}),
        json!({"type":"object","action":"identify","identifiers":{"object_id":"o"}}),
        json!({"type":"person","action":"event","identifiers":{"anonymous_id":"anon-1"},"name":"viewed"}),
        identify("long-name", json!({ "n".repeat(151): 1 })),
        json!({"type":"widget","action":"identify"}),
    ];
    let got = batch(&sandbox, ops);
    assert_eq!(got.status, 207, "{}", got.body);
    let errors = got.json()["errors"].as_array().cloned().unwrap_or_default();
    let indexes: Vec<u64> = errors
        .iter()
        .map(|e| e["batch_index"].as_u64().unwrap())
        .collect();
    assert_eq!(indexes, vec![1, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13]);
    for error in &errors {
        for key in ["reason", "field", "message"] {
            assert!(error[key].is_string(), "{error}");
        }
    }
    assert_eq!(errors[0]["field"], "action");
    let totals = sandbox.totals();
    assert_eq!(totals.people, 2);
    assert_eq!(totals.events, 1, "the anonymous event was accepted");
}

#[test]
fn event_data_is_limited_by_its_compact_json_whatever_the_spelling() {
    let sandbox = common::sandbox(SandboxConfig::default());
    // 1e15 is 4 bytes as sent and 18 as compact JSON ("1000000000000000.0"): 6,000 of them
    // fit the 32,000-byte operation limit but not the 100,000-byte event data limit.
    let numbers = |n: usize| vec!["1e15"; n].join(",");
    let event = |attributes: &str| {
        format!(
            r#"{{ "type" : "person", "action" : "event", "identifiers" : {{"id":"u"}}, "name" : "n", "attributes" : {attributes} }}"#
        )
    };
    let ops = [
        event(&format!(r#"{{"many": [{}]}}"#, numbers(6_000))),
        event(&format!(r#"{{ "few" : [ {} ] , "text" : "\u00e9\/" }}"#, numbers(100))),
        event(r#""a string""#),
        event("null"),
        event(r#"{"a": 1, "a": 2}"#),
        r#"{"attributes": [1], "type": "person", "action": "page", "identifiers": {"id": "u"}, "name": "p"}"#.to_string(),
        event(r#"{"a": 1e400}"#),
    ];
    let body = format!(r#"{{"batch": [{}]}}"#, ops.join(","));
    let got = raw(
        &sandbox,
        "POST",
        "/api/v2/batch",
        Some(&auth()),
        body.as_bytes(),
    );
    assert_eq!(got.status, 207, "{}", got.body);
    let errors = got.json()["errors"].as_array().cloned().unwrap_or_default();
    let seen: Vec<(u64, &str, &str)> = errors
        .iter()
        .map(|e| {
            (
                e["batch_index"].as_u64().unwrap_or(99),
                e["reason"].as_str().unwrap_or(""),
                e["field"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (0, "limit", "attributes"),
            (2, "invalid", "attributes"),
            (5, "invalid", "attributes"),
            (6, "invalid", ""),
        ]
    );
    assert!(
        errors[3]["message"]
            .as_str()
            .is_some_and(|m| m.contains("number out of range")),
        "{}",
        errors[3]
    );
    assert_eq!(sandbox.totals().events, 3);
}

#[test]
fn malformed_bodies_and_invalid_entities_are_400() {
    let sandbox = common::sandbox(SandboxConfig::default());
    let bad_json = raw(
        &sandbox,
        "POST",
        "/api/v2/batch",
        Some(&auth()),
        b"{\"batch\": [",
    );
    assert_eq!(bad_json.status, 400);
    assert!(bad_json.json()["errors"][0]["message"].is_string());
    let no_batch = post(&sandbox, "/api/v2/batch", &json!({"ops": []}));
    assert_eq!(no_batch.status, 400);
    assert_eq!(no_batch.json()["errors"][0]["field"], "batch");
    let not_list = post(&sandbox, "/api/v2/batch", &json!({"batch": {}}));
    assert_eq!(not_list.status, 400);
    let entity = post(
        &sandbox,
        "/api/v2/entity",
        &json!({"type":"person","action":"event","identifiers":{"id":"u"}}),
    );
    assert_eq!(entity.status, 400);
    assert_eq!(entity.json()["errors"][0]["field"], "name");
    let metric = raw(
        &sandbox,
        "POST",
        "/api/v1/metrics",
        None,
        br#"{"delivery_id":"d1","metric":"teleported"}"#,
    );
    assert_eq!(metric.status, 400);
    assert!(metric.json()["meta"]["error"].is_string());
    assert_eq!(sandbox.totals().people, 0);
}

#[test]
fn wrong_or_missing_credentials_are_401_but_metrics_need_none() {
    let sandbox = common::sandbox(SandboxConfig {
        site_id: "site-1".into(),
        api_key: cio_replay::secret::Secret::new("k-1"),
        ..SandboxConfig::default()
    });
    let op = identify("u1", json!({})).to_string();
    for header in [
        None,
        Some(basic("site-1", "wrong")),
        Some(basic("other", "k-1")),
        Some("Bearer k-1".to_string()),
    ] {
        let got = raw(
            &sandbox,
            "POST",
            "/api/v2/entity",
            header.as_deref(),
            op.as_bytes(),
        );
        assert_eq!(got.status, 401);
        assert_eq!(got.json(), json!({"meta": {"error": "Unauthorized"}}));
    }
    let ok = raw(
        &sandbox,
        "POST",
        "/api/v2/entity",
        Some(&basic("site-1", "k-1")),
        op.as_bytes(),
    );
    assert_eq!(ok.status, 200);
    let metric = raw(
        &sandbox,
        "POST",
        "/api/v1/metrics",
        None,
        br#"{"delivery_id":"d1","metric":"opened","timestamp":1700000000}"#,
    );
    assert_eq!(metric.status, 200);
    assert_eq!(sandbox.state()["metrics"], json!({"opened": 1}));
}

#[test]
fn bodies_over_the_limits_are_413() {
    let sandbox = common::sandbox(SandboxConfig::default());
    let mut entity = identify("u1", json!({"pad": ""})).to_string();
    let pad = 32_001 - entity.len();
    entity = identify("u1", json!({ "pad": "p".repeat(pad) })).to_string();
    assert_eq!(entity.len(), 32_001);
    let got = raw(
        &sandbox,
        "POST",
        "/api/v2/entity",
        Some(&auth()),
        entity.as_bytes(),
    );
    assert_eq!(got.status, 413);
    let ok_size = identify("u1", json!({ "pad": "p".repeat(pad - 1) })).to_string();
    let got = raw(
        &sandbox,
        "POST",
        "/api/v2/entity",
        Some(&auth()),
        ok_size.as_bytes(),
    );
    assert_eq!(
        got.status, 400,
        "32,000 bytes passes the size check (then the value limit)"
    );

    let op = identify("u", json!({"a": "b".repeat(900)}));
    let ops: Vec<Value> = (0..600).map(|_| op.clone()).collect();
    let body = json!({ "batch": ops }).to_string();
    assert!(body.len() > 500_000);
    let got = raw(
        &sandbox,
        "POST",
        "/api/v2/batch",
        Some(&auth()),
        body.as_bytes(),
    );
    assert_eq!(got.status, 413);

    let huge = vec![b'x'; 10 * 1024 * 1024];
    let got = raw(&sandbox, "POST", "/api/v2/batch", Some(&auth()), &huge);
    assert_eq!(got.status, 413);
    assert_eq!(sandbox.totals().people, 0);
    let after = post(&sandbox, "/api/v2/entity", &identify("u2", json!({})));
    assert_eq!(after.status, 200);
}

#[test]
fn above_the_throttle_is_429_with_retry_after() {
    let sandbox = common::sandbox(SandboxConfig {
        throttle: Some(1.0),
        ..SandboxConfig::default()
    });
    let replies: Vec<Got> = (0..5)
        .map(|i| {
            post(
                &sandbox,
                "/api/v2/entity",
                &identify(&format!("u{i}"), json!({})),
            )
        })
        .collect();
    assert_eq!(replies[0].status, 200);
    let throttled: Vec<&Got> = replies.iter().filter(|g| g.status == 429).collect();
    assert!(!throttled.is_empty());
    assert!(
        throttled
            .iter()
            .all(|g| g.header("Retry-After") == Some("1"))
    );
    assert_eq!(
        sandbox.totals().people,
        5 - throttled.len(),
        "a throttled request applies nothing"
    );
}

#[test]
fn fail_rate_one_injects_5xx_before_applying_anything() {
    let sandbox = common::sandbox(SandboxConfig {
        fail_rate: 1.0,
        seed: Some(42),
        ..SandboxConfig::default()
    });
    for i in 0..10 {
        let got = batch(&sandbox, vec![identify(&format!("u{i}"), json!({}))]);
        assert!(matches!(got.status, 500 | 502 | 503), "{}", got.status);
    }
    assert_eq!(sandbox.totals().people, 0);
    let state = sandbox.state();
    assert_eq!(state["requests"]["total"], 10);
}

#[test]
fn scripted_replies_come_first_in_order_then_normal_handling() {
    let sandbox = common::sandbox(SandboxConfig::default());
    sandbox.script(vec![ScriptedReply::status(429).retry_after(2).times(2)]);
    let script = raw(
        &sandbox,
        "POST",
        "/_sandbox/script",
        None,
        br#"[{"status":500},{"status":"close"}]"#,
    );
    assert_eq!((script.status, script.json()), (200, json!({"queued": 4})));
    let op = identify("u1", json!({}));
    for _ in 0..2 {
        let got = batch(&sandbox, vec![op.clone()]);
        assert_eq!(got.status, 429);
        assert_eq!(got.header("retry-after"), Some("2"));
    }
    assert_eq!(batch(&sandbox, vec![op.clone()]).status, 500);
    // "close": the connection ends without a reply.
    let mut stream = TcpStream::connect(addr(&sandbox)).unwrap();
    let body = json!({ "batch": [op.clone()] }).to_string();
    write!(
        stream,
        "POST /api/v2/batch HTTP/1.1\r\nAuthorization: {}\r\nContent-Length: {}\r\n\r\n{body}",
        auth(),
        body.len()
    )
    .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    assert!(reply.is_empty(), "{}", String::from_utf8_lossy(&reply));
    assert_eq!(sandbox.totals().people, 0);
    assert_eq!(batch(&sandbox, vec![op]).status, 200);
    assert_eq!(sandbox.totals().people, 1);
    let bad = raw(
        &sandbox,
        "POST",
        "/_sandbox/script",
        None,
        br#"[{"status":"boom"}]"#,
    );
    assert_eq!(bad.status, 400);
}

#[test]
fn the_workspace_after_a_fixed_script_is_exactly_right() {
    let sandbox = common::sandbox(SandboxConfig::default());
    let ops = vec![
        identify(
            "alice",
            json!({"email": "Alice@Example.com", "plan": "pro"}),
        ),
        identify("old-alice", json!({"plan": "free", "city": "Oslo"})),
        json!({"type":"person","action":"add_device","identifiers":{"id":"old-alice"},
               "device":{"token":"tok-1","platform":"ios"}}),
        json!({"type":"object","action":"identify","identifiers":{"object_type_id":"1","object_id":"acme"},
               "attributes":{"name":"Acme"},
               "cio_relationships":[{"identifiers":{"id":"old-alice"},"relationship_attributes":{"role":"owner"}}]}),
        json!({"type":"person","action":"merge","primary":{"email":"alice@example.COM"},"secondary":{"id":"old-alice"}}),
        json!({"type":"person","action":"event","identifiers":{"id":"alice"},"name":"paid","id":ULID_A}),
        json!({"type":"person","action":"event","identifiers":{"id":"alice"},"name":"paid","id":ULID_A}),
        json!({"type":"person","action":"page","identifiers":{"id":"alice"},"name":"/home","id":ULID_B}),
        identify("bob", json!({})),
        json!({"type":"person","action":"delete","identifiers":{"id":"bob"}}),
        identify("carol", json!({"email":"carol@example.com"})),
        json!({"type":"person","action":"suppress","identifiers":{"id":"carol"}}),
        identify("carol", json!({"plan":"back"})),
        json!({"type":"person","action":"event","identifiers":{"email":"carol@example.com"},"name":"x"}),
        identify("dave", json!({})),
        json!({"type":"person","action":"suppress","identifiers":{"id":"dave"}}),
        json!({"type":"person","action":"unsuppress","identifiers":{"id":"dave"}}),
        identify("dave", json!({"fresh": true})),
        json!({"type":"person","action":"merge","primary":{"id":"nobody"},"secondary":{"id":"dave"}}),
    ];
    let got = batch(&sandbox, ops);
    assert_eq!((got.status, got.json()), (200, json!({})), "{}", got.body);
    let state = sandbox.state();
    let people = state["people"].as_array().unwrap();
    assert_eq!(people.len(), 2, "{state:#}");
    let alice = &people[0];
    assert_eq!(alice["identifiers"]["id"], "alice");
    assert_eq!(alice["identifiers"]["email"], "alice@example.com");
    assert_eq!(
        alice["attributes"],
        json!({"email": "Alice@Example.com", "plan": "pro", "city": "Oslo"}),
        "the primary keeps its plan, gains the city it lacked"
    );
    assert_eq!(alice["devices"][0]["token"], "tok-1");
    assert_eq!(
        alice["relationships"],
        json!([{"object_type_id":"1","object_id":"acme","attributes":{"role":"owner"}}])
    );
    assert_eq!(
        alice["events"],
        json!({"total": 2, "by_type": {"event": {"paid": 1}, "page": {"/home": 1}}})
    );
    let dave = &people[1];
    assert_eq!(dave["identifiers"]["id"], "dave");
    assert_eq!(
        dave["attributes"],
        json!({"fresh": true}),
        "unsuppress frees the id; a fresh profile"
    );
    assert_eq!(state["objects"][0]["attributes"], json!({"name": "Acme"}));
    let suppressed = state["suppressed"].as_array().unwrap();
    assert!(suppressed.contains(&json!({"id": "carol"})));
    assert!(suppressed.contains(&json!({"email": "carol@example.com"})));
    assert!(!suppressed.iter().any(|s| s["id"] == "dave"));
    assert_eq!(
        state["events"],
        json!({"total": 3, "unique": 2, "duplicates": 1})
    );
    assert_eq!(state["operations"]["blocked"], 2);
    assert_eq!(state["operations"]["ignored"], 1, "merge without a primary");
    let totals = sandbox.totals();
    assert_eq!(
        (
            totals.people,
            totals.objects,
            totals.relationships,
            totals.devices
        ),
        (2, 1, 1, 1)
    );
    let summary = sandbox.summary();
    assert!(
        summary.contains("2 people, 1 object, 1 relationship, 1 device"),
        "{summary}"
    );
    // Each of the three operation counts is explained (before: the bare words).
    assert!(summary.contains("operations applied"), "{summary}");
    for word in [
        "applied: changed the workspace",
        "blocked: addressed a suppressed person",
        "ignored: had nothing to apply to",
    ] {
        assert!(summary.contains(word), "{word}: {summary}");
    }
    let legend = summary.lines().filter(|l| l.starts_with("  "));
    assert!(legend.clone().count() >= 3, "{summary}");
    assert!(legend.clone().all(|l| l.chars().count() <= 80), "{summary}");

    // Deleting the object removes its relationships.
    let del = json!({"type":"object","action":"delete","identifiers":{"object_type_id":"1","object_id":"acme"}});
    assert_eq!(post(&sandbox, "/api/v2/entity", &del).status, 200);
    assert_eq!(sandbox.totals().relationships, 0);
    assert_eq!(sandbox.totals().objects, 0);
    let reset = raw(&sandbox, "POST", "/_sandbox/reset", None, b"");
    assert_eq!(reset.status, 200);
    assert_eq!(sandbox.totals().people, 0);
}

#[test]
fn garbage_does_not_stop_it() {
    let sandbox = common::sandbox(SandboxConfig::default());
    // Random bytes.
    let mut rng = fastrand::Rng::with_seed(7);
    for _ in 0..20 {
        let mut stream = TcpStream::connect(addr(&sandbox)).unwrap();
        let junk: Vec<u8> = (0..rng.usize(1..4096)).map(|_| rng.u8(..)).collect();
        let _ = stream.write_all(&junk);
        let _ = stream.write_all(b"\r\n\r\n");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink);
    }
    // A truncated body: Content-Length larger than what is sent, then close.
    {
        let mut stream = TcpStream::connect(addr(&sandbox)).unwrap();
        write!(
            stream,
            "POST /api/v2/entity HTTP/1.1\r\nAuthorization: {}\r\nContent-Length: 5000\r\n\r\n{{\"type\":",
            auth()
        )
        .unwrap();
    }
    // A slow client holds a connection open mid-request while another request succeeds.
    let mut slow = TcpStream::connect(addr(&sandbox)).unwrap();
    write!(
        slow,
        "POST /api/v2/entity HTTP/1.1\r\nAuthorization: {}\r\nContent-Length: 100\r\n\r\n{{",
        auth()
    )
    .unwrap();
    let mut slow_head = TcpStream::connect(addr(&sandbox)).unwrap();
    slow_head.write_all(b"POST /api/v2/ent").unwrap();
    // A forged, enormous Content-Length is refused without reading it.
    let forged = {
        let mut stream = TcpStream::connect(addr(&sandbox)).unwrap();
        write!(
            stream,
            "POST /api/v2/batch HTTP/1.1\r\nAuthorization: {}\r\nContent-Length: 99999999999999\r\n\r\n",
            auth()
        )
        .unwrap();
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut reply = Vec::new();
        let _ = stream.read_to_end(&mut reply);
        parse(&reply).map(|g| g.status)
    };
    assert_eq!(forged, Some(413));
    let got = post(
        &sandbox,
        "/api/v2/entity",
        &identify("still-here", json!({})),
    );
    assert_eq!(got.status, 200);
    drop(slow);
    drop(slow_head);
    assert_eq!(sandbox.totals().people, 1);
    assert!(
        sandbox.state()["requests"]["incomplete"]
            .as_u64()
            .unwrap_or(0)
            >= 1
    );
}

#[test]
fn keep_alive_clients_get_many_answers_on_one_connection() {
    let sandbox = common::sandbox(SandboxConfig::default());
    let mut stream = TcpStream::connect(addr(&sandbox)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let body = identify("k", json!({})).to_string();
    let request = format!(
        "POST /api/v2/entity HTTP/1.1\r\nAuthorization: {}\r\nContent-Length: {}\r\n\r\n{body}",
        auth(),
        body.len()
    );
    // Two requests pipelined in one write, then read both answers.
    stream
        .write_all(format!("{request}{request}").as_bytes())
        .unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    while seen.matches("HTTP/1.1 200").count() < 2 {
        let n = stream.read(&mut buf).expect("answers");
        assert!(n > 0, "closed early: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
}

#[test]
fn the_command_prints_its_url_serves_and_prints_a_summary_on_interrupt() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let mut child = common::process()
        .args(["sandbox", "--port", "0", "--site-id", "s1"])
        .env("CIO_API_KEY", "secret-key-xyz")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("cio-replay sandbox listening on ")
        .expect("the URL line")
        .to_string();
    let host = url.trim_start_matches("http://");
    let body = identify("cli", json!({})).to_string();
    let mut stream = TcpStream::connect(host).unwrap();
    write!(
        stream,
        "POST /api/v2/entity HTTP/1.1\r\nAuthorization: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        basic("s1", "secret-key-xyz"),
        body.len()
    )
    .unwrap();
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).unwrap();
    assert_eq!(parse(&reply).map(|g| g.status), Some(200));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "{stderr}");
    assert!(rest.contains("1 person"), "{rest}");
    assert!(!format!("{line}{rest}{stderr}").contains("secret-key-xyz"));
}

#[test]
fn a_real_client_keeps_its_connection_sees_a_scripted_close_as_an_error_and_carries_on() {
    let sandbox = common::sandbox(SandboxConfig::default());
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into();
    let url = format!("{}/api/v2/batch", sandbox.url());
    let send = |id: &str| {
        let body = json!({ "batch": [identify(id, json!({}))] }).to_string();
        agent
            .post(&url)
            .header("Authorization", auth())
            .header("Content-Type", "application/json")
            .send(body.as_bytes())
            .map(|r| r.status().as_u16())
    };
    assert_eq!(send("a").ok(), Some(200));
    sandbox.script(vec![ScriptedReply::close()]);
    assert!(
        send("b").is_err(),
        "a dropped connection is a transport error"
    );
    assert_eq!(send("c").ok(), Some(200));
    assert_eq!(sandbox.totals().people, 2);
    assert_eq!(sandbox.state()["requests"]["closed"], 1);
}

#[test]
fn concurrent_clients_each_get_their_own_answers() {
    let sandbox = common::sandbox(SandboxConfig::default());
    std::thread::scope(|scope| {
        for t in 0..8 {
            let sandbox = &sandbox;
            scope.spawn(move || {
                for i in 0..25 {
                    let ops = vec![
                        identify(&format!("t{t}-{i}"), json!({"n": i})),
                        json!({"type":"person","action":"event","identifiers":{"id": format!("t{t}-{i}")},
                               "name":"seen"}),
                    ];
                    assert_eq!(batch(sandbox, ops).status, 200);
                }
            });
        }
    });
    let totals = sandbox.totals();
    assert_eq!((totals.people, totals.events), (200, 200));
    assert_eq!(sandbox.state()["requests"]["by_status"]["200"], 200);
}
