//! The entry floor of `ByRank`: the least count that can still reach the top list, learnt for
//! free from the counts this process's own increments return (`docs/visits.md`, "The entry floor").

use super::rank::rank;
use super::TOP_VISITORS;

/// The `TOP_VISITORS` highest counts this process has seen, of distinct ids that hold a rank.
/// Counts only grow, so those ids are counted at least that much now, and they are in `ByRank`.
#[derive(Debug, Default)]
pub struct RankedSeen {
    highest: Vec<(String, u64)>,
}

impl RankedSeen {
    /// The entry floor: `TOP_VISITORS` ranked ids are counted at least this much, so an id
    /// counted less is not in the top list and needs no `ByRank` entry. 0 until that many are seen.
    pub fn floor(&self) -> u64 {
        if self.highest.len() < TOP_VISITORS {
            return 0;
        }
        self.highest
            .iter()
            .map(|&(_, count)| count)
            .min()
            .unwrap_or(0)
    }

    /// Records that `id`, which holds a rank, has been counted `count` times.
    pub fn saw(&mut self, id: &str, count: u64) {
        if let Some(seen) = self.highest.iter_mut().find(|(seen, _)| seen == id) {
            seen.1 = seen.1.max(count);
        } else if self.highest.len() < TOP_VISITORS {
            self.highest.push((id.to_string(), count));
        } else if let Some(lowest) = self.highest.iter_mut().min_by_key(|(_, count)| *count) {
            if count > lowest.1 {
                *lowest = (id.to_string(), count);
            }
        }
    }
}

/// The rank an increment that left `count` must set: `rank(count)` when it is above the
/// `stored` rank and `count` reaches the entry `floor`; otherwise none (the `ADD` alone).
pub fn rank_to_set(count: u64, stored: Option<u64>, floor: u64) -> Option<u64> {
    rank(count).filter(|&rank| stored < Some(rank) && count >= floor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_is_zero_until_ten_distinct_ranked_ids_are_seen_then_their_lowest_count() {
        let mut seen = RankedSeen::default();
        for i in 0..9 {
            seen.saw(&format!("id{i}"), 10 + i);
            seen.saw(&format!("id{i}"), 10 + i);
        }
        assert_eq!(seen.floor(), 0, "nine distinct ids, one of them twice");
        seen.saw("id9", 5);
        assert_eq!(seen.floor(), 5);
        seen.saw("id9", 30);
        assert_eq!(seen.floor(), 10, "an id seen again keeps its highest count");
    }

    #[test]
    fn a_higher_count_replaces_the_lowest_and_a_lower_one_is_ignored() {
        let mut seen = RankedSeen::default();
        for i in 0..10 {
            seen.saw(&format!("id{i}"), 20 + i);
        }
        seen.saw("low", 19);
        assert_eq!(seen.floor(), 20);
        seen.saw("high", 50);
        assert_eq!(seen.floor(), 21, "id0 (20) made way for high");
        seen.saw("id5", 3);
        assert_eq!(
            seen.floor(),
            21,
            "a count seen lower than before changes nothing"
        );
    }

    #[test]
    fn a_rank_is_set_only_above_the_stored_one_and_from_the_floor_up() {
        assert_eq!(rank_to_set(1, None, 0), None);
        assert_eq!(rank_to_set(2, None, 0), Some(2));
        assert_eq!(rank_to_set(3, Some(2), 0), None);
        assert_eq!(rank_to_set(8, Some(2), 0), Some(8));
        assert_eq!(rank_to_set(7, None, 8), None, "below the floor");
        assert_eq!(
            rank_to_set(8, None, 8),
            Some(8),
            "at the floor: a tie may be shown"
        );
        assert_eq!(rank_to_set(9, Some(8), 8), None);
    }
}
