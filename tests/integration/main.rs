//! One test binary for every integration test (one link step, shared harness).

/// Instantiates each named `async fn(Engine)` once per store of the local API (SQLite, moto),
/// and the cases after `lambda:` (a representative subset: Lambda mode starts real processes)
/// once more in Lambda mode.
macro_rules! on_every_engine {
    ($($case:ident),* $(,)?) => { on_every_engine!($($case),* ; lambda:); };
    ($($case:ident),* ; lambda: $($lambda:ident),* $(,)?) => {
        engine_module!(sqlite, Sqlite, $($case),*);
        engine_module!(dynamodb, Dynamodb, $($case),*);
        engine_module!(lambda, Lambda, $($lambda),*);
    };
}

/// The store contract suites: each case on SQLite and on two independent DynamoDB
/// implementations (moto, dynalite), so a behaviour one of them lacks does not pass unseen.
macro_rules! on_every_store {
    ($($case:ident),* $(,)?) => {
        engine_module!(sqlite, Sqlite, $($case),*);
        engine_module!(dynamodb, Dynamodb, $($case),*);
        engine_module!(dynalite, Dynalite, $($case),*);
    };
}

macro_rules! engine_module {
    ($module:ident, $engine:ident, $($case:ident),*) => {
        mod $module {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() { super::$case(tally_tests::Engine::$engine).await })*
        }
    };
}

mod admin;
mod ads;
mod ads_store;
mod aws_path;
mod browser;
mod clock;
mod contract;
mod cost;
mod crash;
mod dashboard;
mod dashboard_store;
mod deploy;
mod events;
mod exactness;
mod faults;
mod fuzz;
mod hardening;
mod http_server;
mod lambda;
mod least_privilege;
mod logs;
mod logs_mix;
mod logs_store;
mod meter;
mod nesting;
mod odd_events;
mod once;
mod once_store;
mod people;
mod people_store;
mod routing;
mod series;
mod series_store;
mod settings;
mod smoke;
mod stats;
mod stats_store;
mod visits;
mod visits_store;
