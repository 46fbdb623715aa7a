//! The sandbox's App API and region discovery over loopback: people the Track API made, read back
//! with `POST /v1/customers/attributes` and `GET /v1/customers/{id}/attributes`; the App key and
//! the Track credentials kept apart; the 10-a-second limit; `--workspace-region` on the command.

use crate::common;
use crate::common::wire::{Got, basic, batch, raw};

use std::process::Stdio;
use std::time::{Duration, Instant};

use cio_replay::sandbox::{Sandbox, SandboxConfig};
use cio_replay::secret::Secret;
use cio_replay::track::Region;
use serde_json::{Value, json};

const APP_KEY: &str = "sandbox-app-key";

fn bearer(key: &str) -> String {
    format!("Bearer {key}")
}

/// Send Track operations with the default Basic credentials; every one must be accepted.
fn track(sandbox: &Sandbox, ops: Vec<Value>) {
    let got = batch(sandbox, ops);
    assert_eq!((got.status, got.json()), (200, json!({})), "{}", got.body);
}

fn get(sandbox: &Sandbox, target: &str) -> Got {
    raw(&sandbox.url(), "GET", target, Some(&bearer(APP_KEY)), b"")
}

fn post(sandbox: &Sandbox, target: &str, body: &Value) -> Got {
    let body = body.to_string();
    raw(
        &sandbox.url(),
        "POST",
        target,
        Some(&bearer(APP_KEY)),
        body.as_bytes(),
    )
}

/// A workspace of three people (u1 with a device, an email-only person, a phone-only person)
/// and three more that are deleted, suppressed and merged away.
fn populated() -> Sandbox {
    let sandbox = common::sandbox(SandboxConfig::default());
    track(
        &sandbox,
        vec![
            json!({"type":"person","action":"identify","identifiers":{"id":"u1"},"timestamp":1_700_000_000,
                   "attributes":{"email":"Ann@Example.com","plan":"pro","seats":3,"beta":true,
                                 "address":{"city":"Oslo"},"unsubscribed":false}}),
            json!({"type":"person","action":"add_device","identifiers":{"id":"u1"},"timestamp":1_700_000_050,
                   "device":{"token":"tok-1","platform":"android","last_used":1_700_000_100,
                             "attributes":{"app_version":"2.1","push_enabled":true}}}),
            json!({"type":"person","action":"identify","identifiers":{"email":"bo@example.com"},
                   "attributes":{"unsubscribed":true}}),
            json!({"type":"person","action":"identify","identifiers":{"phone":"+4930123456"},
                   "attributes":{"first_name":"Cy"}}),
            json!({"type":"person","action":"identify","identifiers":{"id":"deleted"},"attributes":{}}),
            json!({"type":"person","action":"delete","identifiers":{"id":"deleted"}}),
            json!({"type":"person","action":"identify","identifiers":{"id":"suppressed"},"attributes":{}}),
            json!({"type":"person","action":"suppress","identifiers":{"id":"suppressed"}}),
            json!({"type":"person","action":"identify","identifiers":{"id":"secondary"},
                   "attributes":{"from":"secondary"}}),
            json!({"type":"person","action":"merge","primary":{"id":"u1"},"secondary":{"id":"secondary"}}),
        ],
    );
    sandbox
}

#[test]
fn region_names_the_sandbox_and_the_configured_region() {
    for (region, name) in [(Region::Us, "us"), (Region::Eu, "eu")] {
        let sandbox = common::sandbox(SandboxConfig {
            region,
            ..SandboxConfig::default()
        });
        let got = raw(
            &sandbox.url(),
            "GET",
            "/api/v1/accounts/region",
            Some(&basic("sandbox", "sandbox-key")),
            b"",
        );
        assert_eq!(
            (got.status, got.json()),
            (
                200,
                json!({"url": sandbox.url(), "region": name, "environment_id": 1})
            )
        );
        for auth in [
            None,
            Some(basic("sandbox", "wrong")),
            Some(basic("other", "sandbox-key")),
            Some(bearer(APP_KEY)),
        ] {
            let got = raw(
                &sandbox.url(),
                "GET",
                "/api/v1/accounts/region",
                auth.as_deref(),
                b"",
            );
            assert_eq!(got.status, 401, "{auth:?}");
            assert_eq!(got.json(), json!({"meta": {"error": "Unauthorized"}}));
        }
    }
}

