//! Handlers of the visit counter (contract section A).

use crate::{HandlerResult, Request};
use lambda_http::http::StatusCode;
use std::sync::Arc;
use tally::http::request::{form_body, path_param};
use tally::http::response::{html, json};
use tally::state::{NoState, VisitsState};
use tally::visits::{list_page, pages, Visit, VisitId};
use tally::ApiError;

/// The scope that `/database` cursors are tied to.
const DATABASE_SCOPE: &str = "visits/database";

/// `GET /`
pub async fn home(_state: Arc<NoState>, _req: Request) -> HandlerResult {
    Ok(html(StatusCode::OK, pages::front_page()))
}

/// `POST /form`
pub async fn form(state: Arc<VisitsState>, req: Request) -> HandlerResult {
    let fields = form_body(&req)?;
    let id = VisitId::parse(
        "id",
        fields.get("id").map(String::as_str).unwrap_or_default(),
    )?;
    let question = fields
        .get("question")
        .map(String::as_str)
        .unwrap_or_default();
    let count = state.store.increment(&id).await?;
    Ok(html(
        StatusCode::OK,
        pages::result_page(id.as_str(), question, count),
    ))
}

fn id_from_path(req: &Request) -> Result<VisitId, ApiError> {
    VisitId::parse("id", path_param(req, "id")?)
}

/// `POST /counters/{id}`
pub async fn increment(state: Arc<VisitsState>, req: Request) -> HandlerResult {
    let id = id_from_path(&req)?;
    let count = state.store.increment(&id).await?;
    Ok(json(
        StatusCode::OK,
        &Visit {
            id: id.as_str().to_string(),
            count,
        },
    ))
}

/// `GET /counters/{id}`
pub async fn count(state: Arc<VisitsState>, req: Request) -> HandlerResult {
    let id = id_from_path(&req)?;
    match state.store.count(&id).await? {
        Some(count) => Ok(json(
            StatusCode::OK,
            &Visit {
                id: id.as_str().to_string(),
                count,
            },
        )),
        None => Err(ApiError::NotFound(format!(
            "id: {} has never been counted",
            id.as_str()
        ))),
    }
}

/// `GET /database`: `{"<id>": count}` in id order; the next cursor travels in `Next-Cursor`.
pub async fn database(state: Arc<VisitsState>, req: Request) -> HandlerResult {
    let page = list_page(
        state.store.as_ref(),
        &state.cursors.page_request(&req, DATABASE_SCOPE)?,
    )
    .await?;
    let body: serde_json::Map<String, serde_json::Value> = page
        .items
        .into_iter()
        .map(|v| (v.id, v.count.into()))
        .collect();
    Ok(state.cursors.with_next(
        json(StatusCode::OK, &body),
        DATABASE_SCOPE,
        page.next.as_ref(),
    ))
}
