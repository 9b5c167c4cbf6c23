//! Shaping responses: JSON, HTML and text bodies, and the one mapping of errors to responses.

use super::{Body, HandlerResult};
use crate::ApiError;
use lambda_http::http::header::{HeaderName, HeaderValue, ALLOW, CONTENT_TYPE, RETRY_AFTER};
use lambda_http::http::StatusCode;
use serde::Serialize;

pub type Response = lambda_http::Response<Body>;

/// Seconds a client should wait before retrying after a store failure.
pub const RETRY_AFTER_SECONDS: &str = "1";

fn with_body(status: StatusCode, content_type: &'static str, body: String) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// A JSON response. Serialising Tally's own types cannot fail; if it ever did, say so as JSON.
pub fn json<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_string(body) {
        Ok(text) => with_body(status, "application/json", text),
        Err(err) => {
            tracing::error!(error = %err, "response did not serialise");
            error_body(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}

pub fn html(status: StatusCode, body: String) -> Response {
    with_body(status, "text/html; charset=utf-8", body)
}

pub fn text(status: StatusCode, body: String) -> Response {
    with_body(status, "text/plain; charset=utf-8", body)
}

pub fn xml(status: StatusCode, body: Vec<u8>) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    resp
}

/// Adds a header whose value Tally built; a value that is not a valid header is left out.
pub fn with_header(mut resp: Response, name: HeaderName, value: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(value) {
        resp.headers_mut().insert(name, value);
    }
    resp
}

fn error_body(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "success": false, "message": message });
    with_body(status, "application/json", body.to_string())
}

/// The one place an `ApiError` becomes a response; store failures are logged with their cause.
pub fn error(err: &ApiError) -> Response {
    let resp = error_body(err.status(), &err.to_string());
    match err {
        ApiError::Store(cause) if cause.is_transient() => {
            tracing::error!(error = %cause, "store unavailable");
            with_header(resp, RETRY_AFTER, RETRY_AFTER_SECONDS)
        }
        ApiError::Store(cause) => {
            tracing::error!(error = %cause, "store failure");
            resp
        }
        ApiError::Internal(cause) => {
            tracing::error!(error = %cause, "internal error");
            resp
        }
        ApiError::MethodNotAllowed { allow, .. } => with_header(resp, ALLOW, allow),
        ApiError::InFlight(_) => with_header(resp, RETRY_AFTER, RETRY_AFTER_SECONDS),
        _ => resp,
    }
}

/// Turns a handler's result into the response to send.
pub fn respond(result: HandlerResult) -> Response {
    result.unwrap_or_else(|err| error(&err))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StoreError;

    fn body_json(resp: &Response) -> serde_json::Value {
        serde_json::from_slice(resp.body().as_ref()).expect("JSON body")
    }

    #[test]
    fn errors_are_json_envelopes() {
        let resp = error(&ApiError::field("id", "is required"));
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert_eq!(resp.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(
            body_json(&resp),
            serde_json::json!({"success": false, "message": "id: is required"})
        );
    }

    #[test]
    fn store_errors_carry_retry_after() {
        let resp = error(&StoreError::Unavailable("down".into()).into());
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(resp.headers()[RETRY_AFTER], RETRY_AFTER_SECONDS);
        let permanent = error(&StoreError::Failed("ValidationException".into()).into());
        assert_eq!(permanent.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(permanent.headers().get(RETRY_AFTER).is_none());
    }

    #[test]
    fn method_not_allowed_carries_allow() {
        let err = ApiError::MethodNotAllowed {
            method: "PUT".into(),
            allow: "GET, POST".into(),
        };
        assert_eq!(error(&err).headers()[ALLOW], "GET, POST");
    }
}
