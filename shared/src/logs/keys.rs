//! The order key of a stored action, `<UTC instant>#<arrival>#<request>#<index>`, and the key
//! ranges that time filters and cursors select.
//!
//! The instant comes first, so key order is instant order; equal instants follow arrival (the
//! request's first arrival, in nanoseconds, fixed for its retries), then the request's id, then
//! the action's place in the request. Every part is fixed-width printable ASCII above `!`.

use super::Instant;

/// The key of action `index` of request `request` that first arrived at `arrival`.
pub fn order_key(instant: &Instant, arrival: u64, request: &str, index: usize) -> String {
    format!("{}#{arrival:020}#{request}#{index:04}", instant.utc_key())
}

/// At or below the key of every action at or after `start` (every action, without one).
fn floor(start: Option<&Instant>) -> String {
    start.map_or_else(|| "0".to_string(), |t| t.utc_key().to_string())
}

/// Above the key of every action at or before `end`: `$` sorts right after the `#` that follows
/// the instant. Without an end, `:` sorts after every digit a key can start with.
fn ceiling(end: Option<&Instant>) -> String {
    end.map_or_else(|| ":".to_string(), |t| format!("{}$", t.utc_key()))
}

/// The inclusive key range of actions between `start` and `end` whose keys are above `after`;
/// `None` when it is empty. `key!` is the least string above `key` that a key could exceed.
pub fn range(
    start: Option<&Instant>,
    end: Option<&Instant>,
    after: Option<&str>,
) -> Option<(String, String)> {
    let low = floor(start);
    let low = match after {
        Some(after) if after >= low.as_str() => format!("{after}!"),
        _ => low,
    };
    let high = ceiling(end);
    (low <= high).then_some((low, high))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(raw: &str) -> Instant {
        Instant::parse("time", raw).expect(raw)
    }

    fn within(key: &str, range: &Option<(String, String)>) -> bool {
        range
            .as_ref()
            .is_some_and(|(low, high)| low.as_str() <= key && key <= high.as_str())
    }

    #[test]
    fn keys_order_by_instant_then_arrival_then_request_then_index() {
        let early = order_key(&at("2018-10-18T21:37:28-06:00"), 9, "ff", 9);
        let late = order_key(&at("2018-10-19T03:37:29Z"), 1, "00", 0);
        assert!(early < late);
        let t = at("2018-10-19T03:37:28Z");
        assert!(order_key(&t, 1, "ff", 9) < order_key(&t, 2, "00", 0));
        assert!(order_key(&t, 1, "aa", 9) < order_key(&t, 1, "ab", 0));
        assert!(order_key(&t, 1, "aa", 2) < order_key(&t, 1, "aa", 10));
    }

    #[test]
    fn ranges_include_both_ends_as_instants() {
        let key = order_key(&at("2018-10-18T21:37:28-06:00"), 5, "ab", 3);
        let same = at("2018-10-19T03:37:28Z");
        assert!(within(&key, &range(Some(&same), None, None)));
        assert!(within(&key, &range(None, Some(&same), None)));
        assert!(within(&key, &range(Some(&same), Some(&same), None)));
        assert!(within(&key, &range(None, None, None)));
        let later = at("2018-10-19T03:37:28.000000001Z");
        assert!(!within(&key, &range(Some(&later), None, None)));
        let earlier = at("2018-10-19T03:37:27.999999999Z");
        assert!(!within(&key, &range(None, Some(&earlier), None)));
    }

    #[test]
    fn ranges_resume_strictly_after_a_key() {
        let t = at("2018-10-19T03:37:28Z");
        let first = order_key(&t, 5, "ab", 3);
        let second = order_key(&t, 5, "ab", 4);
        let resumed = range(Some(&t), Some(&t), Some(&first));
        assert!(!within(&first, &resumed));
        assert!(within(&second, &resumed));
        assert_eq!(
            range(None, Some(&t), Some(&format!("{}$", t.utc_key()))),
            None
        );
    }
}
