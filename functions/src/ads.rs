//! Handlers of the ad statistics (contract section C).

use crate::once::{is_replay, once, replayed};
use crate::{HandlerResult, Request};
use lambda_http::http::StatusCode;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use tally::ads::{self, AdParams, StatsKey};
use tally::deadline::Deadline;
use tally::http::request::query_param;
use tally::http::response::{json, xml};
use tally::state::{AdsState, Keyed};

fn ad_params(req: &Request) -> Result<AdParams, tally::ApiError> {
    AdParams::parse(|name| query_param(req, name))
}

/// `GET /ad`: the ad server's VAST XML, unchanged. The request is counted at most once per
/// `Idempotency-Key`; the ad is fetched for every request, a replay too.
pub async fn ad(state: Arc<Keyed<AdsState>>, req: Request) -> HandlerResult {
    ad_params(&req)?;
    let deadline = Deadline::of(&req);
    let counted = once(Arc::clone(&state), req, count_ad).await?;
    if !counted.status().is_success() {
        return Ok(counted);
    }
    let resp = xml(
        StatusCode::OK,
        ads::fetch_ad(&state.ad_server, deadline).await?,
    );
    Ok(if is_replay(&counted) {
        replayed(resp)
    } else {
        resp
    })
}

/// `GET /ad`'s count, whose answer is what its key keeps.
async fn count_ad(state: Arc<Keyed<AdsState>>, req: Request) -> HandlerResult {
    ads::count_ad_request(state.store.as_ref(), &ad_params(&req)?).await?;
    Ok(json(
        StatusCode::OK,
        &json!({"success": true, "counted": "ad_request"}),
    ))
}

/// `GET /impression`, at most once per `Idempotency-Key`.
pub async fn impression(state: Arc<Keyed<AdsState>>, req: Request) -> HandlerResult {
    once(state, req, count_impression).await
}

async fn count_impression(state: Arc<Keyed<AdsState>>, req: Request) -> HandlerResult {
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
