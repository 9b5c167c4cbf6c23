//! Handler of the dashboard page (`GET /dashboard`): the figures of every service as charts.

use crate::{HandlerResult, Request};
use lambda_http::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY};
use lambda_http::http::StatusCode;
use std::sync::Arc;
use tally::dashboard::{load, page};
use tally::date::today;
use tally::http::response::{html, with_header};
use tally::state::DashboardState;

/// `GET /dashboard`: always 200; a store that fails marks only its own section unavailable.
pub async fn page(state: Arc<DashboardState>, _req: Request) -> HandlerResult {
    let figures = load(&state, today()).await;
    let resp = html(StatusCode::OK, page::render(&figures));
    let resp = with_header(
        resp,
        CONTENT_SECURITY_POLICY,
        &page::content_security_policy(),
    );
    Ok(with_header(resp, CACHE_CONTROL, "no-store"))
}
