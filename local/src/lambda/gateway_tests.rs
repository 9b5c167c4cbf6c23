//! The gateway's rules, one test each.

use super::*;

fn route(method: &str, path: &str, function: &str) -> Route {
    Route {
        method: method.into(),
        path: path.into(),
        function: function.into(),
    }
}

fn table() -> Vec<Route> {
    vec![
        route("GET", "/people/{id}", "people-get"),
        route("GET", "/people/age", "people-by-age"),
        route("GET", "/api/{proxy+}", "stats-count"),
        route("GET", "/stats", "stats-list"),
        route("ANY", "$default", "fallback"),
    ]
}

fn selected(method: &str, path: &str) -> (String, Vec<(String, String)>) {
    let routes = table();
    let s = select(&routes, method, path).expect("a route");
    (s.route.function.clone(), s.params)
}

#[test]
fn literal_beats_variable_and_unmatched_goes_to_default() {
    assert_eq!(selected("GET", "/people/age").0, "people-by-age");
    assert_eq!(
        selected("GET", "/people/7"),
        ("people-get".into(), vec![("id".into(), "7".into())])
    );
    assert_eq!(selected("POST", "/people/7").0, "fallback");
    assert_eq!(selected("GET", "/stats/").0, "fallback");
    assert_eq!(selected("GET", "/api/").0, "fallback");
    assert!(select(&table()[..4], "GET", "/nowhere").is_none());
}

#[test]
fn path_parameters_are_decoded_greedy_ones_take_the_rest() {
    assert_eq!(
        selected("GET", "/people/a%20b").1,
        vec![("id".into(), "a b".into())]
    );
    assert_eq!(
        selected("GET", "/api/a%2Fb/c").1,
        vec![("proxy".into(), "a/b/c".into())]
    );
}

fn built(path: &str, query: &str, headers: &[(&str, &str)], body: &[u8]) -> Value {
    let routes = table();
    let sel = select(&routes, "GET", path).expect("route");
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.append(
            hyper::header::HeaderName::from_bytes(k.as_bytes()).expect("name"),
            HeaderValue::from_str(v).expect("value"),
        );
    }
    let req = Incoming {
        method: "GET",
        raw_path: path,
        raw_query: query,
        source_ip: "127.0.0.1".into(),
        port: 3000,
        request_id: "id-1",
    };
    event(&req, &sel, &map, body)
}

#[test]
fn the_event_is_payload_2_0_as_api_gateway_builds_it() {
    let e = built(
        "/api/a%2Fb%3Fc",
        "x=1&x=2&y=a%20b",
        &[
            ("X-Multi", "1"),
            ("x-multi", "2"),
            ("Cookie", "a=1; b=2"),
            ("User-Agent", "t"),
        ],
        b"",
    );
    assert_eq!(e["version"], "2.0");
    assert_eq!(e["routeKey"], "GET /api/{proxy+}");
    assert_eq!(e["rawPath"], "/api/a/b?c");
    assert_eq!(e["requestContext"]["http"]["path"], "/api/a/b?c");
    assert_eq!(e["rawQueryString"], "x=1&x=2&y=a%20b");
    assert_eq!(e["queryStringParameters"], json!({"x": "1,2", "y": "a b"}));
    assert_eq!(e["pathParameters"], json!({"proxy": "a/b?c"}));
    assert_eq!(e["headers"]["x-multi"], "1,2");
    assert_eq!(e["headers"]["x-forwarded-for"], "127.0.0.1");
    assert_eq!(e["headers"]["x-forwarded-proto"], "http");
    assert!(e["headers"].get("cookie").is_none());
    assert_eq!(e["cookies"], json!(["a=1", "b=2"]));
    assert_eq!(e["requestContext"]["http"]["userAgent"], "t");
    assert_eq!(e["requestContext"]["stage"], "$default");
    assert_eq!(e["requestContext"]["requestId"], "id-1");
    assert!(e["requestContext"]["timeEpoch"].as_u64().is_some());
    assert!(e.get("body").is_none());
}

#[test]
fn text_bodies_stay_text_others_are_base64() {
    let json_body = built("/stats", "", &[("content-type", "application/json")], b"{}");
    assert_eq!(json_body["body"], "{}");
    assert_eq!(json_body["isBase64Encoded"], false);
    let form = built(
        "/stats",
        "",
        &[("content-type", "application/x-www-form-urlencoded")],
        b"a=1",
    );
    assert_eq!(form["body"], "YT0x");
    assert_eq!(form["isBase64Encoded"], true);
}

#[test]
fn a_response_without_status_code_is_its_json_with_200() {
    let resp = response(br#"{"a":1}"#, "id").expect("valid");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
}

#[test]
fn payload_2_0_responses_carry_headers_cookies_and_base64_bodies() {
    let payload = json!({
        "statusCode": 201,
        "headers": {"x-a": "1"},
        "multiValueHeaders": {"x-b": ["1", "2"]},
        "cookies": ["c=1", "d=2"],
        "body": "aGk=",
        "isBase64Encoded": true,
    });
    let resp = response(payload.to_string().as_bytes(), "id").expect("valid");
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["x-a"], "1");
    assert_eq!(resp.headers().get_all("x-b").iter().count(), 2);
    assert_eq!(resp.headers().get_all("set-cookie").iter().count(), 2);
    assert_eq!(resp.headers()["apigw-requestid"], "id");
    assert!(response(b"not json", "id").is_err());
    assert!(response(br#"{"statusCode": 1000}"#, "id").is_err());
}

#[test]
fn failures_are_answered_as_api_gateway_answers_them() {
    let (resp, reason) = respond(Invoked::Failed("boom".into()), "id");
    assert_eq!(
        (resp.status().as_u16(), reason.as_deref()),
        (500, Some("boom"))
    );
    let (resp, _) = respond(Invoked::Throttled("busy".into()), "id");
    assert_eq!(resp.status(), 503);
    let (resp, _) = respond(Invoked::Response(Bytes::from_static(b"{oops")), "id");
    assert_eq!(resp.status(), 500);
}
