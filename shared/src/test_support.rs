//! What the integration tests reach below the public API (only with the `test-support`
//! feature): a client for a test server, and the storage constants their assertions count with.

use crate::config::Aws;
use crate::store::dynamodb::{client, Client};

pub use crate::logs::layout::EXPIRES as LOG_EXPIRES;
pub use crate::store::packed::noise as incompressible_text;
pub use crate::visits::dynamodb::SHARDS as VISIT_SHARDS;

/// A client for the DynamoDB-protocol server at `endpoint`, otherwise configured by default.
pub async fn client_at(endpoint: &str) -> Client {
    client(&Aws {
        dynamodb_endpoint: Some(endpoint.to_string()),
        ..Aws::default()
    })
}
