//! Records the DynamoDB operations a client issues, so tests can prove what a request costs
//! (no Scan, bounded reads) against the real server rather than trusting the adapter.

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use std::sync::{Arc, Mutex};

/// The names of the operations issued so far (`GetItem`, `Query`, ...), in order.
#[derive(Debug, Default, Clone)]
pub struct OperationLog(Arc<Mutex<Vec<String>>>);

impl OperationLog {
    /// Takes the operations recorded so far, leaving the log empty.
    pub fn take(&self) -> Vec<String> {
        self.0
            .lock()
            .map(|mut ops| std::mem::take(&mut *ops))
            .unwrap_or_default()
    }
}

impl Intercept for OperationLog {
    fn name(&self) -> &'static str {
        "OperationLog"
    }

    /// Reads the operation off the wire: `X-Amz-Target: DynamoDB_20120810.<Operation>`.
    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let target = context
            .request()
            .headers()
            .get("x-amz-target")
            .unwrap_or_default();
        let operation = target.rsplit('.').next().unwrap_or_default().to_string();
        if let Ok(mut ops) = self.0.lock() {
            ops.push(operation);
        }
        Ok(())
    }
}

/// A copy of `client` whose operations are recorded in the returned log.
pub fn recorded(client: &aws_sdk_dynamodb::Client) -> (aws_sdk_dynamodb::Client, OperationLog) {
    let log = OperationLog::default();
    let config = client
        .config()
        .to_builder()
        .interceptor(log.clone())
        .build();
    (aws_sdk_dynamodb::Client::from_conf(config), log)
}
