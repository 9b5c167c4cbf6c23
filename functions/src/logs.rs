//! Handlers of the event logs (contract section D).

use crate::once::once;
use crate::{HandlerResult, Request};
use lambda_http::http::StatusCode;
use serde_json::json;
use std::sync::Arc;
use tally::http::request::{json_body, query_param};
use tally::http::response::json;
use tally::logs::{cursor_scope, record as record_actions, LogFilter, LogPage, LogPositions};
use tally::state::{Keyed, LogsState};

/// `POST /log`, at most once per `Idempotency-Key`.
pub async fn record(state: Arc<Keyed<LogsState>>, req: Request) -> HandlerResult {
    once(state, req, record_body).await
}

async fn record_body(state: Arc<Keyed<LogsState>>, req: Request) -> HandlerResult {
    let done = record_actions(state.store.as_ref(), state.keys.as_ref(), json_body(&req)?).await?;
    let mut body = json!({"success": true, "stored": done.stored});
    if done.with_ids {
        body["duplicates"] = done.duplicates.into();
    }
    Ok(json(StatusCode::OK, &body))
}

/// `GET /log`: `{"result": [...], "nextCursor"?}` in time order.
pub async fn query(state: Arc<LogsState>, req: Request) -> HandlerResult {
    let filter = LogFilter::parse(
        query_param(&req, "userId"),
        query_param(&req, "type"),
        query_param(&req, "startTime"),
        query_param(&req, "endTime"),
    )?;
    let scope = cursor_scope(state.store.as_ref(), &filter);
    let page = state.cursors.page_request::<LogPositions>(&req, &scope)?;
    let found = state
        .store
        .find(&filter, page.after.as_ref(), page.limit)
        .await?;
    let body = LogPage {
        result: found.items,
        next_cursor: found.next.map(|next| state.cursors.encode(&scope, &next)),
    };
    Ok(json(StatusCode::OK, &body))
}
