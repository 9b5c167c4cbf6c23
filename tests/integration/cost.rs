//! Each writing route's realistic request (the largest items the contract allows), measured
//! through the meter on dynalite, stays within the route's budget in `tests/src/bench/cost.rs`,
//! the one the README's cost table shows.

use tally_tests::bench::cost::{measure_scenario, route_cost};
use tally_tests::bench::realistic::scenario;

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

macro_rules! budget_tests {
    ($($test:ident => $function:literal),* $(,)?) => {
        $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $test() {
            stays_within_its_budget($function).await;
        })*
    };
}

budget_tests! {
    visits_increment_stays_within_its_budget => "visits-increment",
    visits_form_stays_within_its_budget => "visits-form",
    stats_count_stays_within_its_budget => "stats-count",
    logs_record_stays_within_its_budget => "logs-record",
    people_create_stays_within_its_budget => "people-create",
    ads_ad_stays_within_its_budget => "ads-ad",
    ads_impression_stays_within_its_budget => "ads-impression",
}
