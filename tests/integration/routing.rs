//! API Gateway semantics of the local API: unknown routes and wrong methods.

use tally_tests::{assert_error, Api, Engine};

#[tokio::test]
async fn unknown_routes_are_json_404() {
    let api = Api::on(Engine::Sqlite).await;
    assert_error(
        &api.get("/no/such/route").await,
        404,
        "no route for GET /no/such/route",
    );
    assert_error(&api.get("/counters/").await, 404, "no route");
}

#[tokio::test]
async fn known_paths_with_the_wrong_method_are_405_with_allow() {
    let api = Api::on(Engine::Sqlite).await;
    let reply = api
        .send(api.client.delete(api.url("/counters/alice")))
        .await;
    assert_error(&reply, 405, "DELETE");
    assert_eq!(reply.header("allow"), Some("POST, GET"));
    let reply = api.get("/form").await;
    assert_error(&reply, 405, "GET");
    assert_eq!(reply.header("allow"), Some("POST"));
}

#[tokio::test]
async fn the_local_api_serves_its_openapi_document() {
    let api = Api::on(Engine::Sqlite).await;
    let reply = api.get("/openapi.yaml").await;
    assert_eq!(reply.status, 200);
    assert!(reply.text().starts_with("openapi: 3.1.0"));
}
