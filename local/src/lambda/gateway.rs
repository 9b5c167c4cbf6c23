//! API Gateway HTTP API's side of Lambda mode, every rule in this one module with its source:
//! route selection, the payload 2.0 event, the limits, and how a function's answer (or its
//! failure) becomes the HTTP response. Where AWS documents nothing the rule is marked
//! "observed" (behaviour reported from live APIs) and kept conservative.

use super::pool::Invoked;
use super::template::FunctionSpec;
use base64::Engine as _;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{HeaderMap, HeaderValue};
use percent_encoding::percent_decode_str;
use serde_json::{json, Map, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub type Response = hyper::Response<Full<Bytes>>;

/// Payload size 10 MB; integration timeout 30 s.
/// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html
pub const MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;
pub const INTEGRATION_TIMEOUT: Duration = Duration::from_secs(30);

/// A synchronous invocation's payload (the event) is at most 6 MB.
/// https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
pub const MAX_EVENT_BYTES: usize = 6 * 1024 * 1024;

/// One route: `GET /counters/{id}`, or `$default`.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub method: String,
    pub path: String,
    pub function: String,
}

impl Route {
    /// `GET /counters/{id}`, or `$default`: the event's `routeKey`.
    pub fn key(&self) -> String {
        if self.path == "$default" {
            self.path.clone()
        } else {
            format!("{} {}", self.method, self.path)
        }
    }
}

/// The route a request selected and its decoded path parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Selected<'a> {
    pub route: &'a Route,
    pub params: Vec<(String, String)>,
}

/// Every route of the template's functions (`HttpApi` events).
pub fn routes(specs: &[FunctionSpec]) -> Vec<Route> {
    specs
        .iter()
        .flat_map(|spec| {
            spec.routes.iter().map(|(method, path)| Route {
                method: method.clone(),
                path: path.clone(),
                function: spec.binary.clone(),
            })
        })
        .collect()
}

/// Route selection, https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html
/// ("Routing API requests"): a full match for route and method first, then a route and method
/// with a greedy path variable, then `ANY`, then `$default`; none: 404 `{"message":"Not Found"}`.
/// Among full matches the one with more literal segments wins (`/people/age` over
/// `/people/{id}`). Segments are matched as sent, so `/stats/` (a last, empty segment) matches
/// no `/stats` route; path parameters are then percent-decoded ("API Gateway decodes
/// URL-encoded request parameters before passing them to your backend integration").
pub fn select<'a>(routes: &'a [Route], method: &str, raw_path: &str) -> Option<Selected<'a>> {
    let mut best: Option<((bool, bool, usize), Selected<'a>)> = None;
    for route in routes.iter().filter(|r| r.path != "$default") {
        let any = route.method == "ANY";
        if !any && route.method != method {
            continue;
        }
        let Some(found) = match_path(&route.path, raw_path) else {
            continue;
        };
        let rank = (any, found.greedy, usize::MAX - found.literals);
        if best.as_ref().is_none_or(|(b, _)| rank < *b) {
            let params = found.params;
            best = Some((rank, Selected { route, params }));
        }
    }
    best.map(|(_, s)| s).or_else(|| {
        routes
            .iter()
            .find(|r| r.path == "$default")
            .map(|route| Selected {
                route,
                params: Vec::new(),
            })
    })
}

/// A request path matched against a route path.
struct PathMatch {
    params: Vec<(String, String)>,
    /// A greedy variable (`{proxy+}`) took the rest.
    greedy: bool,
    /// How many literal segments matched.
    literals: usize,
}

fn match_path(template: &str, path: &str) -> Option<PathMatch> {
    let mut params = Vec::new();
    let mut literals = 0;
    let mut segments = path.split('/');
    for part in template.split('/') {
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix("+}")) {
            let rest = segments.by_ref().collect::<Vec<_>>().join("/");
            if rest.is_empty() {
                return None;
            }
            params.push((name.to_string(), decode(&rest)));
            return Some(PathMatch {
                params,
                greedy: true,
                literals,
            });
        }
        let segment = segments.next()?;
        match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            Some(name) if !segment.is_empty() => params.push((name.to_string(), decode(segment))),
            Some(_) => return None,
            None if part == segment => literals += 1,
            None => return None,
        }
    }
    segments.next().is_none().then_some(PathMatch {
        params,
        greedy: false,
        literals,
    })
}

fn decode(raw: &str) -> String {
    percent_decode_str(raw).decode_utf8_lossy().into_owned()
}

/// What the gateway knows of a request besides its headers and body.
#[derive(Debug, Clone)]
pub struct Incoming<'a> {
    pub method: &'a str,
    /// The path as sent, still percent-encoded.
    pub raw_path: &'a str,
    pub raw_query: &'a str,
    pub source_ip: String,
    /// The port the gateway listens on (`x-forwarded-port`).
    pub port: u16,
    pub request_id: &'a str,
}

