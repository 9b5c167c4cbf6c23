//! A spawned server task that stops when its owner is dropped, so the test servers (local API,
//! stub, meter, slow proxy) need no `Drop` of their own.

use std::future::Future;
use tokio::task::JoinHandle;

/// The task of a running test server; dropping it aborts the task.
pub struct Background(JoinHandle<()>);

impl Background {
    /// Runs `task` on the test's runtime until it ends or this handle is dropped.
    pub fn spawn(task: impl Future<Output = ()> + Send + 'static) -> Self {
        Background(tokio::spawn(task))
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.0.abort();
    }
}
