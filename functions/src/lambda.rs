//! The Lambda entry point every binary shares: logging, the stores built once, the handler
//! wrapped so that every error becomes its HTTP response.

use crate::{AppState, HandlerResult, Request};
use lambda_http::{service_fn, Error};
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use tally::http::response::respond;

/// Runs `handler` as this process's Lambda function.
pub fn run<H, F>(handler: H) -> Result<(), Error>
where
    H: Fn(Arc<AppState>, Request) -> F + Copy + Send + 'static,
    F: Future<Output = HandlerResult> + Send,
{
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            lambda_runtime::tracing::init_default_subscriber();
            let state = Arc::new(AppState::from_env().await);
            lambda_http::run(service_fn(move |req: Request| {
                let state = Arc::clone(&state);
                async move { Ok::<_, Infallible>(respond(handler(state, req).await)) }
            }))
            .await
        })
}
