//! Amortized write units of the counter routes (`bench counters`): a million increments over
//! Zipf and uniform keys, simulated in-process transition by transition. Sending a million
//! real requests to a local DynamoDB server would take hours; what an increment writes depends
//! only on the count it leaves, the rank stored and the entry floor of the process that serves
//! it, so each kind of transition is priced once (by DynamoDB's rules, and measured on the wire
//! by the meter in `tests/integration/visits_store.rs`), the floor comes from the store's own
//! `RankedSeen`, and the simulation counts how often each transition happens. Keys are drawn by
//! `workload`.

use super::workload::zipf;
use std::collections::HashMap;
use tally::visits::floor::{rank_to_set, RankedSeen};
use tally::visits::TOP_VISITORS;

/// Increments per simulated workload.
pub const INCREMENTS: u64 = 1_000_000;

/// What one visit increment writes (`visits::dynamodb`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisitWrite {
    /// `ADD count 1` on an item under 1 KB, keyed (shard, id): no index holds `count`.
    Add,
    /// The id gets its first rank: the ADD, then `SET rank` (1) and its new `ByRank` entry (1).
    EnterRank,
    /// The id's rank is raised: the ADD, `SET rank` (1), and the entry's sort key changes
    /// (delete + put: 2).
    MoveRank,
}

impl VisitWrite {
    /// The transition of an increment that found rank `stored` and sets rank `set`
    /// (`visits::floor::rank_to_set`).
    pub fn of(stored: Option<u64>, set: Option<u64>) -> Self {
        match (stored, set) {
            (_, None) => VisitWrite::Add,
            (None, Some(_)) => VisitWrite::EnterRank,
            (Some(_), Some(_)) => VisitWrite::MoveRank,
        }
    }

    /// Write units, for ids up to 128 code points (items and entries stay under 1 KB).
    pub fn units(self) -> u64 {
        match self {
            VisitWrite::Add => 1,
            VisitWrite::EnterRank => 3,
            VisitWrite::MoveRank => 4,
        }
    }
}

/// The visit counter's stored ranks and the entry floors of the processes serving it.
struct VisitModel {
    ranks: HashMap<usize, u64>,
    processes: Vec<RankedSeen>,
    pick: fastrand::Rng,
}

impl VisitModel {
    fn new(processes: usize, seed: u64) -> Self {
        VisitModel {
            ranks: HashMap::new(),
            processes: (0..processes).map(|_| RankedSeen::default()).collect(),
            pick: fastrand::Rng::with_seed(seed),
        }
    }

    /// An increment of `key` to `count`, served by a process picked at random (as a load
    /// balancer would), priced as `DynamoVisits::increment` writes it.
    fn increment(&mut self, key: usize, count: u64) -> VisitWrite {
        let process = self.pick.usize(..self.processes.len());
        let seen = &mut self.processes[process];
        let stored = self.ranks.get(&key).copied();
        let set = rank_to_set(count, stored, seen.floor());
        if let Some(rank) = set {
            self.ranks.insert(key, rank);
        }
        if set.or(stored).is_some() {
            seen.saw(&key.to_string(), count);
        }
        VisitWrite::of(stored, set)
    }

    /// The ids `top(TOP_VISITORS)` reads by key: those ranked at or above the tenth highest rank.
    fn top_candidates(&self) -> usize {
        let mut ranks: Vec<u64> = self.ranks.values().copied().collect();
        ranks.sort_unstable_by(|a, b| b.cmp(a));
        match ranks.get(TOP_VISITORS - 1) {
            Some(&cut) => ranks.iter().take_while(|&&rank| rank >= cut).count(),
            None => ranks.len(),
        }
    }
}

/// What one request-statistics increment writes (`stats::dynamodb`): the item, and both
/// keys-only indexes, whose keys move with every count (a new path: one put in each).
pub fn stats_units(count: u64) -> u64 {
    if count == 1 {
        3
    } else {
        5
    }
}

/// How keys are drawn.
#[derive(Debug, Clone, Copy)]
pub enum Keys {
    /// Key k of n with probability proportional to 1/k^s.
    Zipf {
        n: u32,
        s: f64,
    },
    Uniform {
        n: u32,
    },
}

