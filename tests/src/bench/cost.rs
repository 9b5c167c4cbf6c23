//! Cost per request: DynamoDB request units per route by DynamoDB's published rules, and the
//! price of a million requests from AWS's list prices (us-east-1, on-demand, arm64).
//!
//! The rules: a write costs 1 WRU per started KB of the item, plus the same again for every
//! index whose projected attributes it changes; a strongly consistent read 1 RRU per started
//! 4 KB, an eventually consistent one (every index Query) half that; a Query is charged on
//! the total size it reads, rounded up to 4 KB.

use crate::stub::StubServer;
use crate::DynamoTables;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tally::http::response::respond;
use tally_functions::dispatch::handler;
use tally_functions::routes::{FALLBACK_FUNCTION, ROUTES};

/// What one request to a function costs in DynamoDB, and the operations that cost comes from.
#[derive(Debug, Clone, Copy)]
pub struct RouteCost {
    pub function: &'static str,
    /// The operations the adapter is expected to send (checked against the wire, in any order:
    /// the dashboard reads its sections concurrently).
    pub operations: &'static [&'static str],
    pub read_units: f64,
    pub write_units: f64,
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

/// The cost model of every route (default page size 100 where a route pages).
pub const ROUTE_COSTS: &[RouteCost] = &[
    RouteCost { function: "visits-home", operations: &[], read_units: 0.0, write_units: 0.0, why: "static page" },
    RouteCost {
        function: "visits-form",
        operations: &["UpdateItem"],
        read_units: 0.0,
        write_units: 4.0,
        why: "ADD on a <1 KB item (1) + ByShard index, whose projected count changes (1) + ByCount, whose sort key changes (delete + put: 2)",
    },
    RouteCost {
        function: "visits-increment",
        operations: &["UpdateItem"],
        read_units: 0.0,
        write_units: 4.0,
        why: "ADD on a <1 KB item (1) + ByShard index (1) + ByCount key change (2)",
    },
    RouteCost {
        function: "visits-count",
        operations: &["GetItem"],
        read_units: 1.0,
        write_units: 0.0,
        why: "strongly consistent GetItem of a <4 KB item",
    },
    RouteCost {
        function: "visits-database",
        operations: &["Query", "Query", "Query", "Query"],
        read_units: 4.0,
        write_units: 0.0,
        why: "4 shard Queries of about 39 ~50 B entries (a share of 101 plus half, merged; eventually consistent: at most 1 RRU each)",
    },
    RouteCost {
        function: "ads-ad",
        operations: &["UpdateItem", "UpdateItem"],
        read_units: 0.0,
        write_units: 2.0,
        why: "ADD on the user's item and on one of the SDK version's 8 shard items (<1 KB; BySdk keys never change, so no index write but a shard item's first: +1); then the ad server",
    },
    RouteCost {
        function: "ads-impression",
        operations: &["UpdateItem", "UpdateItem"],
        read_units: 0.0,
        write_units: 2.0,
        why: "ADD on the user's item and on one SDK shard item",
    },
    RouteCost {
        function: "ads-statistics",
        operations: &["BatchGetItem"],
        read_units: 1.0,
        write_units: 0.0,
        why: "`?username=`: one consistent read of one item (`?sdk=`: 8 items, 8 RRU)",
    },
    RouteCost {
        function: "logs-record",
        operations: &["UpdateItem", "BatchWriteItem", "UpdateItem", "UpdateItem", "UpdateItem"],
        read_units: 0.0,
        write_units: 16.0,
        why: "the event's 3 actions: request item (1) + 3 action items (<1 KB) x (table + ByUserType + ByType + ByTime) = 12 + one daily rollup ADD per (day, type), here 3; n actions cost 1 + 4n + (day, type) pairs",
    },
    RouteCost {
        function: "logs-query",
        operations: &["Query"],
        read_units: 0.5,
        write_units: 0.0,
        why: "the event's user + type filter: one Query of ByUserType (<4 KB, eventually consistent); user alone: the table, 1 RRU; type or time alone: 8 shard Queries",
    },
    RouteCost { function: "people-ping", operations: &[], read_units: 0.0, write_units: 0.0, why: "no store access" },
    RouteCost {
        function: "people-list",
        operations: &["Query"],
        read_units: 2.0,
        write_units: 0.0,
        why: "one ById Query of limit + 1 persons (~150 B each: 101 are <16 KB, eventually consistent)",
    },
    RouteCost {
        function: "people-create",
        operations: &["UpdateItem", "PutItem", "UpdateItem"],
        read_units: 0.0,
        write_units: 6.0,
        why: "id sequence and age directory on the meta item (1) + conditional put of a <1 KB person (1) and its ById, ByLastName, ByGroup entries (3) + the group's count on the meta item (1)",
    },
    RouteCost {
        function: "people-by-age",
        operations: &["GetItem", "Query", "Query"],
        read_units: 2.0,
        write_units: 0.0,
        why: "the age directory (1) + up to 3 ByGroup Queries per age the page touches (0.5 each per 4 KB); here one person",
    },
    RouteCost {
        function: "people-get",
        operations: &["GetItem"],
        read_units: 1.0,
        write_units: 0.0,
        why: "strongly consistent GetItem of a <4 KB person",
    },
    RouteCost {
        function: "people-ids-by-lastname",
        operations: &["Query"],
        read_units: 0.5,
        write_units: 0.0,
        why: "one keys-only ByLastName Query (<4 KB, eventually consistent)",
    },
    RouteCost {
        function: "stats-count",
        operations: &["UpdateItem"],
        read_units: 0.0,
        write_units: 5.0,
        why: "ADD count, SET tie on a <1 KB item (1) + ByCount and ByTie, whose keys change (delete + put: 2 each); a new path: 3",
    },
    RouteCost {
        function: "stats-list",
        operations: &["Query", "Query", "Query", "Query"],
        read_units: 2.0,
        write_units: 0.0,
        why: "4 ByCount shard Queries of a share of limit + 1 keys plus half, merged (0.5 each, eventually consistent); a tie group cut by the page adds ByTie Queries",
    },
    RouteCost {
        function: "stats-test",
        operations: &[],
        read_units: 0.0,
        write_units: 0.0,
        why: "no store access itself; each of its n requests costs a stats-count",
    },
    RouteCost {
        function: "dashboard-page",
        operations: &[
            "Query", "Query", "Query", "Query", "Query", "BatchGetItem", "Query", "Query", "Query",
            "Query", "Query", "Query", "Query", "Query", "GetItem",
        ],
        read_units: 9.5,
        write_units: 0.0,
        why: "sections read concurrently: 4 ByCount Queries of the top 20 paths, 4 rollup-shard Queries (30 days), 4 ByCount Queries of the top 10 visitors (0.5 each) + one BySdk Query of up to 168 keys (0.5) + their counters, strongly consistent (1 per SDK shard item, here 2; at most 20 versions x 8 shards = 160, in 2 BatchGetItem) + the people meta item (1); bounded whatever the stores hold",
    },
    RouteCost { function: "fallback", operations: &[], read_units: 0.0, write_units: 0.0, why: "no store access" },
];

