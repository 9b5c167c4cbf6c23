//! Each section of the dashboard: its figures as chart rows, or a friendly empty state, or a
//! note that its store is unavailable. Every chart goes through `chart::bar_chart`.

use super::chart::{bar_chart, Chart, Layout, Row};
use super::{first_day, Figure, Figures};
use crate::ads::Stats;
use crate::date::{self, AGE_AT_GRADUATION};
use crate::html::escape;
use crate::people::age::AgeGroup;
use std::collections::BTreeMap;
use time::Duration;

/// Types drawn apart in the event log chart; the rest are summed as "other".
const TYPES_SHOWN: usize = 6;
/// Years per bar of the age histogram.
const AGE_BUCKET: u32 = 10;

/// A `<section>`: the chart (or empty state) of `figure`, or that its store did not answer.
fn section<T>(
    id: &str,
    heading: &str,
    figure: &Figure<T>,
    empty: &str,
    render: impl Fn(&T) -> Option<String>,
) -> String {
    let (state, body) = match figure {
        Err(_) => (
            "unavailable",
            "<p class=\"unavailable\">This section is unavailable right now: its store did not \
             answer. The other sections are current; reload in a moment.</p>"
                .to_string(),
        ),
        Ok(data) => match render(data) {
            Some(html) => ("ok", html),
            None => ("empty", format!("<p class=\"empty\">{}</p>", escape(empty))),
        },
    };
    format!(
        "<section id=\"{id}\" data-state=\"{state}\"><h2>{}</h2>\n{body}\n</section>",
        escape(heading)
    )
}

fn single(id: &str, title: &str, series: &str, rows: Vec<Row>) -> String {
    bar_chart(&Chart {
        id,
        title,
        series: &[series.to_string()],
        layout: Layout::Stacked,
        rows: &rows,
    })
}

fn counted(label: &str, count: u64) -> Row {
    Row {
        label: label.to_string(),
        values: vec![count],
        note: count.to_string(),
    }
}

pub fn paths(figures: &Figures) -> String {
    section(
        "paths",
        "Request statistics: most requested paths",
        &figures.paths,
        "No path has been requested through /api/ yet.",
        |paths| {
            let rows = paths.iter().map(|p| counted(&p.path, p.count)).collect();
            (!paths.is_empty()).then(|| single("paths-chart", "Top paths", "requests", rows))
        },
    )
}

pub fn sdks(figures: &Figures) -> String {
    section(
        "sdks",
        "Ad statistics per SDK version",
        &figures.sdks,
        "No ad request or impression has been counted yet.",
        |sdks| {
            let rows: Vec<Row> = sdks
                .iter()
                .map(|(version, counts)| Row {
                    label: version.clone(),
                    values: vec![counts.ad_requests, counts.impressions],
                    note: format!(
                        "{} req, {} imp, fill {:.1}%",
                        counts.ad_requests,
                        counts.impressions,
                        Stats::from(*counts).fill_rate * 100.0
                    ),
                })
                .collect();
            (!rows.is_empty()).then(|| {
                bar_chart(&Chart {
                    id: "sdks-chart",
                    title: "Ad requests and impressions per SDK version",
                    series: &["ad requests".into(), "impressions".into()],
                    layout: Layout::Grouped,
                    rows: &rows,
                })
            })
        },
    )
}

pub fn daily(figures: &Figures) -> String {
    section(
        "daily",
        "Event logs: actions per type per day (last 30 days, UTC)",
        &figures.daily,
        "No action has been logged in the last 30 days.",
        |daily| {
            let mut totals: BTreeMap<&str, u64> = BTreeMap::new();
            for d in daily {
                *totals.entry(d.kind.as_str()).or_default() += d.count;
            }
            let mut types: Vec<(&str, u64)> = totals.into_iter().collect();
            types.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            let shown: Vec<&str> = types.iter().take(TYPES_SHOWN).map(|t| t.0).collect();
            let mut series: Vec<String> = shown.iter().map(|t| t.to_string()).collect();
            if types.len() > TYPES_SHOWN {
                series.push("other".into());
            }
            let mut day = first_day(figures.today);
            let mut rows = Vec::new();
            while day <= figures.today {
                let label = date::format(day);
                let mut values = vec![0; series.len()];
                for d in daily.iter().filter(|d| d.day == label) {
                    let slot = shown.iter().position(|t| *t == d.kind);
                    values[slot.unwrap_or(TYPES_SHOWN)] += d.count;
                }
                let note = values.iter().sum::<u64>().to_string();
                rows.push(Row {
                    label,
                    values,
                    note,
                });
                day = day.saturating_add(Duration::days(1));
            }
            (!daily.is_empty()).then(|| {
                bar_chart(&Chart {
                    id: "daily-chart",
                    title: "Actions per type per day",
                    series: &series,
                    layout: Layout::Stacked,
                    rows: &rows,
                })
            })
        },
    )
}

