//! One test binary for every integration test (one link step, shared harness).

/// Instantiates each named `async fn(Engine)` once per storage engine.
macro_rules! on_every_engine {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() { super::$case(tally_tests::Engine::Sqlite).await })*
        }
        mod dynamodb {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() { super::$case(tally_tests::Engine::Dynamodb).await })*
        }
    };
}

mod ads;
mod ads_store;
mod browser;
mod contract;
mod dashboard;
mod dashboard_store;
mod events;
mod exactness;
mod faults;
mod fuzz;
mod hardening;
mod lambda;
mod logs;
mod logs_store;
mod people;
mod people_store;
mod routing;
mod stats;
mod stats_store;
mod visits;
mod visits_store;