/// The payload format 2.0 event, https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html:
/// header names lower-cased, duplicate headers and duplicate query parameters joined with
/// commas, `cookie` headers moved to `cookies`, `rawQueryString` as sent. `rawPath` and
/// `requestContext.http.path` percent-decoded (observed: HTTP APIs hand Lambda a decoded
/// `rawPath`). Bodies of text types (`text/*`, JSON, XML, JavaScript) as text, others base64
/// with `isBase64Encoded` (observed: e.g. `application/x-www-form-urlencoded` arrives base64).
pub fn event(req: &Incoming, selected: &Selected, headers: &HeaderMap, body: &[u8]) -> Value {
    let (mut headers_json, cookies) = event_headers(headers);
    forwarded(&mut headers_json, req);
    let user_agent = headers_json["user-agent"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let host = headers_json["host"]
        .as_str()
        .unwrap_or("localhost")
        .to_string();
    let decoded_path = decode(req.raw_path);
    let now = SystemTime::now();
    let epoch_ms = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0) as u64;
    let mut event = json!({
        "version": "2.0",
        "routeKey": selected.route.key(),
        "rawPath": decoded_path,
        "rawQueryString": req.raw_query,
        "headers": headers_json,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split('.').next().unwrap_or_default(),
            "http": {
                "method": req.method,
                "path": decoded_path,
                "protocol": "HTTP/1.1",
                "sourceIp": req.source_ip,
                "userAgent": user_agent,
            },
            "requestId": req.request_id,
            "routeKey": selected.route.key(),
            "stage": "$default",
            "time": request_time(now),
            "timeEpoch": epoch_ms,
        },
        "isBase64Encoded": false,
    });
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    let query = query_parameters(req.raw_query);
    if !query.is_empty() {
        event["queryStringParameters"] = Value::Object(query);
    }
    if !selected.params.is_empty() {
        let params: Map<String, Value> = selected
            .params
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        event["pathParameters"] = Value::Object(params);
    }
    if !body.is_empty() {
        let content_type = headers_json["content-type"].as_str().unwrap_or_default();
        match std::str::from_utf8(body) {
            Ok(text) if is_text(content_type) => event["body"] = json!(text),
            _ => {
                event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(body));
                event["isBase64Encoded"] = json!(true);
            }
        }
    }
    event
}

fn event_headers(headers: &HeaderMap) -> (Value, Vec<String>) {
    let mut out: Map<String, Value> = Map::new();
    let mut cookies = Vec::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == hyper::header::COOKIE {
            cookies.extend(
                value
                    .split(';')
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty()),
            );
            continue;
        }
        match out.get_mut(name.as_str()) {
            Some(Value::String(joined)) => {
                joined.push(',');
                joined.push_str(&value);
            }
            _ => {
                out.insert(name.as_str().to_string(), json!(value));
            }
        }
    }
    (Value::Object(out), cookies)
}

/// The headers API Gateway adds (observed, e.g. in `sam local generate-event`'s sample):
/// `x-forwarded-for` (the client's address appended), `x-forwarded-port`, `x-forwarded-proto`
/// (the scheme the client used: here `http`), `x-amzn-trace-id`.
fn forwarded(headers: &mut Value, req: &Incoming) {
    let chain = match headers["x-forwarded-for"].as_str() {
        Some(before) => format!("{before}, {}", req.source_ip),
        None => req.source_ip.clone(),
    };
    headers["x-forwarded-for"] = json!(chain);
    headers["x-forwarded-port"] = json!(req.port.to_string());
    headers["x-forwarded-proto"] = json!("http");
    let epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let id: String = req
        .request_id
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(24)
        .collect();
    headers["x-amzn-trace-id"] = json!(format!("Root=1-{epoch:08x}-{id:0>24}"));
}

/// `queryStringParameters`: names and values percent-decoded (a `+` stays a `+`: observed),
/// duplicates joined with commas.
fn query_parameters(raw: &str) -> Map<String, Value> {
    let mut out: Map<String, Value> = Map::new();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (name, value) = (decode(name), decode(value));
        match out.get_mut(&name) {
            Some(Value::String(joined)) => {
                joined.push(',');
                joined.push_str(&value);
            }
            _ => {
                out.insert(name, json!(value));
            }
        }
    }
    out
}

fn is_text(content_type: &str) -> bool {
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    mime.starts_with("text/")
        || mime.ends_with("+json")
        || mime.ends_with("+xml")
        || matches!(
            mime.as_str(),
            "application/json" | "application/xml" | "application/javascript"
        )
}

