//! New person ids where the store keeps no sequence (DynamoDB): each is above the highest id
//! stored when it was asked for. One read of that highest id serves every create of this
//! process that began before the read started, and creates sharing a read take consecutive
//! ids, so they neither repeat the read nor collide with each other. Creates of other processes
//! (other Lambda instances) can still aim at the same id: the store's conditional put lets one
//! win, and the others try again at a random id among the next `SPREAD`, as this process's
//! next creates do for a while (`CONTENDED_FOR`), so that busy instances stop colliding.

use super::MAX_ID;
use std::future::Future;
use std::sync::PoisonError;
use std::time::{Duration, Instant};

/// How many ids past the next one a try aims at random after a conflict.
pub(crate) const SPREAD: u64 = 1024;
/// How long after a conflict this process's creates keep aiming at random.
const CONTENDED_FOR: Duration = Duration::from_secs(1);

#[derive(Default)]
pub(crate) struct NewIds {
    /// When a create of this process last found its id taken by a concurrent one.
    last_conflict: std::sync::Mutex<Option<Instant>>,
    /// The last read of the highest stored id: when it started, and what it found.
    last_read: tokio::sync::Mutex<Option<(Instant, u64)>>,
    /// The highest id handed out since the last read (or that read's answer).
    handed_out: std::sync::Mutex<u64>,
}

impl NewIds {
    /// The highest stored id, from a `read` that started after this call did, so it saw every
    /// write acknowledged before; callers waiting at once share one read. A new read starts
    /// the ids handed out afresh from what is stored (an id handed out earlier but not stored
    /// yet may then be offered again: the store's conditional put refuses the second).
    pub(crate) async fn highest<E, F>(&self, read: impl FnOnce() -> F) -> Result<u64, E>
    where
        F: Future<Output = Result<u64, E>>,
    {
        let arrived = Instant::now();
        let mut last = self.last_read.lock().await;
        if let Some((started, highest)) = *last {
            if started >= arrived {
                return Ok(highest);
            }
        }
        let started = Instant::now();
        let highest = read().await?;
        *last = Some((started, highest));
        *self
            .handed_out
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = highest;
        Ok(highest)
    }

    /// How far past the next id try `attempt` of a create aims: the next id itself (0), unless
    /// this is a retry or this process met a conflict lately: then a random one of `SPREAD`.
    pub(crate) fn skip(&self, attempt: usize) -> u64 {
        let contended = self
            .last_conflict
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some_and(|at| at.elapsed() < CONTENDED_FOR);
        if attempt > 0 || contended {
            fastrand::u64(0..SPREAD)
        } else {
            0
        }
    }

    /// Notes that a create's id was taken by a concurrent write.
    pub(crate) fn conflicted(&self) {
        *self
            .last_conflict
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
    }

    /// Hands out an id above `floor` and above every id handed out since the last read, `skip` ids
    /// further on (0: the next one); `None` when no id is left.
    pub(crate) fn next_above(&self, floor: u64, skip: u64) -> Option<u64> {
        let mut handed_out = self
            .handed_out
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let next = (*handed_out)
            .max(floor)
            .checked_add(1)
            .filter(|id| *id <= MAX_ID)?;
        let id = next.saturating_add(skip).min(MAX_ID);
        *handed_out = id;
        Some(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn ids_follow_the_floor_and_never_repeat_in_a_process() {
        let ids = NewIds::default();
        assert_eq!(ids.next_above(0, 0), Some(1));
        assert_eq!(ids.next_above(42, 0), Some(43));
        assert_eq!(ids.next_above(42, 0), Some(44), "43 was handed out");
        assert_eq!(ids.next_above(500, 10), Some(511));
        assert_eq!(ids.next_above(MAX_ID - 1, 5), Some(MAX_ID));
        assert_eq!(ids.next_above(0, 0), None, "every id is handed out");
    }

    #[test]
    fn tries_aim_at_the_next_id_until_a_conflict_then_at_random_for_a_while() {
        let ids = NewIds::default();
        assert_eq!(ids.skip(0), 0);
        assert!(ids.skip(1) < SPREAD);
        ids.conflicted();
        let skips: Vec<u64> = (0..50).map(|_| ids.skip(0)).collect();
        assert!(skips.iter().all(|s| *s < SPREAD));
        assert!(skips.iter().any(|s| *s > 0), "{skips:?}");
    }

    #[tokio::test]
    async fn creates_waiting_at_once_share_one_read_and_later_ones_read_again() {
        let ids = Arc::new(NewIds::default());
        let reads = Arc::new(AtomicUsize::new(0));
        let read = |reads: Arc<AtomicUsize>| async move {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            Ok::<_, ()>(reads.fetch_add(1, Ordering::SeqCst) as u64 + 7)
        };
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (ids, reads) = (Arc::clone(&ids), Arc::clone(&reads));
                tokio::spawn(async move { ids.highest(|| read(reads)).await })
            })
            .collect();
        for task in tasks {
            assert!(task.await.expect("task").is_ok());
        }
        assert!(
            reads.load(Ordering::SeqCst) <= 2,
            "one read, or two for late arrivals"
        );
        let before = reads.load(Ordering::SeqCst);
        ids.highest(|| read(Arc::clone(&reads)))
            .await
            .expect("read");
        assert_eq!(
            reads.load(Ordering::SeqCst),
            before + 1,
            "a later create reads anew"
        );
    }
}
