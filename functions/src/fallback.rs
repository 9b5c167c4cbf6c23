//! Answers what no route matches: 405 with `Allow` for a known path, else a JSON 404.

use crate::routes::{find, Match};
use crate::{AppState, HandlerResult, Request};
use std::sync::Arc;
use tally::ApiError;

pub async fn handle(_state: Arc<AppState>, req: Request) -> HandlerResult {
    let method = req.method().as_str();
    Err(match find(method, req.uri().path()) {
        Match::WrongMethod { allow } => ApiError::MethodNotAllowed {
            method: method.to_string(),
            allow: allow.join(", "),
        },
        _ => ApiError::NotFound(format!("no route for {method} {}", req.uri().path())),
    })
}
