//! The Lambda entry point every binary shares: JSON logs carrying the request id, CloudWatch
//! Embedded Metric Format metrics (cold start, requests, latency), the function's own settings
//! read and its state built once during Init (`handler::open`), and the handler wrapped so that every error becomes its HTTP response.
//! The event is received as JSON and made safe (`event`) before `lambda_http` converts it, so
//! no event can crash the process: what cannot be repaired is answered with the JSON 400.

use crate::event;
use crate::handler::{Bound, Opening};
use crate::invoke::{invoke, time_left};
use crate::Request;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use lambda_http::{service_fn, Adapter, Error, LambdaEvent, RequestExt, Service};
use metrics_cloudwatch_embedded::lambda::service::run as run_service;
use serde::{Serialize, Serializer};
use std::future::Future;
use std::time::Instant;
use tally::config::{env, Logging, SettingError};
use tally::deadline::DEFAULT_TIMEOUT;
use tally::http::response::{error, Response};

/// The CloudWatch namespace of every Tally metric.
pub const NAMESPACE: &str = "Tally";

/// Ends Init on a setting that cannot be used, with one log line naming it (logs set up from
/// the defaults): the process exits, and Lambda reports the failed Init (`Runtime.ExitError`)
/// rather than serving on a guess.
fn refuse_to_start(err: &SettingError) -> ! {
    crate::logging::init(&Logging::default());
    tracing::error!("{err}");
    std::process::exit(1)
}

/// Runs the handler `opening` binds to its state as this process's Lambda function. It takes
/// a boxed handler rather than a generic one so that the runtime stack is compiled once, in
/// this library, and each binary is only its `main`: the release binaries (one per route) then
/// build in a fraction of the time. Never inlined, or each binary would instantiate the whole
/// runtime stack again.
#[inline(never)]
pub fn run(opening: Opening) -> Result<(), Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            let logging = match Logging::read(&env) {
                Ok(logging) => logging,
                Err(err) => refuse_to_start(&err),
            };
            crate::logging::init(&logging);
            let metrics = metrics_cloudwatch_embedded::Builder::new()
                .cloudwatch_namespace(NAMESPACE)
                .with_dimension("Function", logging.function_name.clone())
                .lambda_cold_start_metric("ColdStart")
                .with_lambda_request_id("RequestId")
                .init()
                .map_err(|err| format!("metrics: {err}"))?;
            metrics::describe_histogram!("Latency", metrics::Unit::Milliseconds, "handler time");
            let handler = match opening.await {
                Ok(handler) => handler,
                Err(err) => refuse_to_start(&err),
            };
            let adapter = Adapter::from(service_fn(move |req: Request| {
                let handler = Bound::clone(&handler);
                async move { Ok::<_, Error>(measured(handled(handler, req)).await) }
            }));
            run_service(
                metrics,
                service_fn(move |raw: LambdaEvent<serde_json::Value>| {
                    let mut adapter = adapter.clone();
                    async move {
                        match event::request(raw.payload) {
                            Ok(payload) => {
                                let converted = LambdaEvent::new(payload, raw.context);
                                adapter.call(converted).await.map(Reply::Converted)
                            }
                            Err(err) => {
                                tracing::warn!(error = %err, "event rejected before conversion");
                                let resp = measured(async { error(&err) }).await;
                                Ok(Reply::Rejected(Box::new(event::response(resp))))
                            }
                        }
                    }
                }),
            )
            .await
        })
}

/// What a function answers: `lambda_http`'s response to a converted request, or the HTTP API
/// response to an event rejected before conversion.
enum Reply<R> {
    Converted(R),
    Rejected(Box<ApiGatewayV2httpResponse>),
}

impl<R: Serialize> Serialize for Reply<R> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Reply::Converted(resp) => resp.serialize(serializer),
            Reply::Rejected(resp) => resp.serialize(serializer),
        }
    }
}

/// Runs the handler within the invocation's deadline.
async fn handled(handler: Bound, req: Request) -> Response {
    let time_left = req
        .lambda_context_ref()
        .map_or(DEFAULT_TIMEOUT, |context| time_left(context.deadline));
    invoke(|req| handler(req), req, time_left).await
}

/// Awaits the response, then logs and counts the request with its status and latency.
async fn measured(response: impl Future<Output = Response>) -> Response {
    let started = Instant::now();
    let resp = response.await;
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

/// A Lambda binary's `main`: `handler` run as this process's function, on the state it takes.
#[macro_export]
macro_rules! function {
    ($handler:path) => {
        fn main() -> Result<(), lambda_http::Error> {
            $crate::lambda::run($crate::handler::open($handler))
        }
    };
}
