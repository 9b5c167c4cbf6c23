//! What every request goes through around its handler, in a Lambda binary and in the local API
//! alike: the 1 MiB body limit (API Gateway passes up to 10 MB to Lambda, so the handlers
//! enforce it, not a server in front), the request deadline, and the one mapping of errors.
//! Limits: https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html

use crate::handler::Reply;
use crate::{HandlerResult, Request};
use std::time::Duration;
use tally::deadline::Deadline;
use tally::http::request::{body_bytes, screen};
use tally::http::response::{error, respond, Response};
use tally::StoreError;

/// Runs `handler` on `req`, which has `time_left` before its invocation is cut off: a body
/// over 1 MiB is 413 before the handler runs, and a handler still running at the deadline is
/// dropped and answered 503 with `Retry-After`.
pub async fn invoke(
    handler: impl FnOnce(Request) -> Reply,
    mut req: Request,
    time_left: Duration,
) -> Response {
    if let Err(err) = body_bytes(&req) {
        return error(&err);
    }
    let deadline = Deadline::within(time_left);
    req.extensions_mut().insert(deadline);
    match tokio::time::timeout_at(deadline.instant(), call(handler, req)).await {
        Ok(result) => respond(result),
        Err(_) => {
            let cause = StoreError::Unavailable(format!(
                "the request's deadline ({time_left:?} less the margin) passed first"
            ));
            error(&cause.into())
        }
    }
}

/// Runs `handler` on a request that passed `screen` (what every route may read is readable).
async fn call(handler: impl FnOnce(Request) -> Reply, req: Request) -> HandlerResult {
    screen(&req)?;
    handler(req).await
}

/// What an invocation has left before Lambda ends it: its deadline (milliseconds since the
/// Unix epoch, from the Runtime API's `Lambda-Runtime-Deadline-Ms`) less now.
pub fn time_left(deadline_ms: u64) -> Duration {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Duration::from_millis(deadline_ms).saturating_sub(now)
}
