//! Handlers of the request statistics (contract section E).

use crate::once::once;
use crate::{HandlerResult, Request};
use lambda_http::http::StatusCode;
use lambda_http::request::RequestContext;
use lambda_http::RequestExt;
use std::sync::Arc;
use tally::http::request::{body_bytes, path_param, query_param};
use tally::http::response::json;
use tally::series::{count_answer, SeriesRange};
use tally::state::{Keyed, SelfTestState, StatsCounterState, StatsState};
use tally::stats::{count_path, path_series, ranking_page, selftest, CountedPath, PathCount};
use tally::ApiError;

/// The scope that `/stats/` cursors are tied to.
const STATS_SCOPE: &str = "stats/ranking";

/// `GET /api/{proxy+}`: counts the decoded path after `/api/` (the `proxy` parameter), at
/// most once per `Idempotency-Key`.
pub async fn count(state: Arc<Keyed<StatsCounterState>>, req: Request) -> HandlerResult {
    once(state, req, count_path_of).await
}

async fn count_path_of(state: Arc<Keyed<StatsCounterState>>, req: Request) -> HandlerResult {
    let path = CountedPath::from_proxy(path_param(&req, "proxy")?)?;
    let count = count_path(state.store.as_ref(), state.series.as_ref(), &path).await?;
    Ok(json(
        StatusCode::OK,
        &PathCount {
            path: path.as_str().to_string(),
            count,
        },
    ))
}

/// `GET /stats/series?path=a/b`: a counted path's requests per hour or day (contract F).
pub async fn series(state: Arc<StatsCounterState>, req: Request) -> HandlerResult {
    let raw = query_param(&req, "path").ok_or_else(|| ApiError::field("path", "is required"))?;
    let path = CountedPath::from_query("path", raw)?;
    let range = SeriesRange::from_query(|name| query_param(&req, name))?;
    let stored = path_series(state.store.as_ref(), state.series.as_ref(), &path, &range)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("path: {raw} has never been counted")))?;
    let body = count_answer(("path", path.as_str()), &range, stored);
    Ok(json(StatusCode::OK, &body))
}

/// `GET /stats/` and `GET /stats`: the ranking, paginated; the next cursor is in `Next-Cursor`.
pub async fn list(state: Arc<StatsState>, req: Request) -> HandlerResult {
    let page = ranking_page(
        state.store.as_ref(),
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
pub async fn selftest(state: Arc<SelfTestState>, req: Request) -> HandlerResult {
    let n = selftest::parse_requests(path_param(&req, "n")?)?;
    body_bytes(&req)?;
    let base = base_url(state.self_url.as_deref(), &req)?;
    Ok(json(StatusCode::OK, &selftest::run(&base, n).await?))
}

/// Where the self-test sends its requests: the configured URL (`TALLY_SELF_URL`; the local API
/// sets it to its own listen address), else the API's own domain as API Gateway reports it in
/// the request context (which only ever names this API). Never the `Host` header: a client
/// could name any host and port there, and learn from `failed` whether it answers.
fn base_url(configured: Option<&str>, req: &Request) -> Result<String, ApiError> {
    if let Some(url) = configured {
        return Ok(url.to_string());
    }
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => match context.domain_name.as_deref() {
            Some(domain) if !domain.is_empty() => Ok(match context.stage.as_deref() {
                None | Some("$default") => format!("https://{domain}"),
                Some(stage) => format!("https://{domain}/{stage}"),
            }),
            _ => Err(not_configured()),
        },
        _ => Err(not_configured()),
    }
}

fn not_configured() -> ApiError {
    tracing::error!("POST /test: neither TALLY_SELF_URL nor a request context names the API");
    ApiError::BadGateway("test: the API's own address is not known; set TALLY_SELF_URL".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
    use lambda_http::{Body, RequestExt};

    fn with_host(host: &str) -> Request {
        let mut req = Request::new(Body::Empty);
        req.headers_mut()
            .insert("host", host.parse().expect("header"));
        req
    }

    #[test]
    fn the_configured_url_wins_and_the_host_header_is_never_used() {
        let req = with_host("127.0.0.1:18282");
        assert_eq!(
            base_url(Some("https://self.example"), &req).unwrap(),
            "https://self.example"
        );
        let err = base_url(None, &req).expect_err("Host is not where requests go");
        assert!(err.to_string().contains("TALLY_SELF_URL"), "{err}");
    }

    #[test]
    fn in_aws_the_request_context_names_the_api() {
        let mut context = ApiGatewayV2httpRequestContext::default();
        context.domain_name = Some("abc123.execute-api.us-east-1.amazonaws.com".into());
        context.stage = Some("$default".into());
        let req = with_host("evil.example:22")
            .with_request_context(RequestContext::ApiGatewayV2(context.clone()));
        assert_eq!(
            base_url(None, &req).unwrap(),
            "https://abc123.execute-api.us-east-1.amazonaws.com"
        );
        context.stage = Some("prod".into());
        let staged = with_host("x").with_request_context(RequestContext::ApiGatewayV2(context));
        assert!(base_url(None, &staged).unwrap().ends_with(".com/prod"));
    }
}
