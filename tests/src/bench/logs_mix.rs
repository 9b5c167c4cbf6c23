//! The amortized write cost of `POST /log` over a realistic mix (issue 14's goal: at most
//! 1 + n x (ceil(s) + 2) WRU for n actions of s KB), simulated in-process: each request's
//! units are `LogBatch::write_units`, computed from the very items the DynamoDB adapter writes
//! (the integration test `logs_mix` holds them to the meter's measurement of the same bodies).
//!
//! The mix: batches of 1 to 1,000 actions (Zipf over the size, so most batches are small and
//! most actions come in large ones), users and types Zipf-distributed (10,000 users, 50 types),
//! properties from 0.2 to 16 KiB (log-uniform), a batch's actions a few seconds apart from a
//! random instant of one week; a batch whose body would pass 1 MiB is sent as several requests,
//! as a client must. Properties are analytics-like JSON (names and words from a vocabulary,
//! numbers, random ids) or, for the worst case, text deflate cannot shrink.

use crate::bench::workload::zipf;
use serde_json::{json, Map, Value};
use tally::logs::LogBatch;

/// What the properties of the simulated actions are made of.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Content {
    /// Objects of named fields: words, numbers, ids and URLs, as analytics events carry.
    Json,
    /// One string of pseudo-random symbols, which deflate shrinks by only about a quarter.
    Noise,
}

/// A simulated workload: how many batches, drawn from which seed, with what properties.
#[derive(Debug, Clone, Copy)]
pub struct Mix {
    pub batches: usize,
    pub seed: u64,
    pub content: Content,
}

/// The totals of a mix, and its costliest request against its own goal.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MixCost {
    pub requests: usize,
    pub actions: usize,
    /// Write units, and the goal's units for the same requests.
    pub units: u64,
    pub goal: u64,
    /// The request whose units exceed its goal the most: (units, goal, actions).
    pub worst: (u64, u64, usize),
}

const USERS: usize = 10_000;
const TYPES: usize = 50;
const MAX_BATCH: usize = 1000;
const BODY_LIMIT: usize = 1024 * 1024;
const WORDS: &[&str] = &[
    "home", "search", "checkout", "cart", "product", "profile", "settings", "login", "logout",
    "banner", "video", "play", "pause", "share", "like", "comment", "menu", "footer", "header",
    "button", "link", "image", "scroll", "swipe", "tab", "modal", "form", "submit", "error",
    "success", "mobile", "desktop", "tablet", "chrome", "safari", "firefox", "en-US", "de-DE",
];
const NAMES: &[&str] = &[
    "page",
    "referrer",
    "element",
    "locationX",
    "locationY",
    "duration",
    "value",
    "currency",
    "itemId",
    "category",
    "query",
    "results",
    "position",
    "variant",
    "campaign",
    "source",
    "medium",
    "device",
    "browser",
    "locale",
    "screenWidth",
    "screenHeight",
    "latency",
    "status",
];

/// The request bodies of a mix, each under 1 MiB, with each action's size as sent (bytes).
pub fn requests(mix: Mix) -> Vec<(String, Vec<usize>)> {
    let mut rng = fastrand::Rng::with_seed(mix.seed);
    let sizes = zipf(MAX_BATCH, 1.0, mix.batches, mix.seed);
    let users = zipf(USERS, 1.0, mix.batches, mix.seed + 1);
    let mut bodies = Vec::new();
    for (batch, (size, user)) in sizes.into_iter().zip(users).enumerate() {
        let start = rng.u64(0..7 * 86_400);
        let kinds = zipf(TYPES, 1.0, size + 1, mix.seed + 2 + batch as u64);
        let actions: Vec<Value> = (0..=size)
            .map(|i| {
                let bytes = (200.0 * 80f64.powf(rng.f64())) as usize;
                json!({"time": rfc3339(start + 3 * i as u64), "type": format!("type-{}", kinds[i]),
                       "properties": properties(&mut rng, mix.content, bytes)})
            })
            .collect();
        bodies.extend(split(
            &format!("user-{user:05}"),
            &format!("s-{batch}"),
            actions,
        ));
    }
    bodies
}

