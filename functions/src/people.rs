//! Handlers of the people directory (contract section B).

use crate::once::once;
use crate::{HandlerResult, Request};
use lambda_http::http::header::LOCATION;
use lambda_http::http::StatusCode;
use std::sync::Arc;
use tally::date;
use tally::http::request::{json_object, path_param};
use tally::http::response::{json, text, with_header};
use tally::people::{self, age, input, PersonId};
use tally::state::{Keyed, NoState, PeopleState};
use tally::ApiError;

/// The scopes that `/people` and `/people/age` cursors are tied to.
const LIST_SCOPE: &str = "people/list";
const AGE_SCOPE: &str = "people/age";

/// `GET /ping`
pub async fn ping(_state: Arc<NoState>, _req: Request) -> HandlerResult {
    Ok(text(StatusCode::OK, "pong".into()))
}

/// `GET /people`: by id, paginated; the next cursor travels in `Next-Cursor`.
pub async fn list(state: Arc<PeopleState>, req: Request) -> HandlerResult {
    let page = people::list_page(
        state.store.as_ref(),
        &state.cursors.page_request(&req, LIST_SCOPE)?,
    )
    .await?;
    let resp = json(StatusCode::OK, &page.items);
    Ok(state
        .cursors
        .with_next(resp, LIST_SCOPE, page.next.as_ref()))
}

/// `GET /people/age`: youngest first, as of today (UTC), paginated.
pub async fn by_age(state: Arc<PeopleState>, req: Request) -> HandlerResult {
    let request = state.cursors.page_request(&req, AGE_SCOPE)?;
    let page = age::page(state.store.as_ref(), &request, date::today()).await?;
    let resp = json(StatusCode::OK, &page.items);
    Ok(state.cursors.with_next(resp, AGE_SCOPE, page.next.as_ref()))
}

/// `GET /ids/lastname/{lastname}`
pub async fn ids_by_last_name(state: Arc<PeopleState>, req: Request) -> HandlerResult {
    let last = path_param(&req, "lastname")?;
    let ids = people::ids_by_last_name(state.store.as_ref(), last).await?;
    Ok(json(StatusCode::OK, &ids))
}

/// `GET /people/{id}`
pub async fn get(state: Arc<PeopleState>, req: Request) -> HandlerResult {
    let id = PersonId::parse("id", path_param(&req, "id")?)?;
    match state.store.get(id).await? {
        Some(person) => Ok(json(StatusCode::OK, &person)),
        None => Err(ApiError::NotFound(format!(
            "id: no person has ID {}",
            id.get()
        ))),
    }
}

/// `POST /people`: 201 with the stored person and its `Location`, at most once per
/// `Idempotency-Key` (without an `ID`, a retry so creates no second person).
pub async fn create(state: Arc<Keyed<PeopleState>>, req: Request) -> HandlerResult {
    once(state, req, create_person).await
}

async fn create_person(state: Arc<Keyed<PeopleState>>, req: Request) -> HandlerResult {
    let (id, details) = input::from_json(&json_object(&req)?, date::today())?;
    let person = people::create(state.store.as_ref(), id, details).await?;
    let location = format!("/people/{}", person.id);
    Ok(with_header(
        json(StatusCode::CREATED, &person),
        LOCATION,
        &location,
    ))
}