pub fn visitors(figures: &Figures) -> String {
    section(
        "visitors",
        "Visit counter: most frequent visitors",
        &figures.visitors,
        "Nobody has been counted yet.",
        |visitors| {
            let rows = visitors.iter().map(|v| counted(&v.id, v.count)).collect();
            (!visitors.is_empty()).then(|| single("visitors-chart", "Top visitors", "visits", rows))
        },
    )
}

pub fn people(figures: &Figures) -> String {
    section(
        "people",
        "People directory: how many, and their ages",
        &figures.people,
        "The directory is empty.",
        |groups| {
            let total: u64 = groups.iter().map(|(_, n)| n).sum();
            (total > 0).then(|| {
                let rows = age_rows(groups, figures.today.year());
                format!(
                    "<p class=\"total\"><strong data-total=\"{total}\">{total}</strong> people</p>\n{}",
                    bar_chart(&Chart {
                        id: "people-chart",
                        title: "People per age, in decades",
                        series: &["stated age".into(), "estimated age".into(), "no age".into()],
                        layout: Layout::Stacked,
                        rows: &rows,
                    })
                )
            })
        },
    )
}

/// The histogram: one row per decade from the youngest to the oldest, stated ages and ages
/// estimated from the graduation year (the age reached this year) apart, then the unplaced.
fn age_rows(groups: &[(AgeGroup, u64)], year: i32) -> Vec<Row> {
    let mut decades: BTreeMap<u32, [u64; 2]> = BTreeMap::new();
    let mut unplaced = 0;
    for (group, count) in groups {
        let (age, slot) = match group {
            AgeGroup::Stated(age) => (u32::from(*age), 0),
            AgeGroup::Graduated(graduated) => {
                let years = u32::try_from(year - graduated).unwrap_or(0);
                (AGE_AT_GRADUATION + years, 1)
            }
            AgeGroup::Unplaced => {
                unplaced += count;
                continue;
            }
        };
        decades.entry(age / AGE_BUCKET).or_default()[slot] += count;
    }
    let low = decades.keys().next().copied().unwrap_or(0);
    let high = decades.keys().next_back().copied();
    let mut rows: Vec<Row> = (low..high.map_or(low, |h| h + 1))
        .map(|decade| {
            let [stated, estimated] = decades.get(&decade).copied().unwrap_or_default();
            let low = decade * AGE_BUCKET;
            Row {
                label: format!("{low}–{}", low + AGE_BUCKET - 1),
                values: vec![stated, estimated, 0],
                note: (stated + estimated).to_string(),
            }
        })
        .collect();
    if unplaced > 0 {
        rows.push(Row {
            label: "no age or date".into(),
            values: vec![0, 0, unplaced],
            note: unplaced.to_string(),
        });
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_fall_into_decades_with_estimates_apart_and_gaps_kept() {
        let groups = [
            (AgeGroup::Stated(7), 2),
            (AgeGroup::Stated(35), 1),
            (AgeGroup::Graduated(2000), 3),
            (AgeGroup::Unplaced, 4),
        ];
        let rows = age_rows(&groups, 2026);
        let view: Vec<(&str, &[u64])> = rows
            .iter()
            .map(|r| (r.label.as_str(), r.values.as_slice()))
            .collect();
        assert_eq!(
            view,
            vec![
                ("0–9", &[2, 0, 0][..]),
                ("10–19", &[0, 0, 0][..]),
                ("20–29", &[0, 0, 0][..]),
                ("30–39", &[1, 3, 0][..]),
                ("no age or date", &[0, 0, 4][..]),
            ]
        );
    }
}
