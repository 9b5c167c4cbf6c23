//! The visit counter over HTTP (contract section A), on both engines.

use serde_json::json;
use tally_tests::{assert_error, Api, Engine};

async fn posting_twice_counts_two_and_get_reads_it(engine: Engine) {
    let api = Api::on(engine).await;
    assert_eq!(
        api.post("/counters/alice").await.json(),
        json!({"id": "alice", "count": 1})
    );
    let second = api.post("/counters/alice").await;
    assert_eq!(second.status, 200);
    assert_eq!(second.header("content-type"), Some("application/json"));
    assert_eq!(second.json(), json!({"id": "alice", "count": 2}));
    assert_eq!(
        api.get("/counters/alice").await.json(),
        json!({"id": "alice", "count": 2})
    );
}

async fn never_counted_ids_are_404(engine: Engine) {
    let api = Api::on(engine).await;
    assert_error(&api.get("/counters/nobody").await, 404, "id: nobody");
}

async fn the_form_counts_into_the_same_counter_and_escapes_user_text(engine: Engine) {
    let api = Api::on(engine).await;
    api.post("/counters/%3Cb%3E").await;
    let form = [("id", "<b>"), ("question", "a \"quoted\" & <i>odd</i> one")];
    let reply = api
        .send(api.client.post(api.url("/form")).form(&form))
        .await;
    assert_eq!(reply.status, 200);
    assert!(reply
        .header("content-type")
        .unwrap_or_default()
        .starts_with("text/html"));
    let page = reply.text();
    assert!(page.contains("<td>&lt;b&gt;</td>"), "{page}");
    assert!(
        page.contains("a &quot;quoted&quot; &amp; &lt;i&gt;odd&lt;/i&gt; one"),
        "{page}"
    );
    assert!(page.contains("<td>2</td>"), "{page}");
    assert!(!page.contains("<i>odd"));
}

async fn database_pages_walk_every_id_once_in_order(engine: Engine) {
    let api = Api::on(engine).await;
    let mut expected = Vec::new();
    for i in 0..25 {
        let id = format!("user{i:02}");
        for _ in 0..=(i % 3) {
            api.post(&format!("/counters/{id}")).await;
        }
        expected.push((id, i % 3 + 1));
    }
    let seen = api
        .walk("/database", 7, |reply| {
            let body = reply.json();
            let page = body.as_object().expect("object body");
            page.iter()
                .map(|(k, v)| (k.clone(), v.as_i64().expect("count")))
                .collect()
        })
        .await;
    assert_eq!(seen, expected);
}

async fn database_refuses_bad_limits_and_forged_cursors(engine: Engine) {
    let api = Api::on(engine).await;
    for bad in [
        "limit=0",
        "limit=1001",
        "limit=abc",
        "cursor=forged",
        "cursor=eyJ4Ijo.AAAA",
    ] {
        let reply = api.get(&format!("/database?{bad}")).await;
        assert_eq!(reply.status, 400, "{bad}: {}", reply.text());
    }
}

async fn bad_ids_are_400_naming_the_field(engine: Engine) {
    let api = Api::on(engine).await;
    let long = "x".repeat(10 * 1024);
    assert_error(
        &api.post(&format!("/counters/{long}")).await,
        400,
        "id: must be 1 to 128",
    );
    assert_error(
        &api.post("/counters/a%01b").await,
        400,
        "id: must not contain control",
    );
    assert_error(
        &api.post("/counters/a%7Fb").await,
        400,
        "id: must not contain control",
    );
    assert_error(
        &api.post("/counters/a%C2%85b").await,
        400,
        "id: must not contain control",
    );
    let no_id = api
        .send(api.client.post(api.url("/form")).form(&[("question", "q")]))
        .await;
    assert_error(&no_id, 400, "id: must be 1 to 128");
    let long_form = api
        .send(
            api.client
                .post(api.url("/form"))
                .form(&[("id", long.as_str())]),
        )
        .await;
    assert_error(&long_form, 400, "id:");
    // Nothing was counted by any of the refused requests.
    assert_eq!(api.get("/database").await.json(), json!({}));
}

async fn form_bodies_of_the_wrong_type_or_size_are_refused(engine: Engine) {
    let api = Api::on(engine).await;
    let json_body = api
        .send(api.client.post(api.url("/form")).json(&json!({"id": "a"})))
        .await;
    assert_error(&json_body, 415, "body:");
    let huge = "id=".to_string() + &"a".repeat(2 * 1024 * 1024);
    let too_big = api
        .send(
            api.client
                .post(api.url("/form"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(huge),
        )
        .await;
    assert_error(&too_big, 413, "1 MiB");
    assert_eq!(api.get("/database").await.json(), json!({}));
}

on_every_engine!(
    posting_twice_counts_two_and_get_reads_it,
    never_counted_ids_are_404,
    the_form_counts_into_the_same_counter_and_escapes_user_text,
    database_pages_walk_every_id_once_in_order,
    database_refuses_bad_limits_and_forged_cursors,
    bad_ids_are_400_naming_the_field,
    form_bodies_of_the_wrong_type_or_size_are_refused;
    lambda:
    posting_twice_counts_two_and_get_reads_it,
    never_counted_ids_are_404,
    the_form_counts_into_the_same_counter_and_escapes_user_text,
    database_refuses_bad_limits_and_forged_cursors,
    bad_ids_are_400_naming_the_field,
    form_bodies_of_the_wrong_type_or_size_are_refused,
);

#[tokio::test]
async fn the_front_page_greets_and_holds_the_form() {
    let api = Api::on(Engine::Sqlite).await;
    let reply = api.get("/").await;
    assert_eq!(reply.status, 200);
    assert!(reply
        .header("content-type")
        .unwrap_or_default()
        .starts_with("text/html"));
    let page = reply.text();
    assert!(page.contains("Hello world!") && page.contains("action=\"/form\""));
    assert!(page.contains("name=\"id\" required"));
}

#[tokio::test]
async fn embedded_counts_survive_a_restart() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    {
        let api = Api::serve(tally_tests::sqlite_state(dir.path())).await;
        api.post("/counters/alice").await;
        api.post("/counters/alice").await;
    }
    let api = Api::serve(tally_tests::sqlite_state(dir.path())).await;
    assert_eq!(
        api.get("/counters/alice").await.json(),
        json!({"id": "alice", "count": 2})
    );
}
