//! Clock skew on `POST /log` (contract G): `sentAt` adds `receivedAt` and the corrected
//! `timestamp` to each action, on both engines and in Lambda mode.

use serde_json::{json, Value};
use tally::logs::Instant;
use tally_tests::{assert_error, Api, Engine};

fn nanos(field: &str, text: &str) -> i128 {
    Instant::parse(field, text)
        .unwrap_or_else(|e| panic!("{field} {text:?}: {e}"))
        .nanos()
}

fn now_nanos() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .expect("clock after 1970")
}

/// Every action of `user`, in order.
async fn entries(api: &Api, user: &str) -> Vec<Value> {
    let reply = api.get(&format!("/log?userId={user}")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["result"].as_array().expect("result").clone()
}

fn body(user: &str, sent_at: Option<&str>) -> Value {
    let mut body = json!({"userId": user, "sessionId": "s1", "actions": [
        {"time": "2020-01-01T00:00:00.5+01:00", "type": "CLICK"},
        {"time": "2020-01-01T00:05:00+01:00", "type": "VIEW"},
    ]});
    if let Some(sent_at) = sent_at {
        body["sentAt"] = json!(sent_at);
    }
    body
}

async fn sent_at_adds_received_at_and_the_corrected_timestamp(engine: Engine) {
    let api = Api::on(engine).await;
    let sent_at = "2020-01-01T00:10:00+01:00";
    let before = now_nanos();
    let first = api.post_json("/log", &body("skewed", Some(sent_at))).await;
    let after = now_nanos();
    assert_eq!(first.status, 200, "{}", first.text());
    let stored = entries(&api, "skewed").await;
    assert_eq!(stored.len(), 2, "{stored:?}");
    for entry in &stored {
        let time = entry["time"].as_str().expect("time as sent");
        let received = nanos(
            "receivedAt",
            entry["receivedAt"].as_str().expect("receivedAt"),
        );
        let timestamp = nanos("timestamp", entry["timestamp"].as_str().expect("timestamp"));
        assert!((before..=after).contains(&received), "{entry}");
        assert_eq!(
            timestamp,
            received - (nanos("sentAt", sent_at) - nanos("time", time)),
            "{entry}"
        );
        assert!(entry["timestamp"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')));
    }
    assert_eq!(
        stored[0]["time"], "2020-01-01T00:00:00.5+01:00",
        "order by time"
    );

    let again = api.post_json("/log", &body("skewed", Some(sent_at))).await;
    assert_eq!((again.status, again.text()), (200, first.text()));
    assert_eq!(
        entries(&api, "skewed").await,
        stored,
        "a retry keeps the first receipt"
    );
}

async fn without_sent_at_neither_field_appears(engine: Engine) {
    let api = Api::on(engine).await;
    assert_eq!(
        api.post_json("/log", &body("plain", None)).await.status,
        200
    );
    let mut null_sent_at = body("plain-null", None);
    null_sent_at["sentAt"] = Value::Null;
    assert_eq!(api.post_json("/log", &null_sent_at).await.status, 200);
    for user in ["plain", "plain-null"] {
        for entry in entries(&api, user).await {
            let fields = entry.as_object().expect("object");
            assert!(!fields.contains_key("receivedAt"), "{entry}");
            assert!(!fields.contains_key("timestamp"), "{entry}");
        }
    }
}

async fn a_bad_sent_at_is_400_naming_it_and_stores_nothing(engine: Engine) {
    let api = Api::on(engine).await;
    for bad in [
        json!("yesterday"),
        json!("2020-01-01 00:10:00Z"),
        json!(1_577_833_800),
        json!({"at": "2020-01-01T00:10:00Z"}),
        json!("9999-12-31T23:59:59Z"),
    ] {
        let mut refused = body("refused", None);
        refused["sentAt"] = bad.clone();
        let reply = api.post_json("/log", &refused).await;
        assert_error(&reply, 400, "sentAt");
        assert!(entries(&api, "refused").await.is_empty(), "{bad}");
    }
}

on_every_engine!(
    sent_at_adds_received_at_and_the_corrected_timestamp,
    without_sent_at_neither_field_appears,
    a_bad_sent_at_is_400_naming_it_and_stores_nothing;
    lambda:
    sent_at_adds_received_at_and_the_corrected_timestamp,
    a_bad_sent_at_is_400_naming_it_and_stores_nothing,
);
