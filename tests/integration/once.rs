//! `Idempotency-Key` over HTTP (contract section G), on both engines and through Lambda mode:
//! a retry is answered as the first time with `Idempotency-Replayed: true` and counts nothing;
//! another request under the key is 422, a bad key 400; a refused first request leaves the
//! key free; concurrent duplicates count once. Log actions' `messageId`s are stored once.

use futures_util::stream::{self, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tally_tests::stub::{Behaviour, StubServer, VAST_XML};
use tally_tests::{assert_error, Api, Engine, Reply};

const KEY: &str = "Idempotency-Key";

async fn keyed(api: &Api, req: reqwest::RequestBuilder, key: &str) -> Reply {
    api.send(req.header(KEY, key)).await
}

async fn post_keyed(api: &Api, path: &str, key: &str) -> Reply {
    keyed(api, api.client.post(api.url(path)), key).await
}

async fn get_keyed(api: &Api, path: &str, key: &str) -> Reply {
    keyed(api, api.client.get(api.url(path)), key).await
}

fn replayed(reply: &Reply) -> bool {
    reply.header("Idempotency-Replayed") == Some("true")
}

/// Sends `send` twice; the second answer must be the first one's, marked as a replay.
async fn twice<F, Fut>(send: F) -> Reply
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Reply>,
{
    let first = send().await;
    assert!(first.status < 300, "{} {}", first.status, first.text());
    assert!(!replayed(&first));
    let again = send().await;
    assert_eq!(
        (again.status, again.text()),
        (first.status, first.text()),
        "the replay repeats the first answer"
    );
    assert!(replayed(&again), "the replay says so");
    assert_eq!(again.header("content-type"), first.header("content-type"));
    first
}

async fn every_counting_route_counts_a_retried_key_once(engine: Engine) {
    let api = Api::on(engine).await;
    let visit = twice(|| post_keyed(&api, "/counters/once", "k-visit")).await;
    assert_eq!(visit.json()["count"], 1);
    assert_eq!(api.get("/counters/once").await.json()["count"], 1);
    let form = [("id", "once-form")];
    let send_form = || {
        keyed(
            &api,
            api.client.post(api.url("/form")).form(&form),
            "k-form",
        )
    };
    twice(send_form).await;
    assert_eq!(api.get("/counters/once-form").await.json()["count"], 1);

    let path = twice(|| get_keyed(&api, "/api/once/path", "k-path")).await;
    assert_eq!(path.json()["count"], 1);
    let ranking = api.get("/stats").await.json();
    assert_eq!(ranking, json!([{"path": "once/path", "count": 1}]));

    let query = "sdk_version=1&session_id=s&platform=ios&username=once&country_code=US";
    let impression = format!("/impression?{query}");
    twice(|| get_keyed(&api, &impression, "k-imp")).await;
    let stats = api.get("/statistics?username=once").await.json();
    assert_eq!(stats["stats"]["impressions"], 1);

    let person = json!({"First": "Ada", "Last": "Once"});
    let create = || {
        keyed(
            &api,
            api.client.post(api.url("/people")).json(&person),
            "k-person",
        )
    };
    let created = twice(create).await;
    assert_eq!(created.status, 201);
    let id = created.json()["ID"].as_u64().expect("an ID");
    assert_eq!(
        created.header("location"),
        Some(format!("/people/{id}").as_str())
    );
    let last = api.get("/ids/lastname/Once").await.json();
    assert_eq!(last, json!([id]), "one person created");

    let log = json!({"userId": "u-once", "sessionId": "s", "actions": [
        {"time": "2026-12-01T10:00:00Z", "type": "CLICK", "properties": {"x": 1}}]});
    let record = || keyed(&api, api.client.post(api.url("/log")).json(&log), "k-log");
    twice(record).await;
    let found = api.get("/log?userId=u-once").await.json();
    assert_eq!(found["result"].as_array().map(Vec::len), Some(1));
}

async fn a_key_with_another_request_is_422_and_a_bad_key_400(engine: Engine) {
    let api = Api::on(engine).await;
    assert_eq!(post_keyed(&api, "/counters/a", "shared").await.status, 200);
    for other in ["/counters/b", "/counters/a?x=1"] {
        assert_error(
            &post_keyed(&api, other, "shared").await,
            422,
            "Idempotency-Key: ",
        );
    }
    let body = || api.client.post(api.url("/log")).header(KEY, "shared");
    assert_error(
        &api.send(body().json(&json!([]))).await,
        422,
        "Idempotency-Key: ",
    );
    let long = "k".repeat(256);
    for bad in ["", "with space", long.as_str()] {
        assert_error(
            &post_keyed(&api, "/counters/a", bad).await,
            400,
            "Idempotency-Key: ",
        );
    }
    assert_eq!(api.get("/counters/a").await.json()["count"], 1);
    assert_eq!(api.get("/counters/b").await.status, 404, "nothing counted");
}

async fn a_refused_first_request_leaves_its_key_free(engine: Engine) {
    let api = Api::on(engine).await;
    let bad = json!({"First": "Ada", "Age": "old"});
    let send = |body: &Value| api.client.post(api.url("/people")).json(body);
    assert_error(&keyed(&api, send(&bad), "k-free").await, 400, "Age");
    let good = json!({"First": "Ada", "Last": "Free"});
    let created = keyed(&api, send(&good), "k-free").await;
    assert_eq!(created.status, 201, "{}", created.text());
    assert!(!replayed(&created));
    let long = "x".repeat(129);
    let refused = post_keyed(&api, &format!("/counters/{long}"), "k-id").await;
    assert_eq!(refused.status, 400);
    assert_eq!(post_keyed(&api, "/counters/fine", "k-id").await.status, 200);
}

/// 2 x 400 requests, 16 at a time, under 40 keys (each key 20 times): 40 counts, each key
/// answered with one count, never two.
async fn concurrent_duplicates_count_once(engine: Engine) {
    let api = Api::on(engine).await;
    let sends = (0..2 * 400).map(|i| {
        let api = &api;
        async move { post_keyed(api, "/counters/storm", &format!("storm-{}", i % 40)).await }
    });
    let replies: Vec<Reply> = stream::iter(sends).buffer_unordered(16).collect().await;
    let mut counted = Vec::new();
    for reply in &replies {
        match reply.status {
            200 if !replayed(reply) => counted.push(reply.json()["count"].as_u64()),
            200 => {}
            409 => assert!(reply.header("retry-after").is_some(), "409 says when"),
            other => panic!("{other}: {}", reply.text()),
        }
    }
    counted.sort_unstable();
    assert_eq!(counted, (1..=40).map(Some).collect::<Vec<_>>());
    assert_eq!(api.get("/counters/storm").await.json()["count"], 40);
}

/// `GET /ad` under a key: the ad request is counted once, the ad fetched every time.
async fn a_retried_ad_request_fetches_the_ad_again_and_counts_once(engine: Engine) {
    let stub = StubServer::start(Behaviour::Xml).await;
    let api = Api::on_with(engine, |state| {
        state.ads.ad_server = stub.ad_server(Duration::from_secs(3))
    })
    .await;
    let query = "sdk_version=1&session_id=s&platform=ios&username=ad-once&country_code=US";
    let path = format!("/ad?{query}");
    let ad = || get_keyed(&api, &path, "k-ad");
    let first = ad().await;
    assert_eq!((first.status, first.text()), (200, VAST_XML.to_string()));
    let again = ad().await;
    assert_eq!((again.status, again.text()), (200, VAST_XML.to_string()));
    assert!(replayed(&again) && !replayed(&first));
    assert_eq!(stub.hits(), 2, "fetched again");
    let stats = api.get("/statistics?username=ad-once").await.json();
    assert_eq!(stats["stats"]["ad_requests"], 1);
}

fn log_body(user: &str, session: &str, ids: &[Value]) -> Value {
    let actions: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| json!({"time": format!("2026-12-01T10:00:0{i}Z"), "type": "VIEW", "messageId": id}))
        .collect();
    json!({"userId": user, "sessionId": session, "actions": actions})
}

