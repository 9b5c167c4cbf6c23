//! Issue 28: no JSON of any depth stops a process. Every JSON entry point at 100,000 levels
//! (objects and arrays) is a 400 naming the field and stores nothing, the API answers
//! `GET /ping` after it, and an item stored deeper than the limit still reads back.

use serde_json::json;
use tally::logs::LogBatch;
use tally::nesting::MAX_LEVELS;
use tally_tests::{assert_error, Api, Engine, Reply};

const DEEP: usize = 100_000;
/// As deep as properties of at most 16 KiB can nest: 2 bytes a level.
const STORED_DEEP: usize = 8_000;

/// A value `levels` levels deep: nested objects (`{"a":...}`) or arrays.
fn nested(objects: bool, levels: usize) -> String {
    let (open, close) = if objects {
        ("{\"a\":", "}")
    } else {
        ("[", "]")
    };
    format!("{}1{}", open.repeat(levels), close.repeat(levels))
}

/// A `POST /log` body of one action whose `properties` are `properties` (raw JSON text).
fn log_body(properties: &str) -> String {
    format!(
        r#"{{"userId":"deep","sessionId":"s","actions":[{{"time":"2024-01-01T00:00:00Z","type":"CLICK","properties":{properties}}}]}}"#
    )
}

async fn post_raw(api: &Api, path: &str, body: String) -> Reply {
    api.send(
        api.client
            .post(api.url(path))
            .header("content-type", "application/json")
            .body(body),
    )
    .await
}

/// Each JSON entry point, its too-deep body, and the field the 400 must start with.
fn deep_bodies(objects: bool) -> Vec<(&'static str, String, &'static str)> {
    let deep = nested(objects, DEEP);
    vec![
        (
            "/log",
            log_body(&format!("{{\"p\":{deep}}}")),
            "actions[0].properties: ",
        ),
        ("/log", log_body(&deep), "actions[0].properties: "),
        (
            "/log",
            format!(r#"{{"userId":"deep","sessionId":"s","actions":[{deep}]}}"#),
            "actions[0]",
        ),
        ("/log", format!(r#"{{"userId":"deep","x":{deep}}}"#), "x"),
        (
            "/log",
            deep.clone(),
            if objects { "a.a.a: " } else { "[0][0][0]: " },
        ),
        ("/people", format!(r#"{{"Last":{deep}}}"#), "Last: "),
        ("/people", deep, if objects { "a: " } else { "[0]: " }),
    ]
}

async fn json_bodies_a_hundred_thousand_levels_deep_are_400_and_the_api_goes_on(engine: Engine) {
    let api = Api::on(engine).await;
    for objects in [true, false] {
        for (path, body, field) in deep_bodies(objects) {
            let reply = post_raw(&api, path, body).await;
            assert_error(&reply, 400, field);
            assert!(
                reply.text().contains("nests deeper than 32 levels"),
                "{}",
                reply.text()
            );
            assert_eq!(api.get("/ping").await.status, 200, "after {path} {field}");
        }
    }
    assert_eq!(api.get("/log").await.json()["result"], json!([]));
    assert_eq!(api.get("/people").await.json(), json!([]));
}

/// Properties may nest exactly `MAX_LEVELS` levels and come back as sent; one more is refused.
async fn properties_nest_up_to_the_limit_and_one_level_more_is_refused(engine: Engine) {
    let api = Api::on(engine).await;
    for objects in [true, false] {
        let at_limit = format!("{{\"p\":{}}}", nested(objects, MAX_LEVELS - 1));
        let reply = post_raw(&api, "/log", log_body(&at_limit)).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        let over = format!("{{\"p\":{}}}", nested(objects, MAX_LEVELS));
        let reply = post_raw(&api, "/log", log_body(&over)).await;
        assert_error(
            &reply,
            400,
            "actions[0].properties: nests deeper than 32 levels",
        );
    }
    let stored = api.get("/log?userId=deep").await.text();
    assert!(stored.contains(&nested(true, MAX_LEVELS - 1)), "{stored}");
    assert!(stored.contains(&nested(false, MAX_LEVELS - 1)), "{stored}");
}

/// An action stored before the limit existed, as deep as its 16 KiB allow, is read back whole.
async fn properties_stored_deeper_than_the_limit_still_read_back(engine: Engine) {
    let api = Api::on(engine).await;
    let mut batch = LogBatch::parse(log_body("{}").as_bytes()).expect("valid batch");
    let deep = format!("{{\"p\":{}}}", nested(false, STORED_DEEP));
    batch.actions[0].properties = deep.clone();
    api.state
        .logs
        .store
        .record(&batch, 1_000)
        .await
        .expect("record");
    let reply = api.get("/log?userId=deep").await;
    assert_eq!(reply.status, 200);
    assert!(reply.text().contains(&deep));
    assert_eq!(api.get("/ping").await.status, 200);
}

on_every_engine!(
    json_bodies_a_hundred_thousand_levels_deep_are_400_and_the_api_goes_on,
    properties_nest_up_to_the_limit_and_one_level_more_is_refused,
    properties_stored_deeper_than_the_limit_still_read_back;
    lambda:
    json_bodies_a_hundred_thousand_levels_deep_are_400_and_the_api_goes_on,
    properties_nest_up_to_the_limit_and_one_level_more_is_refused,
    properties_stored_deeper_than_the_limit_still_read_back,
);

/// The real `tally-local` process (the build `make test` makes) survives the same bodies.
#[tokio::test]
async fn the_local_api_process_survives_every_deep_body() {
    let data = tempfile::TempDir::new().expect("temp dir");
    let binary = tally_tests::bin_dir().join("tally-local");
    let (mut child, base) = tally_tests::spawn_local(&binary, data.path(), &[]).await;
    let client = reqwest::Client::new();
    for objects in [true, false] {
        for (path, body, field) in deep_bodies(objects) {
            let reply = client
                .post(format!("{base}{path}"))
                .body(body)
                .send()
                .await
                .expect("answered");
            assert_eq!(reply.status().as_u16(), 400, "{path} {field}");
            let ping = client.get(format!("{base}/ping")).send().await;
            assert_eq!(ping.expect("still up").status().as_u16(), 200);
        }
    }
    assert!(child.try_wait().expect("status").is_none(), "still running");
}