/// The instant `seconds` after 2026-01-01T00:00:00Z (within January).
fn rfc3339(seconds: u64) -> String {
    let (day, rest) = (seconds / 86_400, seconds % 86_400);
    format!(
        "2026-01-{:02}T{:02}:{:02}:{:02}Z",
        day + 1,
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// Properties of about `bytes` bytes as compact JSON.
fn properties(rng: &mut fastrand::Rng, content: Content, bytes: usize) -> Value {
    if content == Content::Noise {
        return json!({"p": tally::test_support::incompressible_text(bytes.saturating_sub(8))});
    }
    let mut fields = Map::new();
    let mut size = 2;
    while size < bytes {
        let name = format!("{}{}", NAMES[rng.usize(..NAMES.len())], fields.len());
        let value = match rng.u8(0..5) {
            0 => json!(rng.i64(-100_000..100_000)),
            1 => json!(rng.f64() * 1000.0),
            2 => json!(format!("{:032x}", rng.u128(..))),
            3 => json!(format!(
                "https://example.com/{}/{}",
                WORDS[rng.usize(..WORDS.len())],
                rng.u32(..100_000)
            )),
            _ => json!(WORDS[rng.usize(..WORDS.len())]),
        };
        size += name.len() + value.to_string().len() + 4;
        fields.insert(name, value);
    }
    Value::Object(fields)
}

/// One batch as requests whose bodies stay under 1 MiB, each with its actions' sizes.
fn split(user: &str, session: &str, actions: Vec<Value>) -> Vec<(String, Vec<usize>)> {
    let mut requests = Vec::new();
    let mut part: Vec<Value> = Vec::new();
    let mut bytes = 0;
    for action in actions {
        let size = action.to_string().len() + 1;
        if bytes + size > BODY_LIMIT - 2048 && !part.is_empty() {
            requests.push(body(user, session, std::mem::take(&mut part)));
            bytes = 0;
        }
        bytes += size;
        part.push(action);
    }
    requests.push(body(user, session, part));
    requests
}

fn body(user: &str, session: &str, actions: Vec<Value>) -> (String, Vec<usize>) {
    let sizes = actions.iter().map(|a| a.to_string().len()).collect();
    let body = json!({"userId": user, "sessionId": session, "actions": actions});
    (body.to_string(), sizes)
}

/// The goal for one request: 1 + n x (ceil(s) + 2), each action's s its size as sent in KB.
pub fn goal(sizes: &[usize]) -> u64 {
    1 + sizes
        .iter()
        .map(|&s| s.div_ceil(1024) as u64 + 2)
        .sum::<u64>()
}

/// The write units of every request of `mix`, totalled against the goal.
pub fn simulate(mix: Mix) -> MixCost {
    let mut cost = MixCost::default();
    for (body, sizes) in requests(mix) {
        let units = LogBatch::parse(body.as_bytes())
            .map(|batch| batch.write_units())
            .unwrap_or(u64::MAX);
        let goal = goal(&sizes);
        cost.requests += 1;
        cost.actions += sizes.len();
        cost.units += units;
        cost.goal += goal;
        let (worst_units, worst_goal, _) = cost.worst;
        if units as f64 / goal as f64 > worst_units as f64 / worst_goal.max(1) as f64 {
            cost.worst = (units, goal, sizes.len());
        }
    }
    cost
}

/// One line of the README's figures for a mix.
pub fn line(mix: Mix, cost: &MixCost) -> String {
    let (units, goal, actions) = cost.worst;
    format!(
        "| {:?} | {} | {} | {} | {} | {:.3} | {:.2} | {units} / {goal} ({actions} actions) |",
        mix.content,
        cost.requests,
        cost.actions,
        cost.units,
        cost.goal,
        cost.units as f64 / cost.goal as f64,
        cost.units as f64 / cost.requests as f64,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_goal_counts_each_action_by_its_started_kilobytes_plus_two() {
        assert_eq!(goal(&[100, 1024, 1025, 16 * 1024]), 1 + 3 + 3 + 4 + 18);
    }

    #[test]
    fn a_mix_is_reproducible_and_its_bodies_stay_under_1_mib() {
        let mix = Mix {
            batches: 20,
            seed: 3,
            content: Content::Json,
        };
        let bodies = requests(mix);
        assert_eq!(bodies, requests(mix));
        assert!(bodies.iter().all(|(body, _)| body.len() <= BODY_LIMIT));
        assert!(bodies
            .iter()
            .all(|(body, _)| LogBatch::parse(body.as_bytes()).is_ok()));
    }
}
