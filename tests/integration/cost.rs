//! Each writing route's realistic request (the largest items the contract allows), measured
//! through the meter on dynalite, stays within the route's budget in `tests/src/bench/cost.rs`,
//! the one the README's cost table shows; under an `Idempotency-Key` it costs at most 3 write
//! units more.

use tally_tests::bench::cost::{measure_scenario, route_cost, MeteredApi};
use tally_tests::bench::realistic::{scenario, Scenario};
use tally_tests::stub::{Behaviour, StubServer};

async fn stays_within_its_budget(function: &str) {
    let scenario = scenario(function).expect("a realistic scenario");
    let budget = route_cost(function).expect("a budget");
    let units = measure_scenario(&scenario).await;
    let parts: Vec<_> = units
        .per_op
        .iter()
        .map(|op| (&op.operation, op.rru + op.wru))
        .collect();
    assert!(
        units.wru <= budget.wru && units.rru <= budget.rru,
        "{function}: measured {} RRU, {} WRU; budget {} RRU, {} WRU; by operation {parts:?}",
        units.rru,
        units.wru,
        budget.rru,
        budget.wru
    );
}

/// The most write units an `Idempotency-Key` may add to a request (contract G, issue 27): its
/// claim (`PutItem`) and its answer (`UpdateItem`), one each for an answer under 1 KB.
const KEY_WRU: f64 = 3.0;

/// The same realistic request under a key costs at most `KEY_WRU` more, and its replay writes
/// no count: only the refused claim (a failed conditional write is billed one unit).
async fn a_key_costs_at_most_3_wru_more_and_its_replay_counts_nothing(function: &str) {
    let scenario = scenario(function).expect("a realistic scenario");
    let plain = measure_scenario(&scenario).await;
    let keyed = Scenario {
        request: scenario.request.clone().with_key("cost-key"),
        ..scenario
    };
    let ad_server = StubServer::start(Behaviour::Xml).await;
    let api = MeteredApi::start(&ad_server).await;
    for request in &keyed.setup {
        api.set_up(request).await;
    }
    let first = api.measure(&keyed.request).await;
    let replay = api.measure(&keyed.request).await;
    eprintln!(
        "{function}: {} WRU without a key, {} WRU with one; replay {} RRU {} WRU",
        plain.wru, first.wru, replay.rru, replay.wru
    );
    assert!(
        first.wru <= plain.wru + KEY_WRU,
        "{function}: {} WRU with a key, {} without",
        first.wru,
        plain.wru
    );
    assert!(
        replay.wru <= 1.0,
        "{function}: the replay wrote {:?}",
        replay.per_op
    );
}

macro_rules! budget_tests {
    ($($test:ident, $keyed:ident => $function:literal),* $(,)?) => {
        $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $test() {
            stays_within_its_budget($function).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $keyed() {
            a_key_costs_at_most_3_wru_more_and_its_replay_counts_nothing($function).await;
        })*
    };
}

budget_tests! {
    visits_increment_stays_within_its_budget, visits_increment_keyed => "visits-increment",
    visits_form_stays_within_its_budget, visits_form_keyed => "visits-form",
    stats_count_stays_within_its_budget, stats_count_keyed => "stats-count",
    logs_record_stays_within_its_budget, logs_record_keyed => "logs-record",
    people_create_stays_within_its_budget, people_create_keyed => "people-create",
    ads_ad_stays_within_its_budget, ads_ad_keyed => "ads-ad",
    ads_impression_stays_within_its_budget, ads_impression_keyed => "ads-impression",
}
