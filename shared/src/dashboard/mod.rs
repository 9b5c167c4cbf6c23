//! The dashboard (`GET /dashboard`): the business figures of every service on one HTML page,
//! charts drawn by the server. Every figure is a bounded read through its service's trait
//! (top lists, directories and counters kept at write time), so the page costs the same
//! whatever the stores hold; a store that fails marks its own section unavailable only.

pub(crate) mod chart;
pub mod page;
pub(crate) mod sections;

use crate::ads::Counts;
use crate::logs::DailyCount;
use crate::people::age::AgeGroup;
use crate::state::DashboardState;
use crate::stats::PathCount;
use crate::visits::{Visit, TOP_VISITORS};
use crate::StoreError;
use time::{Date, Duration};

/// Paths in the request statistics chart.
pub const TOP_PATHS: usize = 20;
/// SDK versions in the ad statistics chart.
pub const SDK_VERSIONS: usize = 20;
/// Days of the event log chart, today included.
pub const DAYS: i64 = 30;
/// (day, type) counters read for the event log chart, at most.
pub const DAILY_COUNTERS: usize = 1000;

/// One section's figures, or why they are missing.
pub type Figure<T> = Result<T, StoreError>;

/// Everything the page shows, read for `today` (UTC).
pub struct Figures {
    pub today: Date,
    pub paths: Figure<Vec<PathCount>>,
    pub sdks: Figure<Vec<(String, Counts)>>,
    pub daily: Figure<Vec<DailyCount>>,
    pub visitors: Figure<Vec<Visit>>,
    pub people: Figure<Vec<(AgeGroup, u64)>>,
}

/// The first day of the event log chart.
pub fn first_day(today: Date) -> Date {
    today.checked_sub(Duration::days(DAYS - 1)).unwrap_or(today)
}

/// Reads every section's figures at once; a failure stays in its own section (and the log).
pub async fn load(state: &DashboardState, today: Date) -> Figures {
    let first = crate::date::format(first_day(today));
    let last = crate::date::format(today);
    let (paths, sdks, daily, visitors, people) = tokio::join!(
        state.stats.ranked(None, TOP_PATHS),
        state.ads.sdk_versions(SDK_VERSIONS),
        state.logs.daily_counts(&first, &last, DAILY_COUNTERS),
        state.visits.top(TOP_VISITORS),
        state.people.group_counts(),
    );
    let figures = Figures {
        today,
        paths: paths.map(|ranked| ranked.entries),
        sdks,
        daily,
        visitors,
        people,
    };
    for (section, failed) in [
        ("paths", figures.paths.as_ref().err()),
        ("sdks", figures.sdks.as_ref().err()),
        ("daily", figures.daily.as_ref().err()),
        ("visitors", figures.visitors.as_ref().err()),
        ("people", figures.people.as_ref().err()),
    ] {
        if let Some(err) = failed {
            tracing::error!(section, error = %err, "dashboard section unavailable");
        }
    }
    figures
}
