//! Cost per request: each route's budget of DynamoDB request units (declared once, here: the
//! README's cost table and the per-route tests both read it), the price of a million requests
//! from AWS's list prices (us-east-1, on-demand, arm64), and the measurement of every route
//! through the meter (`crate::meter`), on small data (its event) and on realistic data
//! (`realistic.rs`).

use super::realistic::{scenario, world, Scenario};
use crate::events::{functions, EventRequest};
use crate::meter::{Meter, Units};
use crate::stub::{Behaviour, StubServer};
use crate::{Api, DynamoTables};
use std::time::Duration;

/// A route's budget: the most its realistic request (`realistic.rs`; for a reading route, its
/// event on realistic data) may cost, and why it costs that.
#[derive(Debug, Clone, Copy)]
pub struct RouteCost {
    pub function: &'static str,
    pub rru: f64,
    pub wru: f64,
    pub why: &'static str,
}

/// List prices used (USD): HTTP API per million requests (first 300 M a month).
pub const HTTP_API_PER_MILLION: f64 = 1.00;
/// Lambda requests per million.
pub const LAMBDA_REQUESTS_PER_MILLION: f64 = 0.20;
/// Lambda arm64 compute per GB-second.
pub const LAMBDA_ARM64_PER_GB_SECOND: f64 = 0.000_013_333_4;
/// DynamoDB on-demand, per million write / read request units.
pub const DYNAMODB_WRU_PER_MILLION: f64 = 0.625;
pub const DYNAMODB_RRU_PER_MILLION: f64 = 0.125;
/// The functions' memory size in `template.yaml`.
pub const MEMORY_GB: f64 = 0.125;
/// The billed duration assumed per invocation: a warm one with DynamoDB round trips (at 128 MB,
/// 10 ms is $0.017 per million: the price hardly depends on it).
pub const BILLED_MS: f64 = 10.0;

