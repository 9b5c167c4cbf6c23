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
    let mut out = String::new();
    let _ = writeln!(out, "{header}\n");
    let _ = writeln!(out, "**Cold start** (release binary, loopback Runtime API, median of runs; first invocation includes connecting to the local DynamoDB server):\n");
    let _ = writeln!(
        out,
        "| function | init ms | first invocation ms | peak RSS MiB | binary MiB | status |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
    for c in cold {
        let _ = writeln!(
            out,
            "| {} | {:.1} | {:.1} | {:.1} | {:.1} | {} |",
            c.function, c.init_ms, c.first_invoke_ms, c.peak_rss_mib, c.size_mib, c.status
        );
    }
    let _ = writeln!(
        out,
        "\n**Warm throughput** (local API, release build, embedded store, `wrk`):\n"
    );
    let _ = writeln!(
        out,
        "| request | connections | requests/s | p50 ms | p99 ms | non-2xx |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
    for w in warm {
        let _ = writeln!(
            out,
            "| `{}` | {} | {:.0} | {:.2} | {:.2} | {} |",
            w.scenario, w.connections, w.requests_per_second, w.p50_ms, w.p99_ms, w.non_2xx
        );
    }
    let _ = writeln!(out, "\n**Cost per request** (DynamoDB units by the published rules; operations checked on the wire against the local DynamoDB server; USD per million requests at list prices: HTTP API $1.00/M, Lambda arm64 $0.20/M + $0.0000133334/GB-s at 128 MB billed for the first-invocation time above, DynamoDB on-demand $0.625/M WRU, $0.125/M RRU):\n");
    let _ = writeln!(
        out,
        "| function | operations | RRU | WRU | USD per million | why |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---|");
    for c in cold {
        if let Some(cost) = route_cost(&c.function) {
            let ops_ok = checked
                .iter()
                .find(|(f, _)| f == &c.function)
                .map(|(_, ok)| *ok)
                .unwrap_or(false);
            let ops = if cost.operations.is_empty() {
                "none".to_string()
            } else {
                cost.operations.join(", ")
            };
            let _ = writeln!(
                out,
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
            );
        }
    }
    out
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
    fn splice_replaces_only_the_marked_section() {
        let readme = format!("a\n{START}\nold\n{END}\nb");
        assert_eq!(
            splice(&readme, "new").as_deref(),
            Some(format!("a\n{START}\nnew\n{END}\nb").as_str())
        );
        assert_eq!(splice("no markers", "new"), None);
    }
}
