//! Issue 13: what an outsider can send is answered safely. One test per class of attack, each
//! with several byte patterns, on both engines where a store is involved.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use reqwest::Method;
use serde_json::{json, Value};
use tally_tests::stub::{Behaviour, StubServer};
use tally_tests::{assert_error, Api, Engine, Reply};

/// Sends `body` to `path` with a `Content-Type` of these raw bytes.
async fn post_raw(api: &Api, path: &str, content_type: &[u8], body: impl Into<String>) -> Reply {
    let value = HeaderValue::from_bytes(content_type).expect("header bytes");
    api.send(
        api.client
            .post(api.url(path))
            .header(CONTENT_TYPE, value)
            .body(body.into()),
    )
    .await
}

const FORM: &[u8] = b"application/x-www-form-urlencoded";
const JSON: &[u8] = b"application/json";

/// Item 2: a `Content-Type` that is not visible ASCII is 415, never taken as absent.
async fn unreadable_content_types_are_415_and_store_nothing(engine: Engine) {
    let api = Api::on(engine).await;
    let person = json!({"Last": "Typed"});
    let log = json!({"userId": "u", "sessionId": "s", "actions": [
        {"time": "2024-01-01T00:00:00Z", "type": "CLICK"}]});
    for content_type in [
        &b"text/plain; charset=\xe9"[..],
        b"application/json; charset=\xff",
        b"application/json\x80",
        b"\xc3\xa9",
    ] {
        let reply = post_raw(&api, "/people", content_type, person.to_string()).await;
        assert_error(&reply, 415, "Content-Type: is not visible ASCII");
        let reply = post_raw(&api, "/log", content_type, log.to_string()).await;
        assert_error(&reply, 415, "Content-Type: is not visible ASCII");
    }
    assert_eq!(api.get("/people").await.json(), json!([]));
    assert_eq!(api.get("/log").await.json()["result"], json!([]));
    let form = post_raw(
        &api,
        "/form",
        b"application/x-www-form-urlencoded\xe9",
        "id=a",
    )
    .await;
    assert_error(&form, 415, "Content-Type");
    assert_eq!(api.get("/counters/a").await.status, 404);
}

/// Item 3: percent-decoded path parameters, query names and values and form fields that are
/// not UTF-8 are a 400 naming the field, and nothing is counted. A path value holding U+FFFD is
/// refused too, since API Gateway decodes paths with U+FFFD in place of such bytes.
async fn values_that_do_not_decode_to_utf8_are_400_and_never_merge(engine: Engine) {
    let stub = StubServer::start(Behaviour::Xml).await;
    let api = Api::on_with(engine, |state| {
        state.ads.ad_server = stub.ad_server(std::time::Duration::from_secs(2))
    })
    .await;
    for bad in [
        "zz%FF",
        "zz%C3",
        "%ED%A0%80",
        "%F4%90%80%80",
        "%C0%AF",
        "a%80b",
    ] {
        let reply = api.post(&format!("/counters/{bad}")).await;
        assert_error(&reply, 400, "id: is not valid UTF-8");
        assert_error(&api.get(&format!("/counters/{bad}")).await, 400, "id: ");
        let lastname = api.get(&format!("/ids/lastname/{bad}")).await;
        assert_error(&lastname, 400, "lastname: is not valid UTF-8");
        assert_error(&api.get(&format!("/people/{bad}")).await, 400, "id: ");
        let form = post_raw(&api, "/form", FORM, format!("id={bad}&question=q")).await;
        assert_error(&form, 400, "id: is not valid UTF-8");
        let question = post_raw(&api, "/form", FORM, format!("id=ok&question={bad}")).await;
        assert_error(&question, 400, "question: is not valid UTF-8");
        let query =
            format!("sdk_version=1.0&session_id=s&platform=ios&username=A{bad}&country_code=US");
        for route in ["/impression", "/ad"] {
            let reply = api.get(&format!("{route}?{query}")).await;
            assert_error(&reply, 400, "username: is not valid UTF-8");
        }
        let good = query.replace(&format!("username=A{bad}"), "username=A");
        let name = api.get(&format!("/impression?{good}&{bad}=1")).await;
        assert_error(&name, 400, "query parameter name: ");
        let log = api.get(&format!("/log?userId={bad}")).await;
        assert_error(&log, 400, "userId: is not valid UTF-8");
        assert_error(
            &api.get(&format!("/database?cursor={bad}")).await,
            400,
            "cursor: ",
        );
    }
    assert_eq!(stub.hits(), 0, "no upstream call for a refused request");
    assert_eq!(api.get("/database").await.json(), json!({}));
    assert_error(&api.get("/statistics?username=A").await, 404, "not found");
    for replacement in ["zz%EF%BF%BD", "%EF%BF%BD"] {
        let reply = api.post(&format!("/counters/{replacement}")).await;
        assert_error(&reply, 400, "id: is not valid UTF-8");
        let lastname = api.get(&format!("/ids/lastname/{replacement}")).await;
        assert_error(&lastname, 400, "lastname: is not valid UTF-8");
    }
    assert_eq!(api.get("/database").await.json(), json!({}));
}

