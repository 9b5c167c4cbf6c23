//! Renders the benchmark figures as Markdown and writes them into the README between markers.

use super::cold::ColdStart;
use super::cost::{per_million, route_cost};
use super::warm::Throughput;
use std::fmt::Write;

pub const START: &str = "<!-- bench:start -->";
pub const END: &str = "<!-- bench:end -->";

/// The whole benchmark section.
pub fn render(
    header: &str,
    cold: &[ColdStart],
    warm: &[Throughput],
    checked: &[(String, bool)],
) -> String {
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
        "**Cold start** (release binary, loopback Runtime API, median of runs; the first invocation includes the TLS handshake with a TLS terminator in front of the local DynamoDB server (dynalite), as every cold start in AWS pays it; built with `AWS_LC_SYS_NO_JITTER_ENTROPY=1`):",
        "| function | init ms | first invocation ms | exec to first response ms | peak RSS MiB | binary MiB | status |",
        "|---|---:|---:|---:|---:|---:|---:|",
        cold_rows,
    );
    let warm_rows = warm.iter().map(|w| {
        format!(
            "| {} | {} | {:.0} | {:.2} | {:.2} | {} |",
            w.scenario, w.connections, w.requests_per_second, w.p50_ms, w.p99_ms, w.non_2xx
        )
    });
    table(
        &mut out,
        "\n**Warm throughput** (local API, release build, embedded store, `wrk`):",
        "| request | connections | requests/s | p50 ms | p99 ms | non-2xx |",
        "|---|---:|---:|---:|---:|---:|",
        warm_rows,
    );
    let cost_rows = cold.iter().map(|c| cost_row(c, checked));
    table(
        &mut out,
        "\n**Cost per request** (DynamoDB units by the published rules; operations checked on the wire against the local DynamoDB server; USD per million requests at list prices: HTTP API $1.00/M, Lambda arm64 $0.20/M + $0.0000133334/GB-s at 128 MB billed for the first-invocation time above, DynamoDB on-demand $0.625/M WRU, $0.125/M RRU):",
        "| function | operations | RRU | WRU | USD per million | why |",
        "|---|---|---:|---:|---:|---|",
        cost_rows,
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

/// One function's cost row (or a note that it has no cost model yet); flags operations that
/// differ on the wire.
fn cost_row(c: &ColdStart, checked: &[(String, bool)]) -> String {
    let Some(cost) = route_cost(&c.function) else {
        return format!(
            "| {} | not modelled | | | | no cost model in `tests/src/bench/cost.rs` yet |",
            c.function
        );
    };
    let ops_ok = checked.iter().any(|(f, ok)| f == &c.function && *ok);
    let ops = if cost.operations.is_empty() {
        "none".to_string()
    } else {
        cost.operations.join(", ")
    };
    format!(
        "| {} | {}{} | {} | {} | {:.2} | {} |",
        c.function,
        ops,
        if ops_ok {
            ""
        } else {
            " (**differs on the wire**)"
        },
        cost.read_units,
        cost.write_units,
        per_million(cost, c.first_invoke_ms),
        cost.why
    )
}

/// Replaces the text between the markers in `readme` with `section`.
pub fn splice(readme: &str, section: &str) -> Option<String> {
    let start = readme.find(START)? + START.len();
    let end = readme.find(END)?;
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
    fn cost_rows_flag_operations_that_differ_on_the_wire() {
        let cold = ColdStart {
            function: "visits-count".into(),
            init_ms: 7.0,
            first_invoke_ms: 2.0,
            first_response_ms: 9.0,
            peak_rss_mib: 10.0,
            size_mib: 9.0,
            status: 200,
        };
        let ok = render(
            "h",
            std::slice::from_ref(&cold),
            &[],
            &[("visits-count".into(), true)],
        );
        assert!(ok.starts_with("h\n\n**Cold start**"));
        assert!(ok.contains("| visits-count | GetItem | 1 | 0 |"), "{ok}");
        let unmodelled = ColdStart {
            function: "new-route".into(),
            ..cold.clone()
        };
        let note = render("h", std::slice::from_ref(&unmodelled), &[], &[]);
        assert!(note.contains("| new-route | not modelled |"), "{note}");
        let differs = render("h", &[cold], &[], &[("visits-count".into(), false)]);
        assert!(
            differs.contains("GetItem (**differs on the wire**)"),
            "{differs}"
        );
    }

    #[test]
    fn splice_replaces_only_the_marked_section() {
        let readme = format!("a\n{START}\nold\n{END}\nb");
        assert_eq!(
            splice(&readme, "new").as_deref(),
            Some(format!("a\n{START}\nnew\n{END}\nb").as_str())
        );
        assert_eq!(splice("no markers", "new"), None);
    }
}
