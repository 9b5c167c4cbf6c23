//! Answers what no route matches (API Gateway's `$default`): 405 with `Allow` for a known path,
//! else a JSON 404. A path the contract serves with a trailing slash (`/stats/`, `/test/{n}/`)
//! may arrive here, since HTTP API route paths cannot end in `/`: it is answered by its route's
//! handler, the only handlers this binary links.

use crate::routes::{decode_params, find, Match};
use crate::{stats, AppState, HandlerResult, Request};
use lambda_http::RequestExt;
use std::sync::Arc;
use tally::ApiError;

pub async fn handle(state: Arc<AppState>, req: Request) -> HandlerResult {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    match find(&method, &path) {
        Match::Found { route, params, .. } => {
            let req = req.with_path_parameters(decode_params(params)?);
            match route.function {
                "stats-list" => stats::list(state, req).await,
                "stats-test" => stats::selftest(state, req).await,
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

fn not_found(method: &str, path: &str) -> ApiError {
    ApiError::NotFound(format!("no route for {method} {path}"))
}
