//! One request on the Lambda path: the payload 2.0 event API Gateway HTTP APIs build for it
//! (percent-decoded `rawPath` and path parameters, comma-joined query parameters, lower-cased
//! headers, base64 bodies that are not UTF-8), handed to the real function binary through the
//! loopback Runtime API, and its answer read back as a `Reply`. Payload format:
//! https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html

use crate::runtime_api::{invoke_cold_within, Invocation};
use crate::{DynamoTables, Reply};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use percent_encoding::percent_decode_str;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{json, Map, Value};
use std::time::Duration;
use tally_functions::routes::{decode_params, find, Match, FALLBACK_FUNCTION};

/// A request as a client sends it: method, path and query as on the wire, headers, body.
#[derive(Debug, Clone)]
pub struct LambdaRequest {
    pub method: String,
    pub path_and_query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl LambdaRequest {
    pub fn new(method: &str, path_and_query: &str) -> Self {
        LambdaRequest {
            method: method.into(),
            path_and_query: path_and_query.into(),
            headers: vec![(
                "host".into(),
                "abc.execute-api.us-east-1.amazonaws.com".into(),
            )],
            body: Vec::new(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The function API Gateway would call: the route's, else `$default`'s.
    pub fn function(&self) -> &'static str {
        match find(&self.method, self.path()) {
            Match::Found { route, .. } => route.function,
            _ => FALLBACK_FUNCTION,
        }
    }

    fn path(&self) -> &str {
        self.path_and_query.split('?').next().unwrap_or("/")
    }

    /// The event API Gateway sends to `function` (route or `$default`) for this request.
    pub fn event_for(&self, function: &str) -> String {
        let path = self.path();
        let query = self.path_and_query.split_once('?').map_or("", |(_, q)| q);
        let decoded = percent_decode_str(path).decode_utf8_lossy().into_owned();
        let (route_key, params) = match find(&self.method, path) {
            Match::Found { route, params, .. } if route.function == function => {
                let params = decode_params(params).unwrap_or_default();
                (format!("{} {}", route.method, route.path), params)
            }
            _ => ("$default".to_string(), Default::default()),
        };
        let mut event = json!({
            "version": "2.0",
            "routeKey": route_key,
            "rawPath": decoded,
            "rawQueryString": query,
            "headers": self.headers(),
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "abc",
                "domainName": "abc.execute-api.us-east-1.amazonaws.com",
                "domainPrefix": "abc",
                "http": {
                    "method": self.method,
                    "path": decoded,
                    "protocol": "HTTP/1.1",
                    "sourceIp": "192.0.2.10",
                    "userAgent": "tally-tests"
                },
                "requestId": "test",
                "routeKey": route_key,
                "stage": "$default",
                "time": "28/Nov/2026:09:00:00 +0000",
                "timeEpoch": 1_795_856_400_000u64
            },
            "isBase64Encoded": false
        });
        if !query.is_empty() {
            event["queryStringParameters"] = query_parameters(query);
        }
        if !params.is_empty() {
            let params: Map<String, Value> = params
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect();
            event["pathParameters"] = Value::Object(params);
        }
        if !self.body.is_empty() {
            match std::str::from_utf8(&self.body) {
                Ok(text) => event["body"] = text.into(),
                Err(_) => {
                    event["body"] = STANDARD.encode(&self.body).into();
                    event["isBase64Encoded"] = true.into();
                }
            }
        }
        event.to_string()
    }

    fn headers(&self) -> Value {
        let mut headers = Map::new();
        for (name, value) in &self.headers {
            headers.insert(name.clone(), value.clone().into());
        }
        if !self.body.is_empty() {
            headers.insert("content-length".into(), self.body.len().to_string().into());
        }
        Value::Object(headers)
    }
}

/// Query parameters as API Gateway gives them: decoded, repeated names joined by commas.
fn query_parameters(query: &str) -> Value {
    let mut params: Map<String, Value> = Map::new();
    let pairs = tally::http::request::parse_query(query).unwrap_or_default();
    for (name, value) in pairs {
        let joined = match params.get(&name).and_then(Value::as_str) {
            Some(before) => format!("{before},{value}"),
            None => value,
        };
        params.insert(name, joined.into());
    }
    Value::Object(params)
}

/// The environment that points a function at `tables` on the test DynamoDB server.
pub fn function_env(tables: &DynamoTables) -> Vec<(&'static str, String)> {
    let mut env = tables.env();
    env.extend([
        ("DYNAMODB_ENDPOINT", crate::dynamodb_endpoint()),
        ("AWS_ACCESS_KEY_ID", "test".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_string()),
    ]);
    env
}

/// Sends `req` to `function`'s binary, cold, with `env`; the Lambda timeout is 30 s.
pub async fn call(function: &str, req: &LambdaRequest, env: &[(&str, String)]) -> Answer {
    call_within(function, req, env, Duration::from_secs(30)).await
}

/// Sends `req` to `function`'s binary with `timeout` left before the invocation's deadline.
pub async fn call_within(
    function: &str,
    req: &LambdaRequest,
    env: &[(&str, String)],
    timeout: Duration,
) -> Answer {
    let run = invoke_cold_within(
        &crate::bin_dir().join(function),
        &req.event_for(function),
        env,
        timeout,
    )
    .await;
    Answer::from(run)
}

/// A function's answer on the Lambda path: the HTTP reply it encodes, and the invocation.
pub struct Answer {
    pub reply: Reply,
    pub invocation: Invocation,
}

impl From<Invocation> for Answer {
    fn from(invocation: Invocation) -> Self {
        let response = &invocation.response;
        let mut headers = HeaderMap::new();
        if let Some(map) = response["headers"].as_object() {
            for (name, value) in map {
                if let (Ok(name), Some(Ok(value))) = (
                    HeaderName::from_bytes(name.as_bytes()),
                    value.as_str().map(HeaderValue::from_str),
                ) {
                    headers.insert(name, value);
                }
            }
        }
        let text = response["body"].as_str().unwrap_or_default();
        let body = if response["isBase64Encoded"] == true {
            STANDARD.decode(text).unwrap_or_default()
        } else {
            text.as_bytes().to_vec()
        };
        let status = response["statusCode"].as_u64().unwrap_or(0) as u16;
        Answer {
            reply: Reply {
                status,
                headers,
                body,
            },
            invocation,
        }
    }
}
