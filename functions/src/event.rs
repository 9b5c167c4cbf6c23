//! The raw API Gateway HTTP API (payload 2.0) event made safe before `lambda_http` converts it:
//! its conversion panics (`expect`/`unwrap`) on a query, path or host its URI parsers reject and
//! on a body marked base64 that is not, so each is repaired here or answered 400, never a crash.
//! Event format: https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html

use base64::Engine;
use lambda_http::aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use lambda_http::http::header::{HeaderName, HOST};
use lambda_http::http::Uri;
use lambda_http::request::LambdaRequest;
use serde_json::{Map, Value};
use tally::http::response::Response;
use tally::ApiError;

/// The longest URI `http::Uri` accepts; longer ones are 414.
const MAX_URI: usize = u16::MAX as usize - 1;

/// Repairs `event` (bytes a URI may not hold are percent-encoded, as a client should have sent
/// them: the decoded text is the same) and reads it as the request `lambda_http` converts;
/// what cannot be repaired is a 400 (414 for a URI over 64 KiB) naming the field.
pub fn request(event: Value) -> Result<LambdaRequest, ApiError> {
    let Value::Object(mut event) = event else {
        return Err(ApiError::BadRequest(
            "the event is not an API Gateway HTTP API event (not a JSON object)".into(),
        ));
    };
    repair(&mut event);
    check_method(&event)?;
    check_body(&event)?;
    let request: ApiGatewayV2httpRequest =
        serde_json::from_value(Value::Object(event)).map_err(|err| {
            ApiError::BadRequest(format!(
                "the event is not an API Gateway HTTP API event: {err}"
            ))
        })?;
    check_uri(&request)?;
    Ok(LambdaRequest::ApiGatewayV2(request))
}

/// Percent-encodes what a URI path or query may not hold, in place.
fn repair(event: &mut Map<String, Value>) {
    for key in ["rawPath", "path"] {
        if let Some(Value::String(path)) = event.get_mut(key) {
            if !path.starts_with('/') {
                path.insert(0, '/');
            }
            *path = encode(path, in_path);
        }
    }
    if let Some(Value::String(query)) = event.get_mut("rawQueryString") {
        *query = encode(query, |b| in_path(b) || b == b'?');
    }
    if let Some(Value::String(stage)) = event
        .get_mut("requestContext")
        .and_then(|context| context.get_mut("stage"))
    {
        *stage = encode(stage, |b| in_path(b) && b != b'/');
    }
}

/// RFC 3986 `pchar` and `/`: unreserved, sub-delims, `:` and `@` (https://www.rfc-editor.org/rfc/rfc3986#section-3.3).
fn in_path(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&byte)
}

