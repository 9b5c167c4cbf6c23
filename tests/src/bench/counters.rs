//! Amortized write units of the counter routes (`bench counters`): a million increments over
//! Zipf and uniform keys, simulated in-process transition by transition. Sending a million
//! real requests to a local DynamoDB server would take hours; what an increment writes depends
//! only on the count before and after it, so each kind of transition is priced once (by
//! DynamoDB's rules, and measured on the wire by the meter in
//! `tests/integration/visits_store.rs`) and the simulation counts how often each happens. Keys
//! are drawn by `workload`.

use super::workload::zipf;
use std::collections::HashMap;
use tally::visits::rank::rank;

/// Increments per simulated workload.
pub const INCREMENTS: u64 = 1_000_000;

/// What one visit increment writes, by the count it leaves (`visits::dynamodb`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisitWrite {
    /// `ADD count 1` on an item under 1 KB, keyed (shard, id): no index holds `count`.
    Add,
    /// The count reached 2: the ADD, then `SET rank` (1) and the id's new `ByRank` entry (1).
    EnterRank,
    /// The count crossed 2·4^j above 2: the ADD, `SET rank` (1), and the entry's sort key
    /// changes (delete + put: 2).
    MoveRank,
}

impl VisitWrite {
    /// The transition of an increment to `count`.
    pub fn of(count: u64) -> Self {
        match (rank(count - 1), rank(count)) {
            (before, after) if before == after => VisitWrite::Add,
            (None, Some(_)) => VisitWrite::EnterRank,
            _ => VisitWrite::MoveRank,
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
    pub distinct: usize,
    pub visits_per_increment: f64,
    pub stats_per_increment: f64,
    /// How many increments of each visit transition (`Add`, `EnterRank`, `MoveRank`).
    pub visit_transitions: [u64; 3],
}

/// Runs `increments` increments over `keys`, pricing each with both counters' designs.
pub fn simulate(keys: Keys, increments: u64, seed: u64) -> Amortized {
    let (n, exponent) = match keys {
        Keys::Zipf { n, s } => (n, s),
        Keys::Uniform { n } => (n, 0.0),
    };
    let draws = zipf(n as usize, exponent, increments as usize, seed);
    let mut counts: HashMap<usize, u64> = HashMap::new();
    let (mut visits, mut stats) = (0u64, 0u64);
    let mut visit_transitions = [0u64; 3];
    for key in draws {
        let count = counts.entry(key).or_insert(0);
        *count += 1;
        let write = VisitWrite::of(*count);
        visits += write.units();
        visit_transitions[write as usize] += 1;
        stats += stats_units(*count);
    }
    let per = |units: u64| units as f64 / increments as f64;
    Amortized {
        keys,
        distinct: counts.len(),
        visits_per_increment: per(visits),
        stats_per_increment: per(stats),
        visit_transitions,
    }
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

/// The README table of every workload's figures.
pub fn table(results: &[Amortized]) -> String {
    let mut out = String::from(
        "| keys drawn | distinct keys | visits WRU / increment | (ADD, enter rank, move rank) | stats WRU / increment |\n|---|---:|---:|---|---:|\n",
    );
    for r in results {
        let keys = match r.keys {
            Keys::Zipf { n, s } => format!("Zipf (s = {s}) over {n}"),
            Keys::Uniform { n } => format!("uniform over {n}"),
        };
        let [add, enter, moved] = r.visit_transitions;
        out.push_str(&format!(
            "| {keys} | {} | {:.3} | ({add}, {enter}, {moved}) | {:.3} |\n",
            r.distinct, r.visits_per_increment, r.stats_per_increment
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visit_transitions_follow_the_rank_steps() {
        let writes: Vec<VisitWrite> = (1..=9).map(VisitWrite::of).collect();
        use VisitWrite::*;
        assert_eq!(
            writes,
            [Add, EnterRank, Add, Add, Add, Add, Add, MoveRank, Add]
        );
    }

    #[test]
    fn one_hot_key_costs_about_one_unit_per_increment() {
        let result = simulate(Keys::Uniform { n: 1 }, 10_000, 7);
        assert_eq!(result.distinct, 1);
        // 2, 8, 32, 128, 512, 2048, 8192: one entry and six moves.
        assert_eq!(result.visit_transitions, [10_000 - 7, 1, 6]);
        assert!(result.visits_per_increment < 1.01);
    }
}
