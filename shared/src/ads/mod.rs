//! Ad statistics (contract section C): counters of ad requests and impressions per user and per
//! SDK version, in separate namespaces, the store trait behind them and the domain steps.

pub(crate) mod counter_keys;
pub(crate) mod dynamodb;
pub mod params;
#[cfg(feature = "embedded")]
pub(crate) mod sqlite;
pub mod upstream;

pub use counter_keys::MAX_SHARDS;
pub use params::{AdParams, StatsKey};
pub use upstream::AdServer;

use crate::deadline::Deadline;
use crate::{metrics, ApiError, StoreError};
use async_trait::async_trait;
use serde::Serialize;

/// Counters of users and of SDK versions never meet: a user named `1.0` is not SDK `1.0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Namespace {
    User,
    Sdk,
}

impl Namespace {
    /// The namespace's name in stored keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Namespace::User => "user",
            Namespace::Sdk => "sdk",
        }
    }
}

/// What one request counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    AdRequest,
    Impression,
}

/// A counter's totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub ad_requests: u64,
    pub impressions: u64,
}

impl Counts {
    /// The totals one `event` adds.
    pub fn of(event: Event) -> Self {
        match event {
            Event::AdRequest => Counts {
                ad_requests: 1,
                impressions: 0,
            },
            Event::Impression => Counts {
                ad_requests: 0,
                impressions: 1,
            },
        }
    }
}

impl std::ops::Add for Counts {
    type Output = Counts;

    fn add(self, other: Counts) -> Counts {
        Counts {
            ad_requests: self.ad_requests + other.ad_requests,
            impressions: self.impressions + other.impressions,
        }
    }
}

/// The `/statistics` answer for one user or SDK version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub impressions: u64,
    pub ad_requests: u64,
    pub fill_rate: f64,
}

impl From<Counts> for Stats {
    fn from(counts: Counts) -> Self {
        let fill_rate = if counts.ad_requests == 0 {
            0.0
        } else {
            counts.impressions as f64 / counts.ad_requests as f64
        };
        Stats {
            impressions: counts.impressions,
            ad_requests: counts.ad_requests,
            fill_rate,
        }
    }
}

/// Storage of the ad counters. Every increment of a counter must be one atomic write.
#[async_trait]
pub trait AdStore: Send + Sync {
    /// Counts one `event` for the user and one for the SDK version.
    async fn record(&self, event: Event, params: &AdParams) -> Result<(), StoreError>;
    /// The totals of a user or SDK version, seeing every acknowledged write; `None` if never
    /// counted.
    async fn counts(&self, key: &StatsKey) -> Result<Option<Counts>, StoreError>;
    /// The first `limit` SDK versions ever counted, in byte order, with their totals (may lag
    /// by up to 2 seconds); reads grow with `limit`, not with the number of versions.
    async fn sdk_versions(&self, limit: usize) -> Result<Vec<(String, Counts)>, StoreError>;
}

/// `GET /ad`'s count: one ad request, counted whatever the ad server then does.
pub async fn count_ad_request(store: &dyn AdStore, params: &AdParams) -> Result<(), StoreError> {
    store.record(Event::AdRequest, params).await?;
    metrics::count("AdRequests");
    Ok(())
}

/// `GET /ad`'s answer: the ad server's VAST XML, fetched within `deadline`.
pub async fn fetch_ad(server: &AdServer, deadline: Option<Deadline>) -> Result<Vec<u8>, ApiError> {
    server
        .fetch(deadline)
        .await
        .inspect_err(|_| metrics::count("UpstreamFailures"))
}

/// `GET /impression`: counts one impression.
pub async fn record_impression(store: &dyn AdStore, params: &AdParams) -> Result<(), StoreError> {
    store.record(Event::Impression, params).await?;
    metrics::count("Impressions");
    Ok(())
}

/// `GET /statistics`: the totals of one user or SDK version; 404 if never counted.
pub async fn statistics(store: &dyn AdStore, key: &StatsKey) -> Result<Stats, ApiError> {
    match store.counts(key).await? {
        Some(counts) => Ok(counts.into()),
        None => Err(ApiError::NotFound(format!("{} not found", key.name))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_rate_is_impressions_over_requests_and_zero_without_requests() {
        let stats = |ad_requests, impressions| {
            Stats::from(Counts {
                ad_requests,
                impressions,
            })
            .fill_rate
        };
        assert_eq!(stats(4, 1), 0.25);
        assert_eq!(stats(0, 3), 0.0);
        assert_eq!(stats(0, 0), 0.0);
        assert_eq!(stats(2, 3), 1.5);
    }

    #[test]
    fn stats_serialise_with_a_float_fill_rate() {
        let body = serde_json::to_string(&Stats::from(Counts::default())).expect("json");
        assert_eq!(body, r#"{"impressions":0,"ad_requests":0,"fill_rate":0.0}"#);
    }
}
