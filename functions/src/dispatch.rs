//! Finding a function's handler and tables by its binary name (for the local API, the tests
//! that replay `events/` and the benchmark).

use crate::fallback;
use crate::handler::{with_part, Routed};
use crate::routes::{Route, FALLBACK_FUNCTION, HANDLERS, ROUTES};
use tally::state::{Open, StatsState};

/// What answers a request that matches no route: API Gateway's `$default` route.
pub const FALLBACK_HANDLER: Routed =
    |all, req| with_part::<StatsState, _>(all, fallback::handle, req);

/// The tables of the fallback's state (it answers `/stats/` as `GET /stats` would).
pub const FALLBACK_TABLES: &[&str] = <StatsState as Open>::TABLES;

/// The tables (logical ids in `template.yaml`) the function called `function` uses.
pub fn tables(function: &str) -> Option<Vec<&'static str>> {
    if function == FALLBACK_FUNCTION {
        return Some(FALLBACK_TABLES.to_vec());
    }
    ROUTES
        .iter()
        .find(|r| r.function == function)
        .map(Route::tables)
}

/// The handler of the binary called `function`.
pub fn handler(function: &str) -> Option<Routed> {
    if function == FALLBACK_FUNCTION {
        return Some(FALLBACK_HANDLER);
    }
    let index = ROUTES.iter().position(|route| route.function == function)?;
    HANDLERS.get(index).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_and_the_fallback_have_a_handler() {
        assert_eq!(HANDLERS.len(), ROUTES.len());
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
