//! The local API: the same handlers as the Lambda functions, served over HTTP on a laptop,
//! on the embedded store or on a DynamoDB endpoint whose tables it creates from `template.yaml`.

pub mod lambda;
pub mod people;
pub mod schema;
pub mod server;
pub mod stores;
pub mod tls;

/// Listens on `addr` (`TALLY_ADDR`); `None` (logged) when it cannot.
pub async fn listen(addr: &str) -> Option<tokio::net::TcpListener> {
    match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => {
            tracing::info!("Tally local API listening on http://{addr}");
            Some(listener)
        }
        Err(err) => {
            tracing::error!(error = %err, addr, "could not listen (set TALLY_ADDR to another address)");
            None
        }
    }
}