/// Sends each modelled function's event from `events/` through its handler, in route order, on
/// fresh DynamoDB tables whose client records the operations on the wire; returns, per
/// function, whether they are exactly the ones its cost model lists (differences are printed).
/// A function without a cost model (a new route) is left out: the bench reports it as not
/// modelled.
pub async fn check_operations(repo: &Path, ad_server: &StubServer) -> Vec<(String, bool)> {
    let (mut state, log) = DynamoTables::create().await.recorded_state();
    state.ad_server = ad_server.ad_server(Duration::from_secs(3));
    let state = Arc::new(state);
    let mut checked = Vec::new();
    let functions = ROUTES.iter().map(|r| r.function).chain([FALLBACK_FUNCTION]);
    for (function, cost) in functions.filter_map(|f| route_cost(f).map(|cost| (f, cost))) {
        let event = std::fs::read_to_string(repo.join(format!("events/{function}.json")))
            .unwrap_or_default();
        let (Ok(req), Some(handle)) = (lambda_http::request::from_str(&event), handler(function))
        else {
            checked.push((function.to_string(), false));
            continue;
        };
        log.take();
        respond(handle(Arc::clone(&state), req).await);
        let mut sent = log.take();
        let mut expected = cost.operations.to_vec();
        sent.sort_unstable();
        expected.sort_unstable();
        if sent != expected {
            eprintln!("{function}: the cost model says {expected:?}, the adapter sent {sent:?}");
        }
        checked.push((function.to_string(), sent == expected));
    }
    checked
}

/// The model of `function`, if it has one.
pub fn route_cost(function: &str) -> Option<&'static RouteCost> {
    ROUTE_COSTS.iter().find(|c| c.function == function)
}

/// USD per million requests, given the function's billed duration in milliseconds.
pub fn per_million(cost: &RouteCost, duration_ms: f64) -> f64 {
    let billed_seconds = duration_ms.ceil().max(1.0) / 1000.0;
    HTTP_API_PER_MILLION
        + LAMBDA_REQUESTS_PER_MILLION
        + billed_seconds * MEMORY_GB * LAMBDA_ARM64_PER_GB_SECOND * 1e6
        + cost.read_units * DYNAMODB_RRU_PER_MILLION
        + cost.write_units * DYNAMODB_WRU_PER_MILLION
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cost_model_is_of_a_function() {
        let functions: Vec<&str> = ROUTES.iter().map(|r| r.function).collect();
        for cost in ROUTE_COSTS {
            assert!(
                functions.contains(&cost.function) || cost.function == FALLBACK_FUNCTION,
                "{} is no function",
                cost.function
            );
        }
    }

    #[test]
    fn a_million_simple_writes_cost_api_lambda_and_units() {
        let cost = route_cost("visits-increment").expect("model");
        let expected = 1.0 + 0.2 + 0.001 * 0.125 * 0.000_013_333_4 * 1e6 + 4.0 * 0.625;
        assert!((per_million(cost, 0.4) - expected).abs() < 1e-9);
    }
}
