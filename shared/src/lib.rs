//! Tally's shared crate: everything the function binaries and the local API have in common.
//!
//! One module per service (`visits`, `people`, ...) holds that service's models, validation and storage
//! trait with one adapter per engine; `http` holds request parsing and response shaping;
//! `store` holds what the engines' adapters share; `state` wires the stores together;
//! `series` keeps every count per hour and per day; `config` reads settings once; `metrics`
//! counts business events.

pub mod ads;
pub mod config;
pub mod dashboard;
pub mod date;
pub mod deadline;
pub mod error;
pub mod html;
pub mod http;
pub mod logs;
pub mod metrics;
pub mod nesting;
pub mod once;
pub mod people;
pub mod series;
pub mod state;
pub mod stats;
pub mod store;
#[cfg(feature = "test-support")]
pub mod test_support;
pub mod visits;

pub use error::{ApiError, StoreError};
pub use state::AppState;