#[test]
fn one_person_by_id_email_phone_and_cio_id() {
    let sandbox = populated();
    let got = get(&sandbox, "/v1/customers/u1/attributes");
    assert_eq!(got.status, 200, "{}", got.body);
    let customer = &got.json()["customer"];
    let cio_id = customer["identifiers"]["cio_id"]
        .as_str()
        .expect("a cio_id")
        .to_string();
    assert_eq!(
        customer,
        &json!({
            "id": "u1",
            "identifiers": {"email": "ann@example.com", "id": "u1", "cio_id": cio_id},
            "attributes": {"email": "Ann@Example.com", "plan": "pro", "seats": "3", "beta": "true",
                           "address": "{\"city\":\"Oslo\"}", "from": "secondary", "id": "u1",
                           "cio_id": cio_id},
            "timestamps": {"email": 1_700_000_000, "plan": 1_700_000_000, "seats": 1_700_000_000,
                           "beta": 1_700_000_000, "address": 1_700_000_000,
                           "unsubscribed": 1_700_000_000,
                           "from": customer["timestamps"]["from"], "id": 1_700_000_000,
                           "cio_id": 1_700_000_000},
            "unsubscribed": false,
            "devices": [{"id": "tok-1", "platform": "android", "last_used": 1_700_000_100,
                         "attributes": {"app_version": "2.1", "push_enabled": "true"}}],
        })
    );
    for target in [
        "/v1/customers/ANN%40example.com/attributes?id_type=email".to_string(),
        format!("/v1/customers/{cio_id}/attributes?id_type=cio_id"),
        "/v1/customers/u1/attributes?id_type=id".to_string(),
    ] {
        let got = get(&sandbox, &target);
        assert_eq!(got.status, 200, "{target}: {}", got.body);
        assert_eq!(
            got.json()["customer"]["identifiers"]["id"],
            "u1",
            "{target}"
        );
    }
    let bo = get(
        &sandbox,
        "/v1/customers/bo%40example.com/attributes?id_type=email",
    );
    assert_eq!(bo.status, 200);
    assert_eq!(bo.json()["customer"]["id"], "bo@example.com");
    assert_eq!(bo.json()["customer"]["identifiers"]["id"], Value::Null);
    assert_eq!(bo.json()["customer"]["unsubscribed"], true);
    assert!(
        bo.json()["customer"]["attributes"]
            .get("unsubscribed")
            .is_none()
    );
    let cy = get(
        &sandbox,
        "/v1/customers/%2B4930123456/attributes?id_type=phone",
    );
    assert_eq!(cy.status, 200, "{}", cy.body);
    assert_eq!(
        cy.json()["customer"]["identifiers"],
        json!({"email": null, "id": null, "cio_id": cy.json()["customer"]["identifiers"]["cio_id"]})
    );
    assert_eq!(cy.json()["customer"]["attributes"]["phone"], "+4930123456");
}

#[test]
fn absent_people_are_404_and_a_bad_id_type_is_400() {
    let sandbox = populated();
    for target in [
        "/v1/customers/nobody/attributes",
        "/v1/customers/deleted/attributes",
        "/v1/customers/suppressed/attributes",
        // Merged into u1, who has an id already: the secondary's id went with the profile.
        "/v1/customers/secondary/attributes",
        "/v1/customers/bo%40example.com/attributes",
        "/v1/customers/cio_00000001/attributes?id_type=cio_id",
        "/v1/customers/u1/attributes?id_type=email",
    ] {
        let got = get(&sandbox, target);
        assert_eq!(got.status, 404, "{target}");
        assert!(got.json()["meta"]["error"].is_string(), "{target}");
    }
    let bad = get(&sandbox, "/v1/customers/u1/attributes?id_type=uuid");
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("id_type"), "{}", bad.body);
    let wrong_method = raw(
        &sandbox.url(),
        "GET",
        "/v1/customers/attributes",
        Some(&bearer(APP_KEY)),
        b"",
    );
    assert_eq!(wrong_method.status, 405);
}