/// Item 4: a user or SDK version named `success` cannot replace the `success` flag; the figures
/// are always under `stats`, and under the name too when that is not `success`.
async fn statistics_keep_the_success_flag_whatever_the_name(engine: Engine) {
    let api = Api::on(engine).await;
    let query = |name: &str| {
        format!(
            "/impression?sdk_version={name}&session_id=s&platform=p&username={name}&country_code=c"
        )
    };
    for name in ["success", "stats", "alice"] {
        assert_eq!(api.get(&query(name)).await.status, 200);
    }
    let figures = json!({"impressions": 1, "ad_requests": 0, "fill_rate": 0.0});
    for filter in ["username", "sdk"] {
        let success = api
            .get(&format!("/statistics?{filter}=success"))
            .await
            .json();
        assert_eq!(success, json!({"success": true, "stats": figures}));
        let stats = api.get(&format!("/statistics?{filter}=stats")).await.json();
        assert_eq!(stats, json!({"success": true, "stats": figures}));
        let alice = api.get(&format!("/statistics?{filter}=alice")).await.json();
        assert_eq!(
            alice,
            json!({"success": true, "alice": figures, "stats": figures})
        );
    }
}

/// Item 5: a client-chosen `ID` is at most 2^31 - 1, so assigned ids never run out.
async fn chosen_ids_cannot_exhaust_assignment(engine: Engine) {
    let api = Api::on(engine).await;
    for id in [
        json!(9007199254740991u64),
        json!(2147483648u64),
        json!(u64::MAX),
    ] {
        let reply = api
            .post_json("/people", &json!({"ID": id, "Last": "Big"}))
            .await;
        assert_error(&reply, 400, "ID: must be an integer from 1 to 2147483647");
    }
    let max = api
        .post_json("/people", &json!({"ID": 2147483647u64, "Last": "Max"}))
        .await;
    assert_eq!(max.status, 201, "{}", max.text());
    let next = api.post_json("/people", &json!({"Last": "Next"})).await;
    assert_eq!(next.status, 201, "{}", next.text());
    assert_eq!(next.json()["ID"], 2147483648u64);
    assert_eq!(api.get("/people/2147483648").await.json()["Last"], "Next");
}

/// Item 7: log `properties` come back with every number exactly as sent.
async fn log_properties_keep_every_digit(engine: Engine) {
    let api = Api::on(engine).await;
    let properties = r#"{"big":12345678901234567890123,"exp":1E2,"frac":0.10000000000000000000000000001,"huge":1e400,"negzero":-0,"nested":[-0.0,{"n":18446744073709551616}]}"#;
    let body = format!(
        r#"{{"userId":"u","sessionId":"s","actions":[{{"time":"2024-01-01T00:00:00Z","type":"T","properties":{properties}}}]}}"#
    );
    let reply = post_raw(&api, "/log", JSON, body.clone()).await;
    assert_eq!(reply.json(), json!({"success": true, "stored": 1}));
    let text = api.get("/log?userId=u").await.text();
    assert!(text.contains(properties), "{text}");
    let other = body.replace("67890123,", "67890124,");
    let reply = post_raw(&api, "/log", JSON, other).await;
    assert_eq!(reply.json()["stored"], 1);
    let found = api.get("/log?userId=u").await.text();
    assert!(
        found.contains("12345678901234567890124"),
        "a different request, not a retry: {found}"
    );
}

