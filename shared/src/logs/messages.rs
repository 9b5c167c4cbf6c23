//! Per-action ids (`messageId`, contract G): an action whose id another request stored for
//! the same user within 24 hours is dropped, not stored again. Each id is marked in the key
//! store (`once::KeyStore`, a done record under `m#...`) by the request that stores it; the
//! same request again (a retried body) finds its own marks, so it answers as the first time.

use super::LogBatch;
use crate::once::{Claim, KeyStore, Record};
use crate::StoreError;
use futures_util::future::try_join_all;
use std::collections::HashSet;

/// Marks sent at once: a batch holds up to 1,000 actions.
const MARKS_IN_FLIGHT: usize = 16;

/// The key store's name of `user`'s message `id`: the user's length first, so no two
/// (user, id) pairs share a name. At most 256 + 128 characters of 4 bytes and a short prefix:
/// under DynamoDB's 2,048-byte partition key limit
/// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-partition-sort-keys).
fn mark_key(user: &str, id: &str) -> String {
    format!("m#{}#{user}#{id}", user.len())
}

/// `batch` without its duplicates (a repeated id within the batch, or an id another request
/// marked), and how many were dropped. Marks every other id for this request at `now`.
pub async fn drop_duplicates(
    keys: &dyn KeyStore,
    mut batch: LogBatch,
    now: i64,
) -> Result<(LogBatch, usize), StoreError> {
    let mut seen = HashSet::new();
    let firsts: Vec<Option<&str>> = batch
        .actions
        .iter()
        .map(|action| action.message_id.as_deref().filter(|id| seen.insert(*id)))
        .collect();
    let names: Vec<(usize, String)> = firsts
        .iter()
        .enumerate()
        .filter_map(|(i, first)| first.map(|id| (i, mark_key(&batch.user_id, id))))
        .collect();
    let mark = Record::done(&batch.request, now);
    let mut claims: Vec<Option<Claim>> = vec![None; firsts.len()];
    for group in names.chunks(MARKS_IN_FLIGHT) {
        let sent = try_join_all(group.iter().map(|(_, name)| keys.claim(name, &mark, now))).await?;
        for ((i, _), claim) in group.iter().zip(sent) {
            claims[*i] = Some(claim);
        }
    }
    let keep: Vec<bool> = batch
        .actions
        .iter()
        .zip(&claims)
        .map(|(action, claim)| match claim {
            None => action.message_id.is_none(),
            Some(claim) => !matches!(claim, Claim::OtherRequest),
        })
        .collect();
    let before = batch.actions.len();
    let mut flags = keep.into_iter();
    batch.actions.retain(|_| flags.next().unwrap_or(true));
    let dropped = before - batch.actions.len();
    Ok((batch, dropped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mark_keys_tell_users_and_ids_apart() {
        assert_ne!(mark_key("a#b", "c"), mark_key("a", "b#c"));
        assert_eq!(mark_key("u", "m-1"), "m#1#u#m-1");
    }
}
