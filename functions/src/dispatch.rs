//! Finds a function's handler by its binary name, for callers that serve many routes in one
//! process (the local API, the tests that replay `events/`).

use crate::{
    ads, dashboard, fallback, logs, people, routes::FALLBACK_FUNCTION, stats, visits, AppState,
    HandlerResult, Request,
};
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

/// The handler of the binary called `function`.
pub fn handler(function: &str) -> Option<BoxedHandler> {
    let handler: BoxedHandler = match function {
        "visits-home" => boxed!(visits::home),
        "visits-form" => boxed!(visits::form),
        "visits-increment" => boxed!(visits::increment),
        "visits-count" => boxed!(visits::count),
        "visits-database" => boxed!(visits::database),
        "ads-ad" => boxed!(ads::ad),
        "ads-impression" => boxed!(ads::impression),
        "ads-statistics" => boxed!(ads::statistics),
        "logs-record" => boxed!(logs::record),
        "logs-query" => boxed!(logs::query),
        "people-ping" => boxed!(people::ping),
        "people-list" => boxed!(people::list),
        "people-create" => boxed!(people::create),
        "people-by-age" => boxed!(people::by_age),
        "people-get" => boxed!(people::get),
        "people-ids-by-lastname" => boxed!(people::ids_by_last_name),
        "stats-count" => boxed!(stats::count),
        "stats-list" => boxed!(stats::list),
        "stats-test" => boxed!(stats::selftest),
        "dashboard-page" => boxed!(dashboard::page),
        FALLBACK_FUNCTION => boxed!(fallback::handle),
        _ => return None,
    };
    Some(handler)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::ROUTES;

    #[test]
    fn every_route_and_the_fallback_have_a_handler() {
        for route in ROUTES {
            assert!(handler(route.function).is_some(), "{}", route.function);
        }
        assert!(handler(FALLBACK_FUNCTION).is_some());
    }

    #[test]
    fn every_route_has_a_binary() {
        let bins = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bin");
        for route in ROUTES {
            assert!(
                bins.join(format!("{}.rs", route.function)).is_file(),
                "{}",
                route.function
            );
        }
        assert!(bins.join(format!("{FALLBACK_FUNCTION}.rs")).is_file());
    }
}
