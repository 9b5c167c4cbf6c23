//! The one chart of the dashboard: horizontal bars drawn as inline SVG by the server, each row
//! labelled in text, each bar titled with its exact number, so it reads without scripts or CSS.

use crate::html::escape;
use std::fmt::Write;

/// Colours of the series, in order (each at least 3:1 against white).
const PALETTE: &[&str] = &[
    "#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#c53030", "#2c7a7b", "#4a5568",
];
const WIDTH: u32 = 600;
const LABEL_WIDTH: u32 = 170;
const BAR_WIDTH: u32 = 250;
const NOTE_X: u32 = LABEL_WIDTH + BAR_WIDTH + 8;
const ROW: u32 = 22;
const BAR: u32 = 14;
/// Longest label drawn whole; longer ones are cut (the bar's title keeps them whole).
const LABEL_CHARS: usize = 24;

/// How a row's values share its bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One after the other on one bar (parts of a whole).
    Stacked,
    /// One thin bar per series (figures to compare).
    Grouped,
}

/// One row: its label, one value per series, and the text shown after the bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub label: String,
    pub values: Vec<u64>,
    pub note: String,
}

/// A chart: `id` names it in the page, `series` its values (a legend when more than one).
pub struct Chart<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub series: &'a [String],
    pub layout: Layout,
    pub rows: &'a [Row],
}

impl Chart<'_> {
    /// The largest value one bar must hold: the biggest sum (stacked) or value (grouped).
    fn scale(&self) -> u64 {
        let per_row = |row: &Row| match self.layout {
            Layout::Stacked => row.values.iter().sum(),
            Layout::Grouped => row.values.iter().copied().max().unwrap_or(0),
        };
        self.rows.iter().map(per_row).max().unwrap_or(0).max(1)
    }

    fn row_height(&self) -> u32 {
        match self.layout {
            Layout::Stacked => ROW,
            Layout::Grouped => BAR / 2 * self.series.len().max(1) as u32 + (ROW - BAR),
        }
    }

    fn legend_height(&self) -> u32 {
        if self.series.len() > 1 {
            ROW
        } else {
            0
        }
    }
}

/// The chart as an `<svg>` element, with a `<title>` and a `<desc>` for assistive technology.
pub fn bar_chart(chart: &Chart) -> String {
    let height = chart.legend_height() + chart.row_height() * chart.rows.len() as u32 + 4;
    let mut svg = format!(
        "<svg id=\"{id}\" class=\"chart\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" \
         viewBox=\"0 0 {WIDTH} {height}\" width=\"100%\" preserveAspectRatio=\"xMinYMin meet\" \
         font-family=\"system-ui, sans-serif\" font-size=\"12\">\
         <title id=\"{id}-title\">{title}</title><desc id=\"{id}-desc\">{rows} rows</desc>",
        id = chart.id,
        title = escape(chart.title),
        rows = chart.rows.len(),
    );
    legend(&mut svg, chart);
    let scale = chart.scale();
    for (i, row) in chart.rows.iter().enumerate() {
        let y = chart.legend_height() + chart.row_height() * i as u32;
        draw_row(&mut svg, chart, row, y, scale);
    }
    svg.push_str("</svg>");
    svg
}

fn legend(svg: &mut String, chart: &Chart) {
    if chart.series.len() < 2 {
        return;
    }
    let mut x = LABEL_WIDTH;
    for (i, name) in chart.series.iter().enumerate() {
        let _ = write!(
            svg,
            "<rect x=\"{x}\" y=\"4\" width=\"10\" height=\"10\" fill=\"{}\"/>\
             <text x=\"{}\" y=\"13\">{}</text>",
            PALETTE[i % PALETTE.len()],
            x + 14,
            escape(name)
        );
        x += 20 + 7 * name.chars().count() as u32;
    }
}

/// The pixel length of `value` on a bar whose end is `scale`; at least 1 when not zero.
fn length(value: u64, scale: u64) -> u32 {
    let exact = (value as f64 / scale as f64 * f64::from(BAR_WIDTH)).round() as u32;
    exact.max(u32::from(value > 0))
}