/// `text` with every byte `keep` refuses percent-encoded; a `%` starts a kept triplet only
/// when two hex digits follow it, otherwise it is itself encoded (`%25`).
fn encode(text: &str, keep: impl Fn(u8) -> bool) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(bytes.len());
    for (i, &byte) in bytes.iter().enumerate() {
        let triplet = byte == b'%'
            && bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
        if triplet || (byte != b'%' && keep(byte)) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// An empty method is not read as GET (what `aws_lambda_events` would make of it).
fn check_method(event: &Map<String, Value>) -> Result<(), ApiError> {
    match event
        .get("requestContext")
        .and_then(|c| c["http"].get("method"))
    {
        Some(Value::String(method)) if method.is_empty() => Err(ApiError::field(
            "requestContext.http.method",
            "empty; an HTTP method is required",
        )),
        _ => Ok(()),
    }
}

/// A body marked base64 must decode, as `lambda_http` decodes it with `expect`.
fn check_body(event: &Map<String, Value>) -> Result<(), ApiError> {
    let (Some(Value::Bool(true)), Some(Value::String(body))) =
        (event.get("isBase64Encoded"), event.get("body"))
    else {
        return Ok(());
    };
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map(drop)
        .map_err(|err| ApiError::field("body", format!("isBase64Encoded is true but {err}")))
}

/// The URI `lambda_http` builds (and unwraps) must parse: the same host, scheme and path it
/// takes, through the same parsers. The Host is not repaired: RFC 9112 section 3.2 answers an
/// invalid one 400 (https://www.rfc-editor.org/rfc/rfc9112#section-3.2).
fn check_uri(request: &ApiGatewayV2httpRequest) -> Result<(), ApiError> {
    let path = with_stage(request);
    let host = request
        .headers
        .get(HOST)
        .and_then(|host| host.to_str().ok())
        .or(request.request_context.domain_name.as_deref());
    let origin = match host {
        None => "http://localhost".to_string(),
        Some(host) => {
            let scheme = request
                .headers
                .get(HeaderName::from_static("x-forwarded-proto"))
                .and_then(|s| s.to_str().ok())
                .unwrap_or("https");
            format!("{scheme}://{host}")
        }
    };
    let url = url::Url::parse(&format!("{origin}{path}")).map_err(|err| {
        ApiError::field(
            "host",
            format!("{origin:?} (with x-forwarded-proto) is not a usable origin: {err}"),
        )
    })?;
    // Without a host, `lambda_http` keeps only the parsed path.
    let mut uri = match host {
        None => url.path().to_string(),
        Some(_) => url.to_string(),
    };
    if let Some(query) = request
        .raw_query_string
        .as_deref()
        .filter(|q| !q.is_empty())
    {
        uri.push('?');
        uri.push_str(query);
    }
    if uri.len() > MAX_URI {
        return Err(ApiError::UriTooLong(format!(
            "the URI is {} bytes; at most {MAX_URI} are accepted",
            uri.len()
        )));
    }
    Uri::try_from(uri.as_str())
        .map(drop)
        .map_err(|err| ApiError::BadRequest(format!("the request URI is not valid: {err}")))
}

/// The path `lambda_http` gives the request: the raw path behind a named stage (not `$default`)
/// unless `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` is set.
fn with_stage(request: &ApiGatewayV2httpRequest) -> String {
    let path = request.raw_path.clone().unwrap_or_default();
    match request.request_context.stage.as_deref() {
        Some(stage)
            if stage != "$default"
                && std::env::var_os("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH").is_none()
                && !path.starts_with(&format!("/{stage}/")) =>
        {
            format!("/{stage}{path}")
        }
        _ => path,
    }
}

/// `resp` in the HTTP API's response format (what `lambda_http` sends for a converted request).
pub fn response(resp: Response) -> ApiGatewayV2httpResponse {
    let (parts, body) = resp.into_parts();
    let mut shaped = ApiGatewayV2httpResponse::default();
    shaped.status_code = i64::from(parts.status.as_u16());
    shaped.headers = parts.headers;
    shaped.is_base64_encoded = matches!(body, lambda_http::Body::Binary(_));
    shaped.body = Some(body);
    shaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_keeps_valid_triplets_and_encodes_the_rest() {
        assert_eq!(
            encode("a b\"<>{}|^`\\é", in_path),
            "a%20b%22%3C%3E%7B%7D%7C%5E%60%5C%C3%A9"
        );
        assert_eq!(encode("%41%zz%4%", in_path), "%41%25zz%254%25");
        assert_eq!(encode("/people/1;x=@:", in_path), "/people/1;x=@:");
    }

    /// Every character in every field that reaches the URI either converts (no panic) or is a 4xx.
    #[test]
    fn whatever_passes_converts_without_panicking() {
        let fields: [fn(&mut Value) -> &mut Value; 5] = [
            |e| &mut e["rawQueryString"],
            |e| &mut e["rawPath"],
            |e| &mut e["headers"]["host"],
            |e| &mut e["headers"]["x-forwarded-proto"],
            |e| &mut e["requestContext"]["stage"],
        ];
        let texts = (0u8..128)
            .map(|b| char::from(b).to_string())
            .chain(["é😀", "%", "%g1", ":1", "[::1]", "a:b:c", "", "/"].map(String::from));
        for text in texts {
            for field in fields {
                let mut event = serde_json::json!({
                    "rawPath": "/p", "rawQueryString": "a=1",
                    "headers": { "host": "example.com", "x-forwarded-proto": "https" },
                    "requestContext": { "stage": "$default", "http": { "method": "GET" } },
                });
                *field(&mut event) = Value::String(format!("x{text}y"));
                if text == "/" {
                    // No host at all: the path alone becomes the URI ("//y", "/x/y").
                    event["headers"] = serde_json::json!({});
                    event["rawPath"] = Value::String(format!("/{text}y"));
                }
                match request(event) {
                    Ok(converted) => drop(lambda_http::Request::from(converted)),
                    Err(err) => assert!(err.status().is_client_error(), "{text:?}: {err}"),
                }
            }
        }
    }
}
