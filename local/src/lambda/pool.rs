//! The execution environments of one function, kept warm as Lambda keeps them: an idle one
//! serves the next invocation; when all are busy another starts (concurrency), up to the
//! account's limit; one that timed out or crashed is discarded.
//! Scaling: https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html

use super::container::{request_id, Container, Launch, Outcome};
use hyper::body::Bytes;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Lambda gives a function's init phase 10 s
/// (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-ib).
pub const INIT_LIMIT: Duration = Duration::from_secs(10);

/// How one invocation ended, for the gateway.
#[derive(Debug)]
pub enum Invoked {
    /// The function's response payload.
    Response(Bytes),
    /// A function error: its own error, a crash, a timeout, too much memory, a response too
    /// large. The reason is logged.
    Failed(String),
    /// No execution environment could serve it (concurrency limit, or the binary would not start).
    Throttled(String),
}

/// A running environment, counted against the concurrency limit until dropped (which also
/// kills its process).
struct Slot {
    container: Container,
    running: Arc<AtomicUsize>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.running.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One function's environments.
pub struct Pool {
    launch: Launch,
    idle: Mutex<Vec<Slot>>,
    /// Environments running now, idle or busy, across all functions.
    running: Arc<AtomicUsize>,
    limit: usize,
}

impl Pool {
    pub fn new(launch: Launch, running: Arc<AtomicUsize>, limit: usize) -> Self {
        Pool {
            launch,
            idle: Mutex::new(Vec::new()),
            running,
            limit,
        }
    }

    fn take_idle(&self) -> Option<Slot> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        std::iter::from_fn(|| idle.pop()).find(|slot| slot.container.is_alive())
    }

    async fn slot(&self) -> Result<Slot, String> {
        if let Some(slot) = self.take_idle() {
            return Ok(slot);
        }
        if self.running.fetch_add(1, Ordering::Relaxed) >= self.limit {
            self.running.fetch_sub(1, Ordering::Relaxed);
            return Err(format!("concurrency limit {} reached", self.limit));
        }
        let running = Arc::clone(&self.running);
        match Container::start(&self.launch).await {
            Ok(container) => Ok(Slot { container, running }),
            Err(err) => {
                running.fetch_sub(1, Ordering::Relaxed);
                Err(format!("{}: {err}", self.launch.binary.display()))
            }
        }
    }

    /// Invokes the function with `event` in an idle environment or a new one.
    pub async fn invoke(&self, event: Bytes) -> Invoked {
        let slot = match self.slot().await {
            Ok(slot) => slot,
            Err(reason) => return Invoked::Throttled(reason),
        };
        let outcome = slot
            .container
            .invoke(request_id(), event, self.launch.timeout, INIT_LIMIT)
            .await;
        let (invoked, keep) = match outcome {
            Some(Outcome::Response(body)) => (Invoked::Response(body), true),
            Some(Outcome::Error(error)) => {
                (Invoked::Failed(format!("function error: {error}")), true)
            }
            Some(Outcome::TooLarge(size)) => (
                Invoked::Failed(format!("response of {size} bytes exceeds 6 MB")),
                true,
            ),
            Some(Outcome::Crashed(status)) => {
                (Invoked::Failed(format!("runtime exited: {status}")), false)
            }
            None => (
                Invoked::Failed(format!(
                    "task timed out after {:.2} seconds",
                    self.launch.timeout.as_secs_f64()
                )),
                false,
            ),
        };
        let rss_mib = slot.container.peak_rss_kib() / 1024;
        if rss_mib > self.launch.memory_mib {
            return Invoked::Failed(format!(
                "Runtime.OutOfMemory: {rss_mib} MiB used, {} MiB allowed",
                self.launch.memory_mib
            ));
        }
        if keep && slot.container.is_alive() {
            self.idle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(slot);
        }
        invoked
    }
}

#[cfg(test)]
#[path = "pool_tests.rs"]
mod tests;