fn draw_row(svg: &mut String, chart: &Chart, row: &Row, y: u32, scale: u64) {
    let shown: String = row.label.chars().take(LABEL_CHARS).collect();
    let cut = if shown.len() < row.label.len() {
        "…"
    } else {
        ""
    };
    let middle = y + chart.row_height() / 2 + 4;
    let _ = write!(
        svg,
        "<g class=\"row\"><text x=\"{}\" y=\"{middle}\" text-anchor=\"end\">\
         <title>{label}</title>{}{cut}</text>",
        LABEL_WIDTH - 6,
        escape(&shown),
        label = escape(&row.label),
    );
    let mut x = LABEL_WIDTH;
    for (i, value) in row.values.iter().enumerate() {
        let width = length(*value, scale);
        let bar_y = match chart.layout {
            Layout::Stacked => y + (ROW - BAR) / 2,
            Layout::Grouped => y + (ROW - BAR) / 2 + BAR / 2 * i as u32,
        };
        let thickness = match chart.layout {
            Layout::Stacked => BAR,
            Layout::Grouped => BAR / 2,
        };
        let series = chart.series.get(i).map(String::as_str).unwrap_or_default();
        let _ = write!(
            svg,
            "<rect x=\"{x}\" y=\"{bar_y}\" width=\"{width}\" height=\"{thickness}\" fill=\"{}\" \
             data-series=\"{series}\" data-value=\"{value}\"><title>{label}: {value} {series}</title></rect>",
            PALETTE[i % PALETTE.len()],
            series = escape(series),
            label = escape(&row.label),
        );
        if chart.layout == Layout::Stacked {
            x += width;
        }
    }
    let _ = write!(
        svg,
        "<text x=\"{NOTE_X}\" y=\"{middle}\">{}</text></g>",
        escape(&row.note)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(label: &str, values: &[u64]) -> Row {
        Row {
            label: label.into(),
            values: values.to_vec(),
            note: values.iter().sum::<u64>().to_string(),
        }
    }

    #[test]
    fn bars_are_scaled_to_the_largest_and_titled_with_their_numbers() {
        let series = ["requests".to_string()];
        let rows = [row("a/b", &[10]), row("c", &[5]), row("d", &[0])];
        let svg = bar_chart(&Chart {
            id: "paths-chart",
            title: "Paths",
            series: &series,
            layout: Layout::Stacked,
            rows: &rows,
        });
        assert!(svg.starts_with("<svg id=\"paths-chart\""));
        assert!(svg.contains("width=\"250\" height=\"14\""));
        assert!(svg.contains("width=\"125\" height=\"14\""));
        assert!(svg.contains("width=\"0\" height=\"14\""));
        assert!(svg.contains("<title>a/b: 10 requests</title>"));
        assert!(!svg.contains("height=\"10\""), "no legend for one series");
    }

    #[test]
    fn labels_and_series_are_escaped_and_long_labels_cut() {
        let series = ["<s>".to_string(), "b".to_string()];
        let long = format!("<script>{}", "x".repeat(40));
        let rows = [row(&long, &[1, 2])];
        let svg = bar_chart(&Chart {
            id: "c",
            title: "\"t\"",
            series: &series,
            layout: Layout::Grouped,
            rows: &rows,
        });
        assert!(!svg.contains("<script>") && !svg.contains("<s>"));
        assert!(svg.contains("&lt;script&gt;xxxxxxxxxxxxxxxx…"));
        assert!(svg.contains("<title id=\"c-title\">&quot;t&quot;</title>"));
        assert!(svg.contains("data-series=\"&lt;s&gt;\" data-value=\"1\""));
    }

    #[test]
    fn stacked_parts_follow_each_other_and_small_values_stay_visible() {
        assert_eq!(length(1, 1000), 1);
        assert_eq!(length(0, 1000), 0);
        let series = ["a".to_string(), "b".to_string()];
        let rows = [row("d", &[50, 50])];
        let svg = bar_chart(&Chart {
            id: "s",
            title: "s",
            series: &series,
            layout: Layout::Stacked,
            rows: &rows,
        });
        assert!(svg.contains("<rect x=\"170\" y=\"26\" width=\"125\""));
        assert!(svg.contains("<rect x=\"295\" y=\"26\" width=\"125\""));
    }
}
