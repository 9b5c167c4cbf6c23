//! The files of `events/` (one API Gateway HTTP API event per function), read in route order
//! and replayed as HTTP requests, so tests can run "every route" without a table of their own.

use crate::{Api, Reply};
use std::path::PathBuf;
use tally_functions::routes::{FALLBACK_FUNCTION, ROUTES};

/// `events/` in the repository.
pub fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events")
}

/// Every function, in the order their events run: the form counts `alice` before it is read,
/// `/ad` and `/impression` count before `/statistics`, and so on; the fallback last.
pub fn functions() -> Vec<&'static str> {
    ROUTES
        .iter()
        .map(|r| r.function)
        .chain([FALLBACK_FUNCTION])
        .collect()
}

/// The event file of `function`.
pub fn read(function: &str) -> String {
    let file = events_dir().join(format!("{function}.json"));
    std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// The HTTP request an event describes: method, path with query, content type and body.
#[derive(Debug, Clone)]
pub struct EventRequest {
    pub function: &'static str,
    pub method: String,
    pub path_and_query: String,
    pub content_type: Option<String>,
    pub body: String,
    /// The `Idempotency-Key` it is sent with, if any (events' own keys are not taken: the
    /// cost table measures requests without one).
    pub idempotency_key: Option<String>,
}

impl EventRequest {
    /// The request of `function`'s event.
    pub fn of(function: &'static str) -> Self {
        let event: serde_json::Value = serde_json::from_str(&read(function))
            .unwrap_or_else(|e| panic!("{function}: event is not JSON: {e}"));
        let field = |pointer: &str| event.pointer(pointer).and_then(|v| v.as_str());
        assert_ne!(
            event["isBase64Encoded"], true,
            "{function}: base64 bodies are not replayed"
        );
        let path = field("/rawPath").unwrap_or("/");
        let query = field("/rawQueryString").unwrap_or_default();
        EventRequest {
            function,
            method: field("/requestContext/http/method")
                .unwrap_or("GET")
                .to_string(),
            path_and_query: if query.is_empty() {
                path.to_string()
            } else {
                format!("{path}?{query}")
            },
            content_type: field("/headers/content-type").map(str::to_string),
            body: field("/body").unwrap_or_default().to_string(),
            idempotency_key: None,
        }
    }

    /// A request without a body, not taken from an event.
    pub fn plain(method: &str, path_and_query: &str) -> Self {
        EventRequest {
            function: "",
            method: method.into(),
            path_and_query: path_and_query.into(),
            content_type: None,
            body: String::new(),
            idempotency_key: None,
        }
    }

    /// The same request, sent with `Idempotency-Key: key`.
    pub fn with_key(self, key: &str) -> Self {
        EventRequest {
            idempotency_key: Some(key.to_string()),
            ..self
        }
    }

    /// Every function's request, in route order.
    pub fn all() -> Vec<Self> {
        functions().into_iter().map(Self::of).collect()
    }

    /// Sends the request to `api` (its own `Host`, so a self test calls `api` back).
    pub async fn send(&self, api: &Api) -> Reply {
        let method = self.method.parse().expect("an HTTP method");
        let mut req = api
            .client
            .request(method, api.url(&self.path_and_query))
            .body(self.body.clone());
        if let Some(content_type) = &self.content_type {
            req = req.header("content-type", content_type);
        }
        if let Some(key) = &self.idempotency_key {
            req = req.header("idempotency-key", key);
        }
        api.send(req).await
    }
}

/// Every event, in route order, answers as it does on a healthy store: 2xx, the fallback 404.
pub async fn assert_every_route_works(api: &Api) {
    for request in EventRequest::all() {
        let reply = request.send(api).await;
        let ok = if request.function == FALLBACK_FUNCTION {
            reply.status == 404
        } else {
            (200..300).contains(&reply.status)
        };
        assert!(
            ok,
            "{}: {} {}",
            request.function,
            reply.status,
            reply.text()
        );
    }
}
