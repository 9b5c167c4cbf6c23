//! The Lambda entry point every binary shares: JSON logs carrying the request id, CloudWatch
//! Embedded Metric Format metrics (cold start, requests, latency), the settings read and the
//! stores built once, and the handler wrapped so that every error becomes its HTTP response.

use crate::dispatch::BoxedHandler;
use crate::invoke::{invoke, time_left};
use crate::{AppState, Request};
use lambda_http::RequestExt;
use lambda_http::{service_fn, Error};
use metrics_cloudwatch_embedded::lambda::service::run_http;
use std::sync::Arc;
use std::time::Instant;
use tally::config::Config;
use tally::deadline::DEFAULT_TIMEOUT;

/// The CloudWatch namespace of every Tally metric.
pub const NAMESPACE: &str = "Tally";

/// Runs `handler` as this process's Lambda function. It takes a boxed handler rather than a
/// generic one so that the runtime stack is compiled once, in this library, and each binary
/// is only its `main`: the release binaries (one per route) then build in a fraction of the
/// time. Never inlined, or each binary would instantiate the whole runtime stack again.
#[inline(never)]
pub fn run(handler: BoxedHandler) -> Result<(), Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            // Read twice: first for the log settings, then with the logs on, so that an
            // unusable setting is logged.
            crate::logging::init(&Config::from_env());
            let config = Config::from_env();
            let metrics = metrics_cloudwatch_embedded::Builder::new()
                .cloudwatch_namespace(NAMESPACE)
                .with_dimension("Function", config.function_name.clone())
                .lambda_cold_start_metric("ColdStart")
                .with_lambda_request_id("RequestId")
                .init()
                .map_err(|err| format!("metrics: {err}"))?;
            metrics::describe_histogram!("Latency", metrics::Unit::Milliseconds, "handler time");
            let state = Arc::new(AppState::from_config(&config).await);
            run_http(
                metrics,
                service_fn(move |req: Request| {
                    let state = Arc::clone(&state);
                    async move { Ok::<_, Error>(measured(handler, state, req).await) }
                }),
            )
            .await
        })
}

/// Calls the handler, then logs and counts the request with its status and latency.
async fn measured(
    handler: BoxedHandler,
    state: Arc<AppState>,
    req: Request,
) -> tally::http::Response {
    let started = Instant::now();
    let time_left = req
        .lambda_context_ref()
        .map_or(DEFAULT_TIMEOUT, |context| time_left(context.deadline));
    let resp = invoke(handler, state, req, time_left).await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let status = resp.status().as_u16();
    tracing::info!(status, ms, "request");
    metrics::counter!("Requests").increment(1);
    if status >= 500 {
        metrics::counter!("ServerErrors").increment(1);
    } else if status >= 400 {
        metrics::counter!("ClientErrors").increment(1);
    }
    metrics::histogram!("Latency").record(ms);
    resp
}