/// Every route's budget.
pub const ROUTE_COSTS: &[RouteCost] = &[
    RouteCost {
        function: "visits-home",
        rru: 0.0,
        wru: 0.0,
        why: "static page",
    },
    RouteCost {
        function: "visits-form",
        rru: 0.0,
        wru: 4.0,
        why: "the id's 2nd count (an id of 128 4-byte characters: items and entries under 1 KB), which enters `ByRank`: ADD (1) + `SET rank` (1) + its new `ByRank` entry (1), and the ADD to its hour and day in `SeriesTable` (1: the day's item of 24 hours stays under 1 KB). Any count that crosses no step 2·4^j is the ADD alone (1); the 8th, 32nd, ...: 4 (the entry moves); once ten ranked ids are counted more, the ADD alone (the entry floor); 1.000 to 1.051 amortized over Zipf and uniform keys (`make amortized`)",
    },
    RouteCost {
        function: "visits-increment",
        rru: 0.0,
        wru: 4.0,
        why: "as `visits-form`: ADD 1, on entering `ByRank` `SET rank` 1 + the entry 1, and the series ADD 1",
    },
    RouteCost {
        function: "visits-count",
        rru: 1.0,
        wru: 0.0,
        why: "strongly consistent GetItem of an item under 4 KB",
    },
    RouteCost {
        function: "visits-series",
        rru: 4.5,
        wru: 0.0,
        why: "strongly consistent GetItem of the counter (1), then one eventually consistent Query of the days the range touches: the default 31 days of items of at most ~0.8 KB (24 hours of a 128-character id), 25 KB at most (3.5)",
    },
    RouteCost {
        function: "visits-database",
        rru: 2.0,
        wru: 0.0,
        why: "4 Queries of the table's shards, a share of limit + 1 items each (eventually consistent, under 4 KB: 0.5 each)",
    },
    RouteCost {
        function: "ads-ad",
        rru: 0.0,
        wru: 6.0,
        why: "ADD on the user's item and on one of the SDK version's 8 shard items (parameters of 1,017 bytes: 2 each), whose first ADD also puts its `BySdk` entry (+2; an existing shard item: none, 4 in all); then the ad server. Small: 1 + 1 + 1",
    },
    RouteCost {
        function: "ads-impression",
        rru: 0.0,
        wru: 6.0,
        why: "as `ads-ad`, without the ad server",
    },
    RouteCost {
        function: "ads-statistics",
        rru: 1.0,
        wru: 0.0,
        why: "`?username=`: one consistent read of one item (`?sdk=`: 8 items, 8 RRU)",
    },
    RouteCost {
        function: "logs-record",
        rru: 0.0,
        wru: 4004.0,
        why: "the request item (1) + each action: its table item and 3 index entries, 1 each (its ~1 KB of repeated `x` deflates to a few bytes; properties that would take an entry past 1 KB stay in the table item), 1,000 x 4 + one daily rollup ADD per (day, type), here 3; incompressible properties of that size: 1,000 x 5; small: 3 actions, 1 + 3 x 4 + 3",
    },
    RouteCost {
        function: "logs-query",
        rru: 0.5,
        wru: 0.0,
        why: "the event's user + type filter: one `ByUserType` Query (under 4 KB, eventually consistent); user alone: the table, 1 RRU; type or time alone: 8 shard Queries",
    },
    RouteCost {
        function: "people-ping",
        rru: 0.0,
        wru: 0.0,
        why: "no store access",
    },
    RouteCost {
        function: "people-list",
        rru: 2.0,
        wru: 0.0,
        why: "4 shard Queries of the table (a share of limit + 1 persons plus half each, merged by id; 0.5 each under 4 KB, eventually consistent): a page of 10 at least 4 x 0.5 (one `ById` Query read 0.5), a page of 100 small persons 2 (1.5 before)",
    },
    RouteCost {
        function: "people-create",
        rru: 4.0,
        wru: 13.0,
        why: "the highest id: 4 strongly consistent one-item shard Queries (1 each, none with an `ID`) + the conditional put of the person (256 4-byte characters per name: about 4.2 KB) in the table (5) and `ByGroup` (5), its `ByLastName` key (2) + `ADD` on its group's directory item (1, whatever the directory holds); small: 1 + 2 + 1",
    },
    RouteCost {
        function: "people-by-age",
        rru: 14.5,
        wru: 0.0,
        why: "the group directory (one Query of 279 small items: 1) + 27 `ByGroup` Queries (0.5 each) for a page of 10 over a directory with a person in every group; small: 1 + 2 Queries",
    },
    RouteCost {
        function: "people-get",
        rru: 1.0,
        wru: 0.0,
        why: "strongly consistent GetItem of a person under 4 KB",
    },
    RouteCost {
        function: "people-ids-by-lastname",
        rru: 0.5,
        wru: 0.0,
        why: "one keys-only `ByLastName` Query (under 4 KB, eventually consistent)",
    },
    RouteCost {
        function: "stats-count",
        rru: 0.0,
        wru: 12.0,
        why: "ADD count, SET tie on the path's item (a 1,024-byte path: 2) + `ByCount` and `ByTie`, whose keys change (delete + put of 2 KB entries: 4 each), and the ADD to its hour and day in `SeriesTable` (2: the day's item of a 1,024-byte path is over 1 KB); a new short path: 3 + 1",
    },
    RouteCost {
        function: "stats-series",
        rru: 7.0,
        wru: 0.0,
        why: "strongly consistent GetItem of the path's count (a 1,024-byte path: 1), then one eventually consistent Query of the days the range touches: the default 31 days of items of at most ~1.4 KB (24 hours of a 1,024-byte path), 43 KB at most (5.5)",
    },
    RouteCost {
        function: "stats-list",
        rru: 4.5,
        wru: 0.0,
        why: "4 `ByCount` shard Queries + 5 `ByTie` Queries for the tie group the page cuts (0.5 each, eventually consistent)",
    },
    RouteCost {
        function: "stats-test",
        rru: 0.0,
        wru: 9.0,
        why: "no store access itself; each of its n requests (here 3, new paths) costs a `stats-count`",
    },
    RouteCost {
        function: "dashboard-page",
        rru: 18.0,
        wru: 0.0,
        why: "sections read concurrently, each Query 0.5 (eventually consistent, under 4 KB): the top paths and SDK versions from their indexes, the top visitors from `ByRank` and their items (consistent BatchGetItem, 1 each: here 2, then 4 table Queries for the ids counted once: 6 in all, 2 before issue 14), the 30-day log rollups, the SDK counters (consistent BatchGetItem, 1 per shard item: 3 or 4, as the events' random shards fall) and the people group directory (one Query: 0.5, 1 with all 279 groups); bounded, except the top visitors sharing the 10th one's rank (`docs/visits.md`)",
    },
    RouteCost {
        function: "fallback",
        rru: 0.0,
        wru: 0.0,
        why: "no store access",
    },
];

/// The budget of `function`, if it has one.
pub fn route_cost(function: &str) -> Option<&'static RouteCost> {
    ROUTE_COSTS.iter().find(|c| c.function == function)
}

/// USD per million requests of `units`.
pub fn per_million(units: &Units) -> f64 {
    HTTP_API_PER_MILLION
        + LAMBDA_REQUESTS_PER_MILLION
        + BILLED_MS / 1000.0 * MEMORY_GB * LAMBDA_ARM64_PER_GB_SECOND * 1e6
        + units.rru * DYNAMODB_RRU_PER_MILLION
        + units.wru * DYNAMODB_WRU_PER_MILLION
}

