//! Handlers of the request statistics (contract section E).

use crate::{AppState, HandlerResult, Request};
use lambda_http::http::StatusCode;
use std::sync::Arc;
use tally::http::request::{body_bytes, origin, path_param};
use tally::http::response::json;
use tally::stats::{ranking_page, selftest, CountedPath, PathCount};
use tally::ApiError;

/// The scope that `/stats/` cursors are tied to.
const STATS_SCOPE: &str = "stats/ranking";

/// `GET /api/{proxy+}`: counts the raw path after `/api/`.
pub async fn count(state: Arc<AppState>, req: Request) -> HandlerResult {
    let path = CountedPath::from_request_path(req.uri().path())?;
    let count = state.stats.increment(&path).await?;
    Ok(json(
        StatusCode::OK,
        &PathCount {
            path: path.as_str().to_string(),
            count,
        },
    ))
}

/// `GET /stats/` and `GET /stats`: the ranking, paginated; the next cursor is in `Next-Cursor`.
pub async fn list(state: Arc<AppState>, req: Request) -> HandlerResult {
    let page = ranking_page(
        state.stats.as_ref(),
        &state.cursors.page_request(&req, STATS_SCOPE)?,
    )
    .await?;
    Ok(state.cursors.with_next(
        json(StatusCode::OK, &page.items),
        STATS_SCOPE,
        page.next.as_ref(),
    ))
}

/// `POST /test/{n}/` and `POST /test/{n}`: n real requests through the API, then the report.
pub async fn selftest(state: Arc<AppState>, req: Request) -> HandlerResult {
    let n = selftest::parse_requests(path_param(&req, "n")?)?;
    body_bytes(&req)?;
    let base = base_url(state.self_url.as_deref(), &req)?;
    Ok(json(StatusCode::OK, &selftest::run(&base, n).await?))
}

/// The configured base URL when set and non-empty, else the origin of the request.
fn base_url(configured: Option<&str>, req: &Request) -> Result<String, ApiError> {
    match configured.map(str::trim) {
        Some(url) if !url.is_empty() => Ok(url.to_string()),
        _ => origin(req),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::Body;

    #[test]
    fn the_configured_url_wins_over_the_request_origin() {
        let mut req = Request::new(Body::Empty);
        req.headers_mut()
            .insert("host", "api.example.com".parse().expect("header"));
        assert_eq!(
            base_url(Some("https://self.example"), &req).unwrap(),
            "https://self.example"
        );
        assert_eq!(base_url(Some(" "), &req).unwrap(), "http://api.example.com");
        assert_eq!(base_url(None, &req).unwrap(), "http://api.example.com");
    }
}
