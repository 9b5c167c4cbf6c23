//! The handler type every binary, the route table and the local API share, kept apart from
//! the table and the dispatch that use it so that neither depends on the other through it.

use crate::{AppState, HandlerResult, Request};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub type BoxedHandler =
    fn(Arc<AppState>, Request) -> Pin<Box<dyn Future<Output = HandlerResult> + Send>>;

/// Wraps an `async fn(Arc<AppState>, Request) -> HandlerResult` as a `BoxedHandler`.
#[macro_export]
macro_rules! boxed {
    ($handler:path) => {
        |state, req| Box::pin($handler(state, req))
    };
}
