//! The handler types every binary, the route table and the local API share, kept apart from
//! the table and the dispatch that use them so that neither depends on the other through it.
//! A handler is an `async fn(Arc<S>, Request) -> HandlerResult`, `S` the state of its service
//! (`tally::state`): a binary binds it to the state it builds during Init (`open`), the local
//! API to its part of every service's state (`Routed`).

use crate::{HandlerResult, Request};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tally::config::{env, SettingError};
use tally::state::Open;
use tally::AppState;

/// A handler's answer to come.
pub type Reply = Pin<Box<dyn Future<Output = HandlerResult> + Send>>;

/// A handler bound to its state: what a Lambda binary runs.
pub type Bound = Arc<dyn Fn(Request) -> Reply + Send + Sync>;

/// Building a binary's `Bound` handler during Init: its state opened from its settings.
pub type Opening = Pin<Box<dyn Future<Output = Result<Bound, SettingError>>>>;

/// A handler as the local API and the tests call it: given every service's state, it takes
/// its own part.
pub type Routed = fn(&AppState, Request) -> Reply;

/// Opens the state `handler` takes, from this process's environment, and binds them.
pub fn open<S, F>(handler: fn(Arc<S>, Request) -> F) -> Opening
where
    S: Open,
    F: Future<Output = HandlerResult> + Send + 'static,
{
    Box::pin(async move {
        let state = Arc::new(S::open(&env).await?);
        let bound: Bound = Arc::new(move |req| Box::pin(handler(Arc::clone(&state), req)));
        Ok(bound)
    })
}

/// Calls `handler` with its part of `all`.
pub fn with_part<S, F>(all: &AppState, handler: fn(Arc<S>, Request) -> F, req: Request) -> Reply
where
    S: for<'a> From<&'a AppState> + Send + Sync + 'static,
    F: Future<Output = HandlerResult> + Send + 'static,
{
    Box::pin(handler(Arc::new(S::from(all)), req))
}