/// One workload's result: write units per increment, and what it touched.
#[derive(Debug)]
pub struct Amortized {
    pub keys: Keys,
    /// Processes serving the visit increments, each with its own entry floor.
    pub processes: usize,
    pub distinct: usize,
    pub visits_per_increment: f64,
    pub stats_per_increment: f64,
    /// The least any exact ranking whose pages read at most `PAGE` entries must write per
    /// increment on this workload (`exact_ranking_floor`).
    pub exact_floor: f64,
    /// How many increments of each visit transition (`Add`, `EnterRank`, `MoveRank`).
    pub visit_transitions: [u64; 3],
    /// The ids the top list reads by key at the end: every one ranked at or above the tenth
    /// highest rank (1 RRU each).
    pub top_candidates: usize,
}

/// Runs `increments` increments over `keys`, pricing each with both counters' designs, the
/// visit increments spread over `processes` processes.
pub fn simulate(keys: Keys, increments: u64, seed: u64, processes: usize) -> Amortized {
    let (n, exponent) = match keys {
        Keys::Zipf { n, s } => (n, s),
        Keys::Uniform { n } => (n, 0.0),
    };
    let draws = zipf(n as usize, exponent, increments as usize, seed);
    let mut counts: HashMap<usize, u64> = HashMap::new();
    let mut model = VisitModel::new(processes, seed);
    let (mut visits, mut stats) = (0u64, 0u64);
    let mut visit_transitions = [0u64; 3];
    for key in draws {
        let count = counts.entry(key).or_insert(0);
        *count += 1;
        let write = model.increment(key, *count);
        visits += write.units();
        visit_transitions[write as usize] += 1;
        stats += stats_units(*count);
    }
    let per = |units: u64| units as f64 / increments as f64;
    Amortized {
        keys,
        processes,
        distinct: counts.len(),
        visits_per_increment: per(visits),
        stats_per_increment: per(stats),
        exact_floor: exact_ranking_floor(counts.values().copied(), increments),
        visit_transitions,
        top_candidates: model.top_candidates(),
    }
}

/// Entries a page may read: a default page of `/stats/` and one more.
pub const PAGE: u64 = 101;

/// A lower bound on the write units per increment of any index design that keeps a ranking
/// exact (count, then key) with pages that read at most `PAGE` entries, given the final counts.
///
/// Index entries sharing a sort position come back unordered, so a page inside a group of more
/// than `PAGE` of them would read the whole group. A count held by more than `PAGE` keys must
/// therefore be a group of its own, ordered by key: every increment that takes a key into or
/// out of such a count moves the key's index entry (delete + put: 2 units; a new key's first
/// entry: 1), on top of the item's own unit. The increments that produce count c are exactly
/// the keys whose final count is at least c, so the bound follows from the final counts.
pub fn exact_ranking_floor(finals: impl Iterator<Item = u64>, increments: u64) -> f64 {
    let mut held: HashMap<u64, u64> = HashMap::new();
    for count in finals {
        *held.entry(count).or_default() += 1;
    }
    let populous = |count: u64| count > 0 && held.get(&count).copied().unwrap_or(0) > PAGE;
    let top = held.keys().copied().max().unwrap_or(0);
    let mut at_least = held.values().sum::<u64>();
    let mut moves = 0u64;
    for count in 1..=top {
        if populous(count) || populous(count - 1) {
            moves += at_least * if count == 1 { 1 } else { 2 };
        }
        at_least -= held.get(&count).copied().unwrap_or(0);
    }
    1.0 + moves as f64 / increments as f64
}

/// The workloads the README reports.
pub const WORKLOADS: &[Keys] = &[
    Keys::Zipf { n: 1_000, s: 1.0 },
    Keys::Zipf { n: 100_000, s: 1.0 },
    Keys::Zipf {
        n: 1_000_000,
        s: 1.0,
    },
    Keys::Uniform { n: 1_000 },
    Keys::Uniform { n: 100_000 },
    Keys::Uniform { n: 1_000_000 },
];

/// How many processes serve the visit increments in the README's runs: one, and as many as a
/// busy Lambda function keeps warm (each starts with no floor).
pub const PROCESSES: &[usize] = &[1, 100];

/// What every visit adds to its series (`docs/series.md`): one `ADD` on the day's item, under
/// 1 KB.
pub const SERIES_WRU: f64 = 1.0;