/// Item 8: `"Age": -0` is the integer 0; a graduation date before 1900-01-01 is 400.
async fn minus_zero_is_an_age_and_ancient_dates_are_refused(engine: Engine) {
    let api = Api::on(engine).await;
    let reply = post_raw(&api, "/people", JSON, r#"{"Last": "Zero", "Age": -0}"#).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.json()["Age"], 0);
    for date in ["0000-01-01", "1899-12-31", "12/31/1899", "01/01/0999"] {
        let body = json!({"Last": "Old", "Date of 3rd Grade Graduation": date});
        let reply = api.post_json("/people", &body).await;
        assert_error(&reply, 400, "Date of 3rd Grade Graduation: ");
    }
    let reply = api
        .post_json(
            "/people",
            &json!({"Last": "Old", "Date of 3rd Grade Graduation": "1900-01-01"}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(
        api.get("/people").await.json().as_array().map(Vec::len),
        Some(2)
    );
}

/// Item 9: methods are case-sensitive; `post` is a 405 naming `POST` in `Allow`, counting nothing.
async fn methods_are_case_sensitive(engine: Engine) {
    let api = Api::on(engine).await;
    for method in ["post", "Post", "pOST", "get"] {
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let reply = api
            .send(api.client.request(method.clone(), api.url("/counters/x")))
            .await;
        assert_error(&reply, 405, &format!("method {method} is not allowed"));
        assert_eq!(reply.header("allow"), Some("POST, GET"));
    }
    assert_eq!(api.get("/counters/x").await.status, 404);
}

/// Item 6: cursors are opaque (no readable position, arrival time or body hash) and a cursor
/// made with another key (another install, a rotated secret) is a 400, never a 500.
async fn cursors_are_opaque_and_other_keys_are_400(engine: Engine) {
    let api = Api::on(engine).await;
    for id in ["alpha", "bravo", "charlie"] {
        assert_eq!(api.post(&format!("/counters/{id}")).await.status, 200);
    }
    let log = json!({"userId": "u", "sessionId": "s", "actions": [
        {"time": "2024-01-01T00:00:00Z", "type": "T"}, {"time": "2024-01-02T00:00:00Z", "type": "T"}]});
    assert_eq!(api.post_json("/log", &log).await.status, 200);
    let database = api.get("/database?limit=1").await;
    let visits_cursor = database
        .header("next-cursor")
        .expect("a cursor")
        .to_string();
    let logs = api.get("/log?userId=u&limit=1").await.json();
    let logs_cursor = logs["nextCursor"].as_str().expect("a cursor").to_string();
    for cursor in [&visits_cursor, &logs_cursor] {
        assert!(cursor
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        let bytes = URL_SAFE_NO_PAD.decode(cursor).expect("base64url");
        let text = String::from_utf8_lossy(&bytes);
        for leak in ["alpha", "2024", "\"u\""] {
            assert!(!text.contains(leak), "{leak:?} readable in {text:?}");
        }
        assert!(serde_json::from_slice::<serde_json::Value>(&bytes).is_err());
    }
    let next = api
        .get(&format!("/database?limit=1&cursor={visits_cursor}"))
        .await;
    assert_eq!(next.json(), json!({"bravo": 1}));
    let other_install = Api::on(engine).await;
    let reply = other_install
        .get(&format!("/database?limit=1&cursor={visits_cursor}"))
        .await;
    assert_error(&reply, 400, "cursor: ");
    let reply = other_install
        .get(&format!("/log?userId=u&limit=1&cursor={logs_cursor}"))
        .await;
    assert_error(&reply, 400, "cursor: ");
}

/// Item 1: `POST /test/{n}` sends its requests to the API itself, whatever `Host` names: a
/// client cannot turn it into a port scanner or a request forger.
async fn the_self_test_never_follows_the_host_header(engine: Engine) {
    let api = Api::on(engine).await;
    let elsewhere = StubServer::start(Behaviour::Xml).await;
    let authority = elsewhere.base.trim_start_matches("http://").to_string();
    for host in [
        authority.as_str(),
        "127.0.0.1:1",
        "localhost:22",
        "169.254.169.254",
    ] {
        let reply = api
            .send(api.client.post(api.url("/test/3")).header("host", host))
            .await;
        assert_eq!(reply.status, 200, "{host}: {}", reply.text());
        let report = reply.json();
        assert_eq!(
            (report["succeeded"].clone(), report["failed"].clone()),
            (json!(3), json!(0)),
            "{host}: {report}"
        );
    }
    assert_eq!(elsewhere.hits(), 0, "nothing was sent where Host pointed");
}

/// Item 11: an upstream 2xx without a body is a 502, never an empty 200; the body is asked for
/// uncompressed, and one sent encoded all the same is a 502, never bytes the client cannot read.
async fn the_ad_route_never_passes_on_empty_or_encoded_bodies(engine: Engine) {
    let query = "/ad?sdk_version=1&session_id=s&platform=p&username=u&country_code=c";
    for (behaviour, status) in [
        (Behaviour::Empty(200), 502),
        (Behaviour::Empty(204), 502),
        (Behaviour::Empty(203), 502),
        (Behaviour::Gzip { always: true }, 502),
        (Behaviour::Gzip { always: false }, 200),
    ] {
        let stub = StubServer::start(behaviour).await;
        let api = Api::on_with(engine, |state| {
            state.ads.ad_server = stub.ad_server(std::time::Duration::from_secs(2))
        })
        .await;
        let reply = api.get(query).await;
        assert_eq!(reply.status, status, "{behaviour:?}: {}", reply.text());
        if status == 200 {
            assert_eq!(reply.text(), tally_tests::stub::VAST_XML);
            assert_eq!(reply.header("content-encoding"), None);
        } else {
            assert_error(&reply, 502, "the ad server");
        }
        assert_eq!(stub.hits(), 1);
    }
}

/// Item 12: one anonymous `POST /log` costs at most `MAX_WRITE_UNITS`, counting the bytes of
/// its items, not only its actions; over that it is a 400 and nothing is stored. Index entries
/// leave large properties out, so what reaches the bound is ids of 4-byte characters, which
/// every entry repeats in its keys, on 1,000 actions of as many types (a 48 KB body).
async fn a_log_request_costs_at_most_its_write_unit_budget(engine: Engine) {
    let api = Api::on(engine).await;
    let body = |id: &str| {
        let actions: Vec<Value> = (0..1000)
            .map(|i| json!({"time": "2024-01-01T00:00:00Z", "type": format!("T{i}")}))
            .collect();
        json!({"userId": id, "sessionId": id, "actions": actions})
    };
    let reply = api.post_json("/log", &body(&"😀".repeat(256))).await;
    assert_error(
        &reply,
        400,
        "actions: storing these would cost 15001 write units",
    );
    assert_eq!(api.get("/log?limit=1").await.json()["result"], json!([]));
    let action = json!({"time": "2024-01-01T00:00:00Z", "type": "T"});
    let small = json!({"userId": "u".repeat(256), "sessionId": "s", "actions": vec![action; 1000]});
    let fits = api.post_json("/log", &small).await;
    assert_eq!(fits.json(), json!({"success": true, "stored": 1000}));
}

on_every_engine!(
    unreadable_content_types_are_415_and_store_nothing,
    values_that_do_not_decode_to_utf8_are_400_and_never_merge,
    statistics_keep_the_success_flag_whatever_the_name,
    chosen_ids_cannot_exhaust_assignment,
    log_properties_keep_every_digit,
    minus_zero_is_an_age_and_ancient_dates_are_refused,
    methods_are_case_sensitive,
    cursors_are_opaque_and_other_keys_are_400,
    the_self_test_never_follows_the_host_header,
    the_ad_route_never_passes_on_empty_or_encoded_bodies,
    a_log_request_costs_at_most_its_write_unit_budget;
    lambda:
    unreadable_content_types_are_415_and_store_nothing,
    values_that_do_not_decode_to_utf8_are_400_and_never_merge,
    methods_are_case_sensitive,
    log_properties_keep_every_digit,
    cursors_are_opaque_and_other_keys_are_400,
    the_self_test_never_follows_the_host_header,
);
