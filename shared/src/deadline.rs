//! The request deadline: when a request's answer must be ready, taken from the invocation's
//! deadline (Lambda) or from the function's timeout in `template.yaml` (local API). Every store
//! call and the ad server of one request share it, so a request answers 503 (or 504 for the ad
//! server) before Lambda would end it: a timed-out function is API Gateway's bare 500, without
//! `Retry-After` (https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html).

use lambda_http::Request;
use std::time::Duration;
use tokio::time::Instant;

/// Time kept back from the invocation's deadline to shape and send the answer.
pub const MARGIN: Duration = Duration::from_millis(500);

/// Used when nothing says how long a request may take (Lambda's default is 3 s; Tally's
/// functions are configured for 10 s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The instant a request must be answered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline(Instant);

impl Deadline {
    /// The deadline of a request that has `time_left` before it is cut off, less `MARGIN`.
    pub fn within(time_left: Duration) -> Self {
        Deadline(Instant::now() + time_left.saturating_sub(MARGIN))
    }

    pub fn instant(self) -> Instant {
        self.0
    }

    /// What is left of it now (zero once it has passed).
    pub fn remaining(self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }

    /// The deadline a request carries (every invocation sets one), if any.
    pub fn of(req: &Request) -> Option<Self> {
        req.extensions().get::<Deadline>().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_margin_is_kept_back_and_the_remainder_shrinks() {
        let deadline = Deadline::within(Duration::from_secs(2));
        let left = deadline.remaining();
        assert!(left <= Duration::from_secs(2) - MARGIN && left > Duration::from_secs(1));
        assert_eq!(
            Deadline::within(Duration::from_millis(100)).remaining(),
            Duration::ZERO
        );
    }
}