/// What one function's request cost, on small data and on realistic data.
#[derive(Debug, Clone)]
pub struct Measured {
    pub function: &'static str,
    pub small: Units,
    pub realistic: Units,
}

/// The local API on fresh tables on the dynalite server `make test` starts, its ad server
/// `ad_server`: one `metered` through a fresh meter, one `direct` (for setting data up fast).
pub struct MeteredApi {
    pub meter: Meter,
    pub metered: Api,
    pub direct: Api,
}

impl MeteredApi {
    pub async fn start(ad_server: &StubServer) -> MeteredApi {
        let meter = Meter::start(&crate::dynalite_endpoint()).await;
        let tables = DynamoTables::create_at(meter.endpoint()).await;
        let client = tally::test_support::client_at(&crate::dynalite_endpoint()).await;
        let direct = crate::dynamodb_state_on(client, tables.names.clone());
        let serve = |mut state: tally::AppState| {
            state.ads.ad_server = ad_server.ad_server(Duration::from_secs(3));
            Api::serve(state)
        };
        MeteredApi {
            metered: serve(tables.state()).await,
            direct: serve(direct).await,
            meter,
        }
    }

    /// Sends `request` unmetered.
    pub async fn set_up(&self, request: &EventRequest) {
        answered(request, request.send(&self.direct).await);
    }

    /// Sends every request through the meter, one after the other, and returns their total
    /// (an amortized cost is `units.wru / n`; `workload.rs` picks the keys).
    pub async fn run(&self, requests: impl IntoIterator<Item = EventRequest>) -> Units {
        self.meter.take();
        for request in requests {
            answered(&request, request.send(&self.metered).await);
        }
        self.meter.take()
    }

    /// Sends `request` through the meter and returns what it cost.
    pub async fn measure(&self, request: &EventRequest) -> Units {
        self.meter.take();
        answered(request, request.send(&self.metered).await);
        self.meter.take()
    }
}

/// A request that fails would make a broken measurement: it must succeed (the fallback: 404).
fn answered(request: &EventRequest, reply: crate::Reply) {
    let fallback = request.function == tally_functions::routes::FALLBACK_FUNCTION;
    assert!(
        (200..300).contains(&reply.status) || (fallback && reply.status == 404),
        "{} {}: {} {}",
        request.method,
        request.path_and_query,
        reply.status,
        reply.text()
    );
}

/// Every function's request through the meter: its event on fresh tables (in route order, as
/// `events/` runs), then on realistic data its scenario's request or, for a reading route, its
/// event again.
pub async fn measure_all() -> Vec<Measured> {
    let ad_server = StubServer::start(Behaviour::Xml).await;
    let small_data = MeteredApi::start(&ad_server).await;
    let realistic_data = MeteredApi::start(&ad_server).await;
    for request in world() {
        realistic_data.set_up(&request).await;
    }
    let mut measured = Vec::new();
    for function in functions() {
        let small = small_data.measure(&EventRequest::of(function)).await;
        let request = scenario(function).map_or_else(|| EventRequest::of(function), |s| s.request);
        let realistic = realistic_data.measure(&request).await;
        eprintln!(
            "{function}: small {} RRU {} WRU, realistic {} RRU {} WRU: {:?}",
            small.rru, small.wru, realistic.rru, realistic.wru, realistic.per_op
        );
        measured.push(Measured {
            function,
            small,
            realistic,
        });
    }
    measured
}

/// What a writing route's realistic request costs, on fresh tables after its setup.
pub async fn measure_scenario(scenario: &Scenario) -> Units {
    let ad_server = StubServer::start(Behaviour::Xml).await;
    let api = MeteredApi::start(&ad_server).await;
    for request in &scenario.setup {
        api.set_up(request).await;
    }
    api.measure(&scenario.request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_functions::routes::{FALLBACK_FUNCTION, ROUTES};

    #[test]
    fn every_budget_is_of_a_function_and_every_function_has_one() {
        let functions: Vec<&str> = ROUTES
            .iter()
            .map(|r| r.function)
            .chain([FALLBACK_FUNCTION])
            .collect();
        for cost in ROUTE_COSTS {
            assert!(
                functions.contains(&cost.function),
                "{} is no function",
                cost.function
            );
        }
        for function in functions {
            assert!(route_cost(function).is_some(), "{function} has no budget");
        }
    }

    #[test]
    fn a_million_requests_cost_api_lambda_and_units() {
        let units = Units {
            rru: 2.0,
            wru: 4.0,
            per_op: Vec::new(),
        };
        let expected = 1.0 + 0.2 + 0.01 * 0.125 * 0.000_013_333_4 * 1e6 + 2.0 * 0.125 + 4.0 * 0.625;
        assert!((per_million(&units) - expected).abs() < 1e-9);
    }
}
