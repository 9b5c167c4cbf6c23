//! Tally's route handlers. Each parses its request, calls the shared crate's domain and shapes
//! the response; `src/bin/` wraps each one in a Lambda binary, and the local API dispatches to
//! them in-process through `dispatch`.

pub mod ads;
pub mod dashboard;
pub mod dispatch;
pub mod event;
pub mod fallback;
pub mod handler;
pub mod invoke;
pub mod lambda;
pub mod logging;
pub mod logs;
pub mod once;
pub mod people;
pub mod routes;
pub mod stats;
pub mod visits;

pub use tally::http::{HandlerResult, Request};