#[test]
fn many_people_in_one_call_leave_out_the_unknown() {
    let sandbox = populated();
    let got = post(
        &sandbox,
        "/v1/customers/attributes",
        &json!({"ids": ["nobody", "u1", "deleted", "secondary", "suppressed", "u1"]}),
    );
    assert_eq!(got.status, 200, "{}", got.body);
    let customers = got.json()["customers"]
        .as_array()
        .cloned()
        .expect("customers");
    assert_eq!(customers.len(), 1, "u1 once, the rest unknown");
    assert_eq!(customers[0]["customer"]["id"], "u1");
    assert_eq!(customers[0]["customer"]["devices"][0]["id"], "tok-1");
    let got = post(
        &sandbox,
        "/v1/customers/attributes?id_type=email",
        &json!({"ids": ["bo@example.com", "ann@example.com", "u1"]}),
    );
    let emails: Vec<Value> = got.json()["customers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c["customer"]["identifiers"]["email"].clone())
        .collect();
    assert_eq!(emails, [json!("bo@example.com"), json!("ann@example.com")]);
    let none = post(&sandbox, "/v1/customers/attributes", &json!({"ids": ["x"]}));
    assert_eq!((none.status, none.json()), (200, json!({"customers": []})));
}

#[test]
fn a_hundred_ids_pass_and_other_bodies_are_400() {
    let sandbox = common::sandbox(SandboxConfig::default());
    let ids = |n: usize| (0..n).map(|i| format!("u{i}")).collect::<Vec<_>>();
    let ok = post(
        &sandbox,
        "/v1/customers/attributes",
        &json!({"ids": ids(100)}),
    );
    assert_eq!(ok.status, 200);
    for body in [
        json!({"ids": ids(101)}),
        json!({"ids": []}),
        json!({"ids": ["u1", 2]}),
        json!({"identifiers": [{"id": "u1"}]}),
        json!({}),
    ] {
        let got = post(&sandbox, "/v1/customers/attributes", &body);
        assert_eq!(got.status, 400, "{body}");
        assert!(got.json()["meta"]["error"].is_string(), "{body}");
    }
    let malformed = raw(
        &sandbox.url(),
        "POST",
        "/v1/customers/attributes",
        Some(&bearer(APP_KEY)),
        b"{\"ids\": [",
    );
    assert_eq!(malformed.status, 400);
}

#[test]
fn the_app_key_and_the_track_credentials_do_not_cross() {
    let sandbox = common::sandbox(SandboxConfig {
        site_id: "site-1".into(),
        api_key: Secret::new("track-key"),
        app_api_key: Secret::new("app-key"),
        ..SandboxConfig::default()
    });
    let base = sandbox.url();
    for auth in [
        None,
        Some(bearer("track-key")),
        Some(basic("site-1", "track-key")),
        Some(basic("site-1", "app-key")),
        Some(bearer("app-key-2")),
        Some("app-key".to_string()),
    ] {
        let got = raw(
            &base,
            "GET",
            "/v1/customers/u1/attributes",
            auth.as_deref(),
            b"",
        );
        assert_eq!(got.status, 401, "{auth:?}");
        assert_eq!(got.json(), json!({"meta": {"error": "Unauthorized"}}));
        assert!(!got.body.contains("key"), "no key echoed: {}", got.body);
    }
    let op = json!({"batch": [{"type":"person","action":"identify","identifiers":{"id":"u1"},"attributes":{}}]})
        .to_string();
    for auth in [bearer("app-key"), basic("site-1", "app-key")] {
        let got = raw(&base, "POST", "/api/v2/batch", Some(&auth), op.as_bytes());
        assert_eq!(got.status, 401, "{auth}");
    }
    let ok = raw(
        &base,
        "POST",
        "/api/v2/batch",
        Some(&basic("site-1", "track-key")),
        op.as_bytes(),
    );
    assert_eq!(ok.status, 200);
    let read = raw(
        &base,
        "GET",
        "/v1/customers/u1/attributes",
        Some(&bearer("app-key")),
        b"",
    );
    assert_eq!(read.status, 200);
    let same = Sandbox::start(SandboxConfig {
        api_key: Secret::new("one-key"),
        app_api_key: Secret::new("one-key"),
        ..SandboxConfig::default()
    });
    assert!(same.is_err(), "one key for both APIs is refused");
}

#[test]
fn above_ten_requests_a_second_the_app_api_says_429_with_retry_after() {
    let sandbox = common::sandbox(SandboxConfig {
        throttle: Some(1.0),
        ..SandboxConfig::default()
    });
    let started = Instant::now();
    let statuses: Vec<Got> = (0..25)
        .map(|_| get(&sandbox, "/v1/customers/nobody/attributes"))
        .collect();
    let elapsed = started.elapsed();
    let admitted = statuses.iter().filter(|g| g.status == 404).count();
    assert!(statuses[..10].iter().all(|g| g.status == 404));
    let limit = 10 * (elapsed.as_secs() as usize + 1);
    assert!(admitted <= limit, "{admitted} admitted in {elapsed:?}");
    let throttled = statuses
        .iter()
        .find(|g| g.status == 429)
        .expect("a 429 once over 10 a second");
    assert_eq!(
        throttled.json(),
        json!({"meta": {"error": "Too Many Requests"}})
    );
    let wait: u64 = throttled
        .header("Retry-After")
        .and_then(|s| s.parse().ok())
        .expect("Retry-After in seconds");
    assert_eq!(wait, 1, "one second at most in a one-second window");
    // The Track API's own throttle (1/s here) is apart: its first request still passes.
    track(
        &sandbox,
        vec![
            json!({"type":"person","action":"identify","identifiers":{"id":"u1"},"attributes":{}}),
        ],
    );
    std::thread::sleep(Duration::from_secs(wait));
    assert_eq!(get(&sandbox, "/v1/customers/u1/attributes").status, 200);
    assert!(sandbox.state()["requests"]["by_status"]["429"].as_u64() >= Some(1));
}

/// Stop `cio-replay sandbox` with a Ctrl-C: it must exit 0; its standard error.
fn stop(child: std::process::Child) -> String {
    common::signal(&child, "INT");
    let (status, stderr) = common::wait_child(child, Duration::from_secs(20));
    assert!(status.success(), "{stderr}");
    stderr
}

#[test]
fn the_command_takes_workspace_region_and_app_api_key() {
    let (child, url) = common::sandbox_process(
        &[
            "--workspace-region",
            "eu",
            "--app-api-key",
            "flag-app-key-123",
        ],
        &[("CIO_API_KEY", "env-track-key-456")],
        Stdio::piped(),
    );
    let region = raw(
        &url,
        "GET",
        "/api/v1/accounts/region",
        Some(&basic("sandbox", "env-track-key-456")),
        b"",
    );
    assert_eq!(
        region.json(),
        json!({"url": url, "region": "eu", "environment_id": 1})
    );
    let app = raw(
        &url,
        "GET",
        "/v1/customers/x/attributes",
        Some(&bearer("flag-app-key-123")),
        b"",
    );
    assert_eq!(app.status, 404);
    let stderr = stop(child);
    assert!(
        !stderr.contains("flag-app-key-123") && !stderr.contains("env-track-key-456"),
        "{stderr}"
    );

    let (child, url) = common::sandbox_process(
        &[],
        &[("CIO_APP_API_KEY", "env-app-key-789")],
        Stdio::piped(),
    );
    let region = raw(
        &url,
        "GET",
        "/api/v1/accounts/region",
        Some(&basic("sandbox", "sandbox-key")),
        b"",
    );
    assert_eq!(region.json()["region"], "us");
    let app = raw(
        &url,
        "GET",
        "/v1/customers/x/attributes",
        Some(&bearer("env-app-key-789")),
        b"",
    );
    assert_eq!(app.status, 404);
    let default = raw(
        &url,
        "GET",
        "/v1/customers/x/attributes",
        Some(&bearer(APP_KEY)),
        b"",
    );
    assert_eq!(default.status, 401);
    let stderr = stop(child);
    assert!(!stderr.contains("env-app-key-789"), "{stderr}");

    let (child, url) = common::sandbox_process(&[], &[], Stdio::piped());
    let app = raw(
        &url,
        "GET",
        "/v1/customers/x/attributes",
        Some(&bearer(APP_KEY)),
        b"",
    );
    assert_eq!(app.status, 404);
    stop(child);
}

#[test]
fn the_help_hides_the_app_key_from_the_environment() {
    let out = common::cio()
        .env("CIO_APP_API_KEY", "hidden-app-key")
        .args(["sandbox", "--help"])
        .output()
        .expect("help");
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("--app-api-key <KEY>"), "{help}");
    assert!(help.contains("--workspace-region <REGION>"), "{help}");
    assert!(!help.contains("hidden-app-key"), "{help}");
}
