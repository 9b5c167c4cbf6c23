//! Answers what no route matches (API Gateway's `$default`): 405 with `Allow` for a known path,
//! else a JSON 404. A path the contract serves with a trailing slash may arrive here, since HTTP
//! API route paths cannot end in `/`: `/stats/` is answered by its route's handler, the only one
//! this binary links; `/test/{n}/` is sent on to `/test/{n}` (308), because `$default` has no
//! IAM authorization and the self test must not run for a caller `/test/{n}` would refuse.

use crate::routes::{decode_params, find, Match};
use crate::{stats, HandlerResult, Request};
use lambda_http::http::{header::LOCATION, StatusCode};
use lambda_http::RequestExt;
use std::sync::Arc;
use tally::http::response::{json, with_header};
use tally::state::StatsState;
use tally::ApiError;

pub async fn handle(state: Arc<StatsState>, req: Request) -> HandlerResult {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    match find(&method, &path) {
        Match::Found { route, params, .. } => {
            let req = req.with_path_parameters(decode_params(params)?);
            match route.function {
                "stats-list" => stats::list(state, req).await,
                "stats-test" => Ok(to_authorized_route(&path)),
                _ => Err(not_found(&method, &path)),
            }
        }
        Match::WrongMethod { allow } => Err(ApiError::MethodNotAllowed {
            method,
            allow: allow.join(", "),
        }),
        Match::NotFound => Err(not_found(&method, &path)),
    }
}

/// 308 to the same path without its trailing slash: same method and body, through the route
/// whose authorization API Gateway enforces (RFC 9110 section 15.4.9).
fn to_authorized_route(path: &str) -> tally::http::Response {
    let target = path.trim_end_matches('/');
    let body = serde_json::json!({
        "success": false,
        "message": format!("POST {target} (no trailing slash) runs the self test; it needs IAM authorization"),
    });
    with_header(
        json(StatusCode::PERMANENT_REDIRECT, &body),
        LOCATION,
        target,
    )
}

fn not_found(method: &str, path: &str) -> ApiError {
    ApiError::NotFound(format!("no route for {method} {path}"))
}
