//! Handlers of the ad statistics (contract section C).

use crate::{HandlerResult, Request};
use lambda_http::http::StatusCode;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use tally::ads::{self, AdParams, StatsKey};
use tally::deadline::Deadline;
use tally::http::request::query_param;
use tally::http::response::{json, xml};
use tally::state::AdsState;

fn ad_params(req: &Request) -> Result<AdParams, tally::ApiError> {
    AdParams::parse(|name| query_param(req, name))
}

/// `GET /ad`: the ad server's VAST XML, unchanged.
pub async fn ad(state: Arc<AdsState>, req: Request) -> HandlerResult {
    let params = ad_params(&req)?;
    let body = ads::request_ad(
        state.store.as_ref(),
        &state.ad_server,
        &params,
        Deadline::of(&req),
    )
    .await?;
    Ok(xml(StatusCode::OK, body))
}

/// `GET /impression`
pub async fn impression(state: Arc<AdsState>, req: Request) -> HandlerResult {
    let params = ad_params(&req)?;
    ads::record_impression(state.store.as_ref(), &params).await?;
    Ok(json(
        StatusCode::OK,
        &json!({"success": true, "message": "Successfully fetched"}),
    ))
}

/// `GET /statistics`: `{"success": true, "<name>": stats, "stats": stats}`. The figures are
/// always under `stats`; under the name too, unless the name is `success`, whose flag it would
/// replace (a user named `stats` finds the same figures under the one key).
pub async fn statistics(state: Arc<AdsState>, req: Request) -> HandlerResult {
    let key = StatsKey::parse(|name| query_param(&req, name))?;
    let stats = json!(ads::statistics(state.store.as_ref(), &key).await?);
    let mut body = Map::new();
    body.insert("success".into(), Value::Bool(true));
    if key.name != "success" {
        body.insert(key.name, stats.clone());
    }
    body.insert("stats".into(), stats);
    Ok(json(StatusCode::OK, &body))
}
