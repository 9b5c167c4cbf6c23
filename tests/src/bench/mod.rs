//! `make bench`: cold start, warm throughput and cost per request, measured here and written
//! into the README's benchmark section.

pub mod cold;
pub mod cost;
pub mod counters;
pub mod dashboard;
pub mod logs_mix;
pub mod people;
pub mod realistic;
pub mod report;
pub mod warm;
pub mod workload;

/// The median of some durations or sizes (the upper one for an even count).
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn median_takes_the_middle_value() {
        assert_eq!(super::median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(super::median(vec![]), 0.0);
    }
}
