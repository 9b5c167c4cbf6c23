//! The local API: the same handlers as the Lambda functions, served over HTTP on a laptop,
//! on the embedded store or on a DynamoDB endpoint whose tables it creates from `template.yaml`.

pub mod people;
pub mod schema;
pub mod server;
pub mod stores;