/// `messageId`: an id stored for the user within 24 hours, or repeated in the body, is dropped
/// and counted in `duplicates`; a retried body answers as the first time; another user's ids
/// are their own; a bad id is 400 naming it.
async fn actions_with_a_stored_message_id_are_dropped_as_duplicates(engine: Engine) {
    let api = Api::on(engine).await;
    let first = log_body("u-msg", "s1", &[json!("m1"), json!("m2"), json!("m2")]);
    for _ in 0..2 {
        let reply = api.post_json("/log", &first).await;
        assert_eq!(
            reply.json(),
            json!({"success": true, "stored": 2, "duplicates": 1}),
            "the first time and its retry"
        );
    }
    let later = log_body("u-msg", "s2", &[json!("m1"), json!("m3")]);
    let reply = api.post_json("/log", &later).await.json();
    assert_eq!(
        reply,
        json!({"success": true, "stored": 1, "duplicates": 1})
    );
    let other_user = log_body("u-other", "s1", &[json!("m1")]);
    let reply = api.post_json("/log", &other_user).await.json();
    assert_eq!(
        reply,
        json!({"success": true, "stored": 1, "duplicates": 0})
    );
    let found = api.get("/log?userId=u-msg").await.json();
    assert_eq!(found["result"].as_array().map(Vec::len), Some(3));
    for bad in [json!(""), json!("x".repeat(129)), json!(7)] {
        let body = log_body("u-msg", "s3", &[bad]);
        assert_error(
            &api.post_json("/log", &body).await,
            400,
            "actions[0].messageId: ",
        );
    }
    let plain = json!({"userId": "u-msg", "sessionId": "s4", "actions": [
        {"time": "2026-12-01T11:00:00Z", "type": "VIEW"}]});
    let reply = api.post_json("/log", &plain).await.json();
    assert_eq!(
        reply,
        json!({"success": true, "stored": 1}),
        "no ids, no duplicates field"
    );
}

on_every_engine!(
    every_counting_route_counts_a_retried_key_once,
    a_key_with_another_request_is_422_and_a_bad_key_400,
    a_refused_first_request_leaves_its_key_free,
    concurrent_duplicates_count_once,
    a_retried_ad_request_fetches_the_ad_again_and_counts_once,
    actions_with_a_stored_message_id_are_dropped_as_duplicates;
    lambda:
    actions_with_a_stored_message_id_are_dropped_as_duplicates,
    every_counting_route_counts_a_retried_key_once,
    a_key_with_another_request_is_422_and_a_bad_key_400,
    concurrent_duplicates_count_once,
);
