//! Renders the benchmark figures and the cost table as Markdown and writes each into the README
//! between its markers.

use super::cold::ColdStart;
use super::cost::{per_million, route_cost, Measured, BILLED_MS};
use super::warm::Throughput;
use crate::meter::Units;
use std::fmt::Write;

/// The markers of the benchmark section (cold starts), the warm section and the cost section.
pub const BENCH: Markers = ("<!-- bench:start -->", "<!-- bench:end -->");
pub const WARM: Markers = ("<!-- warm:start -->", "<!-- warm:end -->");
pub const COST: Markers = ("<!-- cost:start -->", "<!-- cost:end -->");

/// A section's start and end markers.
pub type Markers = (&'static str, &'static str);

/// The benchmark section: the header and the cold starts.
pub fn render(header: &str, cold: &[ColdStart]) -> String {
    let mut out = format!("{header}\n\n");
    let cold_rows = cold.iter().map(|c| {
        format!(
            "| {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {} |",
            c.function,
            c.init_ms,
            c.first_invoke_ms,
            c.first_response_ms,
            c.peak_rss_mib,
            c.size_mib,
            c.status
        )
    });
    table(
        &mut out,
        "**Cold start** (release binary, loopback Runtime API, median of runs; the first invocation includes the TLS handshake with a TLS terminator in front of the local DynamoDB server (dynalite), as every cold start in AWS pays it, unless the Init warm-up opened it):",
        "| function | init ms | first invocation ms | exec to first response ms | peak RSS MiB | binary MiB | status |",
        "|---|---:|---:|---:|---:|---:|---:|",
        cold_rows,
    );
    out
}

/// The warm section: `intro`, then a row per scenario and concurrency; `POST /log` rows give
/// actions per second too.
pub fn render_warm(intro: &str, warm: &[Throughput]) -> String {
    let mut out = String::new();
    let rows = warm.iter().map(|w| {
        let actions = match w.actions {
            0 => String::new(),
            n => format!(" ({:.0} actions/s)", w.requests_per_second * f64::from(n)),
        };
        let cpu = w.cpu_us.map(|us| format!("{us:.1}")).unwrap_or_default();
        format!(
            "| {} | {} | {:.0}{actions} | {:.2} | {:.2} | {cpu} | {} |",
            w.scenario, w.connections, w.requests_per_second, w.p50_ms, w.p99_ms, w.non_2xx
        )
    });
    table(
        &mut out,
        intro,
        "| request | connections | requests/s | p50 ms | p99 ms | server CPU µs/request | non-2xx |",
        "|---|---:|---:|---:|---:|---:|---:|",
        rows,
    );
    out
}

/// Appends a Markdown table: an introduction, a blank line, the header, alignment and rows.
fn table(
    out: &mut String,
    intro: &str,
    header: &str,
    align: &str,
    rows: impl Iterator<Item = String>,
) {
    let _ = writeln!(out, "{intro}\n\n{header}\n{align}");
    for row in rows {
        let _ = writeln!(out, "{row}");
    }
}

/// The cost section: each function's measured units on small and realistic data, its budget
/// and its price per million.
pub fn render_cost(measured: &[Measured]) -> String {
    let mut out = String::new();
    table(
        &mut out,
        &format!(
            "Measured by `make cost` (also run by `make bench`): each function's request sent \
             through the meter (`tests/src/meter`, rules in `docs/cost.md`) to dynalite; *small* \
             is its event on fresh tables, *realistic* the request of \
             `tests/src/bench/realistic.rs` on the largest items the contract allows (a reading \
             route: its event on that data). The budget is the route's row in \
             `tests/src/bench/cost.rs`; `make test` fails a writing route whose realistic units \
             exceed it. USD per million requests at list prices: HTTP API $1.00/M, Lambda arm64 \
             $0.20/M + $0.0000133334/GB-s at 128 MB for {BILLED_MS} ms, DynamoDB on-demand \
             $0.625/M WRU, $0.125/M RRU."
        ),
        "| function | operations (small) | RRU | WRU | USD/M | realistic RRU | realistic WRU | realistic USD/M | budget RRU | budget WRU | why |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        measured.iter().map(cost_row),
    );
    out
}

/// One function's cost row; a realistic figure over the budget is marked.
fn cost_row(m: &Measured) -> String {
    let (budget_rru, budget_wru, why) = route_cost(m.function).map_or(
        (
            f64::INFINITY,
            f64::INFINITY,
            "no budget in `tests/src/bench/cost.rs` yet",
        ),
        |c| (c.rru, c.wru, c.why),
    );
    let over = |units: f64, budget: f64| {
        if units > budget {
            format!("**{units}** (over budget)")
        } else {
            units.to_string()
        }
    };
    format!(
        "| {} | {} | {} | {} | {:.2} | {} | {} | {:.2} | {budget_rru} | {budget_wru} | {why} |",
        m.function,
        operations(&m.small),
        m.small.rru,
        m.small.wru,
        per_million(&m.small),
        over(m.realistic.rru, budget_rru),
        over(m.realistic.wru, budget_wru),
        per_million(&m.realistic),
    )
}

/// The operations sent, each with how often: `Query x4, GetItem`.
fn operations(units: &Units) -> String {
    let mut counted: Vec<(&str, usize)> = Vec::new();
    for op in units.operations() {
        match counted.iter_mut().find(|(name, _)| *name == op) {
            Some((_, n)) => *n += 1,
            None => counted.push((op, 1)),
        }
    }
    if counted.is_empty() {
        return "none".into();
    }
    let named = counted.iter().map(|(op, n)| {
        if *n == 1 {
            op.to_string()
        } else {
            format!("{op} x{n}")
        }
    });
    named.collect::<Vec<_>>().join(", ")
}

/// Replaces the text between the `markers` in `readme` with `section`.
pub fn splice(readme: &str, markers: Markers, section: &str) -> Option<String> {
    let (start, end) = markers;
    let start = readme.find(start)? + start.len();
    let end = readme.find(end)?;
    (start <= end).then(|| {
        format!(
            "{}\n{}\n{}",
            &readme[..start],
            section.trim_end(),
            &readme[end..]
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_rows_mark_what_exceeds_the_budget_and_count_operations() {
        let op = |operation: &str, rru: f64, wru: f64| crate::meter::OpUnits {
            operation: operation.into(),
            rru,
            wru,
            parts: Vec::new(),
            reported: None,
        };
        let small = Units {
            rru: 1.0,
            wru: 0.0,
            per_op: vec![
                op("Query", 0.5, 0.0),
                op("Query", 0.5, 0.0),
                op("GetItem", 0.0, 0.0),
            ],
        };
        let realistic = Units {
            rru: 0.0,
            wru: 99.0,
            per_op: Vec::new(),
        };
        let measured = Measured {
            function: "visits-increment",
            small,
            realistic,
        };
        let section = render_cost(&[measured]);
        assert!(
            section.contains("| visits-increment | Query x2, GetItem | 1 | 0 |"),
            "{section}"
        );
        assert!(section.contains("| **99** (over budget) |"), "{section}");
    }

    #[test]
    fn splice_replaces_only_the_marked_section() {
        let (start, end) = COST;
        let readme = format!("a\n{start}\nold\n{end}\nb");
        assert_eq!(
            splice(&readme, COST, "new").as_deref(),
            Some(format!("a\n{start}\nnew\n{end}\nb").as_str())
        );
        assert_eq!(splice(&readme, BENCH, "new"), None);
    }
}