/// The README table of every workload's figures.
pub fn table(results: &[Amortized]) -> String {
    let mut out = String::from(
        "| keys drawn | processes | distinct keys | visits WRU / increment: counter | with its series | (ADD, enter rank, move rank) | top-list candidates | stats WRU / increment | floor of any exact, page-bounded ranking |\n|---|---:|---:|---:|---:|---|---:|---:|---:|\n",
    );
    for r in results {
        let keys = match r.keys {
            Keys::Zipf { n, s } => format!("Zipf (s = {s}) over {n}"),
            Keys::Uniform { n } => format!("uniform over {n}"),
        };
        let [add, enter, moved] = r.visit_transitions;
        out.push_str(&format!(
            "| {keys} | {} | {} | {:.3} | {:.3} | ({add}, {enter}, {moved}) | {} | {:.3} | {:.3} |\n",
            r.processes,
            r.distinct,
            r.visits_per_increment,
            r.visits_per_increment + SERIES_WRU,
            r.top_candidates,
            r.stats_per_increment,
            r.exact_floor
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally::visits::rank::rank;

    #[test]
    fn visit_transitions_follow_the_rank_steps() {
        let mut model = VisitModel::new(1, 7);
        let writes: Vec<VisitWrite> = (1..=9).map(|count| model.increment(0, count)).collect();
        use VisitWrite::*;
        assert_eq!(
            writes,
            [Add, EnterRank, Add, Add, Add, Add, Add, MoveRank, Add]
        );
    }

    #[test]
    fn an_id_below_the_ten_highest_ranked_counts_writes_the_add_alone_until_it_reaches_them() {
        let mut model = VisitModel::new(1, 7);
        for key in 0..10 {
            for count in 1..=8 {
                model.increment(key, count);
            }
        }
        let writes: Vec<VisitWrite> = (1..=8).map(|count| model.increment(10, count)).collect();
        use VisitWrite::*;
        assert_eq!(writes, [Add, Add, Add, Add, Add, Add, Add, EnterRank]);
    }

    #[test]
    fn the_floor_counts_moves_into_and_out_of_populous_counts_only() {
        // 200 keys counted once (populous), 3 keys counted 5 times: 215 increments.
        let finals = std::iter::repeat_n(1, 200).chain([5, 5, 5]);
        // Count 1: 203 first entries; count 2 leaves the populous count 1: 3 moves.
        let floor = exact_ranking_floor(finals, 215);
        assert!(
            (floor - (1.0 + (203.0 + 3.0 * 2.0) / 215.0)).abs() < 1e-9,
            "{floor}"
        );
        assert_eq!(exact_ranking_floor([7, 9].into_iter(), 16), 1.0);
    }

    /// The entry floor's promise (`docs/visits.md`, "The entry floor"): whatever process served
    /// each increment, every key counted at least the tenth highest count holds its current
    /// rank, so the top list's cut finds it. Checked every 100 increments, on Zipf and uniform
    /// keys, over one process and over 100 that each start with no floor.
    #[test]
    fn every_key_counted_at_least_the_tenth_count_holds_its_current_rank() {
        for (exponent, processes) in [(1.0, 1), (0.0, 1), (1.0, 100), (0.0, 100)] {
            let mut model = VisitModel::new(processes, 5);
            let mut counts: HashMap<usize, u64> = HashMap::new();
            for (i, key) in zipf(500, exponent, 30_000, 9).into_iter().enumerate() {
                let count = counts.entry(key).or_insert(0);
                *count += 1;
                model.increment(key, *count);
                if i % 100 != 99 {
                    continue;
                }
                let mut highest: Vec<u64> = counts.values().copied().collect();
                highest.sort_unstable_by(|a, b| b.cmp(a));
                let tenth = highest.get(TOP_VISITORS - 1).copied().unwrap_or(0);
                for (key, &count) in &counts {
                    if count >= tenth {
                        let stored = model.ranks.get(key).copied();
                        assert_eq!(stored, rank(count), "key {key} at {count}, increment {i}");
                    }
                }
            }
        }
    }

    #[test]
    fn one_hot_key_costs_about_one_unit_per_increment() {
        let result = simulate(Keys::Uniform { n: 1 }, 10_000, 7, 1);
        assert_eq!(result.distinct, 1);
        // 2, 8, 32, 128, 512, 2048, 8192: one entry and six moves.
        assert_eq!(result.visit_transitions, [10_000 - 7, 1, 6]);
        assert!(result.visits_per_increment < 1.01);
    }
}