/// `requestContext.time`: `28/Nov/2026:08:27:04 +0000`.
fn request_time(now: SystemTime) -> String {
    let http = httpdate::fmt_http_date(now);
    match http.split(' ').collect::<Vec<_>>().as_slice() {
        [_, day, month, year, clock, _] => format!("{day}/{month}/{year}:{clock} +0000"),
        _ => http,
    }
}

/// API Gateway's own answers: `{"message": ...}` JSON with `apigw-requestid`.
pub fn message(status: u16, text: &str, request_id: &str) -> Response {
    let body = json!({ "message": text }).to_string();
    let mut resp = hyper::Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or_default();
    resp.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    stamp(&mut resp, request_id);
    resp
}

/// No route and no `$default` route.
pub fn not_found(request_id: &str) -> Response {
    message(404, "Not Found", request_id)
}

/// A body over `MAX_REQUEST_BYTES` (observed answer), or an event over `MAX_EVENT_BYTES`
/// (Lambda's `RequestEntityTooLargeException`, passed on as 413: observed).
pub fn too_large(request_id: &str) -> Response {
    message(413, "Request Entity Too Large", request_id)
}

/// The integration timed out, or Lambda throttled the invocation (observed: HTTP APIs answer
/// 503 `Service Unavailable` for both).
pub fn unavailable(request_id: &str) -> Response {
    message(503, "Service Unavailable", request_id)
}

/// A function error, crash, timeout, or a response over 6 MB or not in payload 2.0 format:
/// 500 `{"message":"Internal Server Error"}`
/// (https://repost.aws/knowledge-center/api-gateway-internal-server-error).
pub fn internal_error(request_id: &str) -> Response {
    message(500, "Internal Server Error", request_id)
}

fn stamp(resp: &mut Response, request_id: &str) {
    let headers = resp.headers_mut();
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("apigw-requestid", id);
    }
    if let Ok(date) = HeaderValue::from_str(&httpdate::fmt_http_date(SystemTime::now())) {
        headers.insert("date", date);
    }
}

/// The HTTP response for an invocation's outcome, and why it failed if it did.
pub fn respond(invoked: Invoked, request_id: &str) -> (Response, Option<String>) {
    match invoked {
        Invoked::Response(payload) => match response(&payload, request_id) {
            Ok(resp) => (resp, None),
            Err(reason) => (internal_error(request_id), Some(reason)),
        },
        Invoked::Failed(reason) => (internal_error(request_id), Some(reason)),
        Invoked::Throttled(reason) => (unavailable(request_id), Some(reason)),
    }
}

/// Response payload 2.0, https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html#http-api-develop-integrations-lambda.response:
/// `statusCode`, `headers`, `multiValueHeaders` (values appended), `cookies` (one
/// `set-cookie` each), `body`, `isBase64Encoded`. Valid JSON without `statusCode` is a 200
/// `application/json` response whose body is that JSON. Anything else is a 500.
pub fn response(payload: &[u8], request_id: &str) -> Result<Response, String> {
    let value: Value =
        serde_json::from_slice(payload).map_err(|e| format!("response is not JSON: {e}"))?;
    let Some(status) = value.get("statusCode") else {
        let mut resp = hyper::Response::new(Full::new(Bytes::copy_from_slice(payload)));
        resp.headers_mut()
            .insert("content-type", HeaderValue::from_static("application/json"));
        stamp(&mut resp, request_id);
        return Ok(resp);
    };
    let status = status
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| hyper::StatusCode::from_u16(s).ok())
        .ok_or_else(|| format!("invalid statusCode {status}"))?;
    let text = value["body"].as_str().unwrap_or_default();
    let body = if value["isBase64Encoded"] == true {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|e| format!("body is not base64: {e}"))?
    } else {
        text.as_bytes().to_vec()
    };
    let mut resp = hyper::Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    for (name, value) in value["headers"].as_object().into_iter().flatten() {
        append(headers, name, value)?;
    }
    for (name, values) in value["multiValueHeaders"].as_object().into_iter().flatten() {
        for value in values.as_array().into_iter().flatten() {
            append(headers, name, value)?;
        }
    }
    for cookie in value["cookies"].as_array().into_iter().flatten() {
        append(headers, "set-cookie", cookie)?;
    }
    stamp(&mut resp, request_id);
    Ok(resp)
}

fn append(headers: &mut HeaderMap, name: &str, value: &Value) -> Result<(), String> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(_) | Value::Bool(_) => value.to_string(),
        _ => return Err(format!("header {name}: not a string")),
    };
    let name = hyper::header::HeaderName::from_bytes(name.as_bytes())
        .map_err(|e| format!("header {name}: {e}"))?;
    let value = HeaderValue::from_str(&text).map_err(|e| format!("header {name}: {e}"))?;
    headers.append(name, value);
    Ok(())
}

#[cfg(test)]
#[path = "gateway_tests.rs"]
mod tests;
