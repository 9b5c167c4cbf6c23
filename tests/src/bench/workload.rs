//! Workloads for amortized costs: which key each of N requests hits, Zipf-distributed (a few
//! keys take most requests, as real visitors and paths do) or uniform, reproducibly from a seed.
//! Send the requests through `cost::MeteredApi::run` to get their total units.

/// `count` key indexes in `0..keys`, where key k is drawn with weight 1 / (k + 1)^`exponent`
/// (`exponent` 0 is uniform; about 1 is the classic Zipf of web traffic).
pub fn zipf(keys: usize, exponent: f64, count: usize, seed: u64) -> Vec<usize> {
    let mut cumulative = Vec::with_capacity(keys);
    let mut total = 0.0;
    for k in 0..keys {
        total += 1.0 / ((k + 1) as f64).powf(exponent);
        cumulative.push(total);
    }
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..count)
        .map(|_| {
            let point = rng.f64() * total;
            cumulative
                .partition_point(|&c| c <= point)
                .min(keys.saturating_sub(1))
        })
        .collect()
}

/// `count` key indexes in `0..keys`, each as likely.
pub fn uniform(keys: usize, count: usize, seed: u64) -> Vec<usize> {
    zipf(keys, 0.0, count, seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zipf_favours_the_first_keys_and_uniform_does_not() {
        let skewed = zipf(1000, 1.0, 10_000, 7);
        let first = skewed.iter().filter(|&&k| k == 0).count();
        // Key 0's share is 1 / H(1000), about 13 %.
        assert!((1_000..1_700).contains(&first), "{first}");
        assert!(skewed.iter().all(|&k| k < 1000));
        let flat = uniform(10, 10_000, 7);
        let zeros = flat.iter().filter(|&&k| k == 0).count();
        assert!((800..1_200).contains(&zeros), "{zeros}");
        assert_eq!(zipf(1000, 1.0, 100, 7), zipf(1000, 1.0, 100, 7));
    }
}
