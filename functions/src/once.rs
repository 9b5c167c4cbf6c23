//! `Idempotency-Key` on the counting and creating routes (contract G): claims the key, runs the
//! route's handler, keeps its answer; a retry of the same request is answered from the record
//! with `Idempotency-Replayed: true` and counts nothing (`docs/once.md`).

use crate::{HandlerResult, Request};
use lambda_http::http::header::{HeaderValue, CONTENT_TYPE, LOCATION};
use lambda_http::http::StatusCode;
use lambda_http::Body;
use std::future::Future;
use std::sync::Arc;
use tally::http::response::{respond, Response};
use tally::once::{self, fingerprint, Answer, Claim, IdempotencyKey, Record, HEADER, REPLAYED};
use tally::state::Keyed;
use tally::ApiError;

/// Runs `handler` at most once per key: the request without a key as before; with one, as
/// described above.
pub async fn once<S, F>(
    state: Arc<Keyed<S>>,
    req: Request,
    handler: fn(Arc<Keyed<S>>, Request) -> F,
) -> HandlerResult
where
    F: Future<Output = HandlerResult>,
{
    let Some(raw) = req.headers().get(HEADER) else {
        return handler(state, req).await;
    };
    let key = IdempotencyKey::parse(raw.as_bytes())?;
    let now = once::now();
    let record = Record::claim(&request_fingerprint(&req), now);
    match state.keys.claim(&key.stored(), &record, now).await? {
        Claim::New(token) => {
            let resp = respond(handler(Arc::clone(&state), req).await);
            settle(&state, &key, &token, &resp).await;
            Ok(resp)
        }
        Claim::Done(answer) => Ok(replayed(response(answer))),
        Claim::OtherRequest => Err(ApiError::Unprocessable(format!(
            "{HEADER}: was used by another request (method, path, query or body differ) \
             within the last 24 hours; use a new key"
        ))),
        Claim::InFlight => Err(ApiError::InFlight(format!(
            "{HEADER}: the first request with this key is still being processed; retry shortly"
        ))),
    }
}

/// Whether `resp` is a replay (`once`).
pub fn is_replay(resp: &Response) -> bool {
    resp.headers().contains_key(REPLAYED)
}

/// The request's method, path, query and body, hashed.
fn request_fingerprint(req: &Request) -> String {
    let uri = req.uri();
    fingerprint(
        req.method().as_str(),
        uri.path(),
        uri.query().unwrap_or_default(),
        req.body().as_ref(),
    )
}

/// Keeps a success's answer under the key; frees the key of anything else (nothing was
/// counted or stored, so a retry may run). A failure to do either is logged: the answer is
/// still the request's, and the claim's lease frees the key in time.
async fn settle<S>(state: &Keyed<S>, key: &IdempotencyKey, token: &str, resp: &Response) {
    let kept = if resp.status().is_success() {
        state
            .keys
            .complete(&key.stored(), token, &answer(resp))
            .await
    } else {
        state.keys.release(&key.stored(), token).await
    };
    if let Err(err) = kept {
        tracing::error!(error = %err, key = key.as_str(), "idempotency key not settled");
    }
}

/// What a replay repeats of a response.
fn answer(resp: &Response) -> Answer {
    let header = |name| {
        resp.headers()
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(String::from)
    };
    Answer {
        status: resp.status().as_u16(),
        content_type: header(CONTENT_TYPE).unwrap_or_default(),
        location: header(LOCATION),
        body: resp.body().as_ref().to_vec(),
    }
}

/// A stored answer as a response.
fn response(answer: Answer) -> Response {
    let body = match String::from_utf8(answer.body) {
        Ok(text) => Body::Text(text),
        Err(bytes) => Body::Binary(bytes.into_bytes()),
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let headers = [
        (CONTENT_TYPE, Some(answer.content_type)),
        (LOCATION, answer.location),
    ];
    for (name, value) in headers {
        if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            resp.headers_mut().insert(name, value);
        }
    }
    resp
}

/// Marks a response as a replay.
pub fn replayed(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(REPLAYED, HeaderValue::from_static("true"));
    resp
}
