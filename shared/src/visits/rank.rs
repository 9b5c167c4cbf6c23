//! Where a visitor stands for the dashboard's top list: a rank that moves only when the count
//! crosses 2·4^j, so the rank index is rewritten about log4(count) times per id, not per visit.

/// The rank of a counter counted `count` times: none for 0 and 1 (the long tail, which the
/// top list reads in id order), else the largest 2·4^j not above `count` (2, 8, 32, 128, ...).
/// Ranks order counts: a higher rank always means a higher count.
pub fn rank(count: u64) -> Option<u64> {
    let half = count / 2;
    if half == 0 {
        return None;
    }
    let bits = half.ilog2();
    Some(2u64 << (bits & !1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_are_two_times_powers_of_four_and_absent_below_two() {
        let ranks: Vec<Option<u64>> = [0, 1, 2, 7, 8, 31, 32, 127, 128]
            .into_iter()
            .map(rank)
            .collect();
        let expected = [
            None,
            None,
            Some(2),
            Some(2),
            Some(8),
            Some(8),
            Some(32),
            Some(32),
        ];
        assert_eq!(ranks[..8], expected);
        assert_eq!(rank(128), Some(128));
        assert_eq!(rank(u64::MAX), Some(1 << 63));
    }

    #[test]
    fn a_rank_is_never_above_its_count_and_the_next_rank_starts_at_four_times_it() {
        for count in 2..5000u64 {
            let r = rank(count).expect("ranked");
            assert!(r <= count && count < 4 * r, "{count} -> {r}");
        }
    }
}
