//! The App API's routing, auth and answers, on a workspace built by Track operations.

use serde_json::{Value, json};

use super::*;

fn request<'a>(
    method: &str,
    path: &str,
    query: &str,
    auth: Option<&str>,
    body: &'a [u8],
) -> HttpRequest<'a> {
    HttpRequest {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        headers: auth
            .map(|a| vec![("authorization".to_string(), a.to_string())])
            .unwrap_or_default(),
        body: Body::Complete(body),
    }
}

fn workspace() -> Workspace {
    let mut ws = Workspace::default();
    for op in [
        json!({"type":"person","action":"identify","identifiers":{"id":"u1"},"timestamp":1_700_000_000,
               "attributes":{"email":"Ann@Example.com","plan":"pro","seats":2}}),
        json!({"type":"person","action":"identify","identifiers":{"email":"bo@example.com"},
               "attributes":{"vip":true}}),
        json!({"type":"person","action":"add_device","identifiers":{"id":"u1"},
               "device":{"token":"tok-1","platform":"ios","last_used":1_700_000_100}}),
        json!({"type":"person","action":"identify","identifiers":{"id":"gone"},"attributes":{}}),
        json!({"type":"person","action":"delete","identifiers":{"id":"gone"}}),
    ] {
        ws.apply(&op);
    }
    ws
}

fn parts(reply: Reply) -> (u16, Value) {
    match reply {
        Reply::Send { status, body, .. } => {
            (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
        }
        other => panic!("not a reply: {other:?}"),
    }
}

fn get(ws: &Workspace, id: &str, query: &str) -> (u16, Value) {
    let path = format!("/v1/customers/{id}/attributes");
    let req = request("GET", &path, query, None, b"");
    let route = AppRoute::of("GET", &path).expect("app path").expect("GET");
    parts(answer(ws, &route, &req))
}

fn post(ws: &Workspace, query: &str, body: &Value) -> (u16, Value) {
    let body = body.to_string();
    let req = request(
        "POST",
        "/v1/customers/attributes",
        query,
        None,
        body.as_bytes(),
    );
    parts(answer(ws, &AppRoute::People, &req))
}

#[test]
fn routes() {
    assert_eq!(
        AppRoute::of("POST", "/v1/customers/attributes"),
        Some(Ok(AppRoute::People))
    );
    assert_eq!(
        AppRoute::of("GET", "/v1/customers/attributes"),
        Some(Err(405))
    );
    assert_eq!(
        AppRoute::of("GET", "/v1/customers/a%40b.com/attributes/"),
        Some(Ok(AppRoute::Profile("a%40b.com".into())))
    );
    assert_eq!(
        AppRoute::of("DELETE", "/v1/customers/u1/attributes"),
        Some(Err(405))
    );
    assert_eq!(AppRoute::of("GET", "/v1/customers//attributes"), None);
    assert_eq!(AppRoute::of("GET", "/v1/customers/a/b/attributes"), None);
    assert_eq!(AppRoute::of("GET", "/v1/customers/u1"), None);
    assert_eq!(AppRoute::of("POST", "/api/v2/batch"), None);
}

#[test]
fn only_the_app_key_as_bearer_passes() {
    let key = Secret::new("app-key");
    let with = |auth: Option<&str>| authorized(&key, &request("GET", "/", "", auth, b""));
    assert!(with(Some("Bearer app-key")));
    assert!(with(Some("bearer app-key")));
    assert!(!with(Some("Bearer app-key2")));
    assert!(!with(Some("Bearer ")));
    assert!(!with(Some("Basic app-key")));
    assert!(!with(Some("app-key")));
    assert!(!with(None));
}

#[test]
fn one_person_by_each_id_type() {
    let ws = workspace();
    let (status, body) = get(&ws, "u1", "");
    assert_eq!(status, 200);
    let customer = &body["customer"];
    assert_eq!(customer["id"], "u1");
    assert_eq!(
        customer["identifiers"],
        json!({"email": "ann@example.com", "id": "u1", "cio_id": "00000001"})
    );
    assert_eq!(
        customer["attributes"],
        json!({"email": "Ann@Example.com", "plan": "pro", "seats": "2", "id": "u1", "cio_id": "00000001"})
    );
    assert_eq!(customer["timestamps"]["plan"], 1_700_000_000);
    assert_eq!(customer["unsubscribed"], false);
    assert_eq!(
        customer["devices"],
        json!([{"id": "tok-1", "platform": "ios", "last_used": 1_700_000_100, "attributes": {}}])
    );
    for (id, query) in [
        ("ANN%40example.com", "id_type=email"),
        ("00000001", "id_type=cio_id"),
        ("u1", "id_type=id"),
    ] {
        let (status, body) = get(&ws, id, query);
        assert_eq!(
            (status, &body["customer"]["identifiers"]["id"]),
            (200, &json!("u1")),
            "{id}"
        );
    }
    assert_eq!(get(&ws, "cio_00000001", "id_type=cio_id").0, 404);
    assert_eq!(get(&ws, "gone", "").0, 404);
    assert_eq!(
        get(&ws, "bo@example.com", "").0,
        404,
        "an email is not an id"
    );
    let (status, body) = get(&ws, "u1", "id_type=name");
    assert_eq!(status, 400);
    assert!(
        body["meta"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("id_type"))
    );
}

#[test]
fn many_people_leave_out_the_unknown() {
    let ws = workspace();
    let (status, body) = post(
        &ws,
        "id_type=email",
        &json!({"ids": ["nobody@example.com", "bo@example.com", "ann@example.com", "BO@example.com"]}),
    );
    assert_eq!(status, 200);
    let customers = body["customers"].as_array().expect("customers");
    let ids: Vec<&Value> = customers
        .iter()
        .map(|c| &c["customer"]["identifiers"]["email"])
        .collect();
    assert_eq!(ids, [&json!("bo@example.com"), &json!("ann@example.com")]);
    assert_eq!(customers[0]["customer"]["identifiers"]["id"], Value::Null);
    assert_eq!(customers[0]["customer"]["attributes"]["vip"], "true");
    let (status, body) = post(&ws, "", &json!({"ids": ["nobody"]}));
    assert_eq!((status, body), (200, json!({"customers": []})));
}

#[test]
fn a_body_out_of_shape_is_a_400() {
    let ws = workspace();
    let hundred: Vec<String> = (0..100).map(|n| format!("u{n}")).collect();
    assert_eq!(post(&ws, "", &json!({ "ids": hundred })).0, 200);
    let over: Vec<String> = (0..101).map(|n| format!("u{n}")).collect();
    for body in [
        json!({ "ids": over }),
        json!({"ids": []}),
        json!({"ids": [1]}),
        json!({"ids": "u1"}),
        json!({"identifiers": [{"id": "u1"}]}),
        json!([]),
    ] {
        let (status, reply) = post(&ws, "", &body);
        assert_eq!(status, 400, "{body}");
        assert!(reply["meta"]["error"].is_string());
    }
    let req = request("POST", "/v1/customers/attributes", "", None, b"{nope");
    assert_eq!(parts(answer(&ws, &AppRoute::People, &req)).0, 400);
    let mut req = request("POST", "/v1/customers/attributes", "", None, b"");
    req.body = Body::TooLarge;
    assert_eq!(parts(answer(&ws, &AppRoute::People, &req)).0, 413);
}
