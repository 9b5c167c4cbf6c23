//! An HTTP/1.1 server that turns each request into the event API Gateway would send, routes it
//! as API Gateway would, and calls the function's handler in-process.

use crate::conn::{BODY_TIMEOUT, HEADER_TIMEOUT};
use crate::lambda::template::timeout_of;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use lambda_http::http::StatusCode;
use lambda_http::{Body, RequestExt};
use percent_encoding::percent_decode_str;
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tally::deadline::DEFAULT_TIMEOUT;
use tally::http::request::parse_query;
use tally::http::response::{error, text, Response};
use tally::http::{Request, MAX_BODY_BYTES};
use tally::{ApiError, AppState};
use tally_functions::dispatch::FALLBACK_HANDLER;
use tally_functions::invoke::invoke;
use tally_functions::routes::{decode_params, find, Match, FALLBACK_FUNCTION, HANDLERS, ROUTES};
use tokio::net::TcpListener;

/// The OpenAPI document, served by the local API (only) at `OPENAPI_PATH`.
pub const OPENAPI: &str = include_str!("../../openapi.yaml");
pub const OPENAPI_PATH: &str = "/openapi.yaml";

/// How long a client may take to send a request's headers and its body.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub headers: Duration,
    pub body: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            headers: HEADER_TIMEOUT,
            body: BODY_TIMEOUT,
        }
    }
}

/// Serves the API on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, state: Arc<AppState>) {
    serve_with(listener, state, Limits::default()).await;
}

/// Serves the API on `listener` with these time limits until the task is dropped.
pub async fn serve_with(listener: TcpListener, state: Arc<AppState>, limits: Limits) {
    crate::conn::accept_loop(listener, move |stream, _| {
        let state = Arc::clone(&state);
        async move {
            let service = service_fn(move |req| answer(Arc::clone(&state), req, limits.body));
            crate::conn::serve(stream, service, limits.headers).await;
        }
    })
    .await;
}

async fn answer(
    state: Arc<AppState>,
    req: hyper::Request<Incoming>,
    body_timeout: Duration,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let resp = crate::conn::logged(req, |req| async move {
        match into_event(req, body_timeout).await {
            Ok(event) => route(state, event).await,
            Err(err) => error(&err),
        }
    })
    .await;
    let (parts, body) = resp.into_parts();
    Ok(hyper::Response::from_parts(
        parts,
        Full::new(Bytes::copy_from_slice(body.as_ref())),
    ))
}

/// How much of a body above 1 MiB is read and discarded before the 413 is sent, so that the
/// client finishes sending and reads the answer (closing on unread data resets the connection,
/// and the client sees an error instead of the 413). Beyond this the connection is dropped.
const DRAIN_LIMIT: usize = 64 * MAX_BODY_BYTES;

/// The body, at most 1 MiB; a larger one is drained (up to `DRAIN_LIMIT`) and refused.
async fn read_body(mut body: Incoming) -> Result<Vec<u8>, ApiError> {
    let mut bytes = Vec::new();
    let mut seen = 0;
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|err| ApiError::field("body", format!("could not be read ({err})")))?;
        if let Ok(data) = frame.into_data() {
            seen += data.len();
            if seen <= MAX_BODY_BYTES {
                bytes.extend_from_slice(&data);
            } else if seen > DRAIN_LIMIT {
                break;
            }
        }
    }
    if seen > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge);
    }
    Ok(bytes)
}

/// Reads the body (at most 1 MiB, within `timeout`: a client that stops sending gets a 408
/// rather than holding the connection) and makes the event of the request.
async fn into_event(req: hyper::Request<Incoming>, timeout: Duration) -> Result<Request, ApiError> {
    let (parts, body) = req.into_parts();
    let bytes = tokio::time::timeout(timeout, read_body(body))
        .await
        .map_err(|_| {
            ApiError::RequestTimeout(format!(
                "body: not received within {} s",
                timeout.as_secs_f64()
            ))
        })??;
    Ok(event(parts, bytes))
}

/// The event API Gateway would send for a request and its body: the query parameters and the
/// raw path attached. Public so that tests can route arbitrary requests in-process.
pub fn event(parts: lambda_http::http::request::Parts, bytes: Vec<u8>) -> Request {
    let body = if bytes.is_empty() {
        Body::Empty
    } else {
        Body::from(bytes)
    };
    let mut query: HashMap<String, Vec<String>> = HashMap::new();
    // A query that does not decode is refused by `screen` before any handler runs.
    let pairs = parse_query(parts.uri.query().unwrap_or_default()).unwrap_or_default();
    for (name, value) in pairs {
        query.entry(name).or_default().push(value);
    }
    // API Gateway HTTP APIs hand Lambda a percent-decoded `rawPath`.
    let raw_path = percent_decode_str(parts.uri.path())
        .decode_utf8_lossy()
        .into_owned();
    Request::from_parts(parts, body)
        .with_query_string_parameters(query)
        .with_raw_http_path(raw_path)
}

/// Routes an event to its function's handler; what matches no route goes to the fallback.
pub async fn route(state: Arc<AppState>, event: Request) -> Response {
    if event.method() == lambda_http::http::Method::GET && event.uri().path() == OPENAPI_PATH {
        return text(StatusCode::OK, OPENAPI.to_string());
    }
    let found = match find(event.method().as_str(), event.uri().path()) {
        Match::Found { index, params, .. } => HANDLERS.get(index).map(|h| (*h, params, index)),
        _ => None,
    };
    let (handle, params, function) = match found {
        Some((handle, params, index)) => (handle, params, ROUTES[index].function),
        None => (FALLBACK_HANDLER, Vec::new(), FALLBACK_FUNCTION),
    };
    let params = match decode_params(params) {
        Ok(params) => params,
        Err(err) => return error(&err),
    };
    let time_left = timeout_of(function).unwrap_or(DEFAULT_TIMEOUT);
    isolated(invoke(
        move |req| handle(&state, req),
        event.with_path_parameters(params),
        time_left,
    ))
    .await
}

/// Runs one request's handling on its own task, so that a panic in it (the `local` profile
/// unwinds: Cargo.toml) ends that request with a logged 500, never its connection or the
/// process.
async fn isolated(answer: impl Future<Output = Response> + Send + 'static) -> Response {
    match tokio::spawn(answer).await {
        Ok(resp) => resp,
        Err(err) => error(&ApiError::Internal(format!(
            "the handler did not finish: {err}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_is_a_500_and_the_server_goes_on() {
        let resp = isolated(async { panic!("a bug") }).await;
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let ok = isolated(async { text(StatusCode::OK, "pong".into()) }).await;
        assert_eq!(ok.status(), StatusCode::OK);
    }
}
