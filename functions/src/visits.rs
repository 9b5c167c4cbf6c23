//! Handlers of the visit counter (contract section A).

use crate::once::once;
use crate::{HandlerResult, Request};
use lambda_http::http::StatusCode;
use std::sync::Arc;
use tally::http::request::{form_body, path_param, query_param};
use tally::http::response::{html, json};
use tally::series::{count_answer, SeriesRange};
use tally::state::{Keyed, NoState, VisitCounterState, VisitsState};
use tally::visits::{count_visit, counter_series, list_page, pages, Visit, VisitId};
use tally::ApiError;

/// The scope that `/database` cursors are tied to.
const DATABASE_SCOPE: &str = "visits/database";

/// `GET /`
pub async fn home(_state: Arc<NoState>, _req: Request) -> HandlerResult {
    Ok(html(StatusCode::OK, pages::front_page()))
}

/// `POST /form`, at most once per `Idempotency-Key`.
pub async fn form(state: Arc<Keyed<VisitCounterState>>, req: Request) -> HandlerResult {
    once(state, req, count_form).await
}

async fn count_form(state: Arc<Keyed<VisitCounterState>>, req: Request) -> HandlerResult {
    let fields = form_body(&req)?;
    let id = VisitId::parse(
        "id",
        fields.get("id").map(String::as_str).unwrap_or_default(),
    )?;
    let question = fields
        .get("question")
        .map(String::as_str)
        .unwrap_or_default();
    let count = count_visit(state.store.as_ref(), state.series.as_ref(), &id).await?;
    Ok(html(
        StatusCode::OK,
        pages::result_page(id.as_str(), question, count),
    ))
}

fn id_from_path(req: &Request) -> Result<VisitId, ApiError> {
    VisitId::parse("id", path_param(req, "id")?)
}

fn never_counted(id: &VisitId) -> ApiError {
    ApiError::NotFound(format!("id: {} has never been counted", id.as_str()))
}

/// `POST /counters/{id}`, at most once per `Idempotency-Key`.
pub async fn increment(state: Arc<Keyed<VisitCounterState>>, req: Request) -> HandlerResult {
    once(state, req, count_increment).await
}

async fn count_increment(state: Arc<Keyed<VisitCounterState>>, req: Request) -> HandlerResult {
    let id = id_from_path(&req)?;
    let count = count_visit(state.store.as_ref(), state.series.as_ref(), &id).await?;
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
        None => Err(never_counted(&id)),
    }
}

/// `GET /counters/{id}/series`: the counter's count per hour or day (contract section F).
pub async fn series(state: Arc<VisitCounterState>, req: Request) -> HandlerResult {
    let id = id_from_path(&req)?;
    let range = SeriesRange::from_query(|name| query_param(&req, name))?;
    let stored = counter_series(state.store.as_ref(), state.series.as_ref(), &id, &range)
        .await?
        .ok_or_else(|| never_counted(&id))?;
    let body = count_answer(("id", id.as_str()), &range, stored);
    Ok(json(StatusCode::OK, &body))
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
