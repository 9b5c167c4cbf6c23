//! HTTP helpers shared by every handler: request parsing, response shaping, pagination.

pub mod budget;
pub mod client;
pub mod cursor;
pub mod request;
pub mod response;

pub use lambda_http::{Body, Request};
pub use response::Response;

/// The largest request body Tally accepts.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What every handler returns; `response::respond` turns the error side into a response.
pub type HandlerResult = Result<Response, crate::ApiError>;
