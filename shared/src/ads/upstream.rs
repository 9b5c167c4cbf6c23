//! The ad server `/ad` fetches VAST XML from. Its URL and timeout are part of the state handed
//! to handlers (built once from the `Config`'s `VAST_URL` and `VAST_TIMEOUT_MS`), so each test
//! can point its own state at its own stub server.

use crate::deadline::Deadline;
use crate::http::client::{Client, FetchError};
use crate::ApiError;
use std::sync::OnceLock;
use std::time::Duration;

/// The largest answer passed on; a Lambda response must stay under 6 MB.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A configured ad server: where it is, how long to wait, and the HTTP client (rustls).
pub struct AdServer {
    url: String,
    timeout: Duration,
    /// The client, built by the first fetch, or why it could not be (then every fetch is a
    /// 502, logged once). Built there, not in `new`, so that only the binary whose route
    /// fetches (`ads-ad`) links the HTTP client and its TLS setup: every state holds an
    /// `AdServer`.
    client: OnceLock<Result<Client, String>>,
}

impl AdServer {
    /// The ad server the settings name (`VAST_URL`, `VAST_TIMEOUT_MS`).
    pub fn from_settings(settings: &crate::config::AdsSettings) -> Self {
        AdServer::new(
            settings.vast_url.clone(),
            Duration::from_millis(settings.vast_timeout_ms),
        )
    }

    /// An ad server at `url`, answering within `timeout`. Redirects are not followed.
    pub fn new(url: impl Into<String>, timeout: Duration) -> Self {
        AdServer {
            url: url.into(),
            timeout,
            client: OnceLock::new(),
        }
    }

    /// The HTTP client, built on first use.
    fn client(&self) -> &Result<Client, String> {
        self.client.get_or_init(|| {
            Client::new().inspect_err(|err| {
                tracing::error!(error = %err, "the ad server's HTTP client could not be built");
            })
        })
    }

    /// Where it fetches from (`VAST_URL`), and how long it waits (`VAST_TIMEOUT_MS`).
    pub fn settings(&self) -> (&str, Duration) {
        (&self.url, self.timeout)
    }

    /// The ad server's body, unchanged. Non-2xx (a 3xx too) is 502; no answer in time (its
    /// timeout, or what is left before the request's `deadline` if that is sooner) is 504.
    /// The body is asked for uncompressed (`Accept-Encoding: identity`): an answer that is
    /// encoded all the same, or empty, is a 502, so a client never gets bytes it cannot read.
    pub async fn fetch(&self, deadline: Option<Deadline>) -> Result<Vec<u8>, ApiError> {
        let client = self.client().as_ref().map_err(|err| {
            ApiError::BadGateway(format!("the ad server client is unavailable: {err}"))
        })?;
        let timeout = deadline.map_or(self.timeout, |d| d.remaining().min(self.timeout));
        let headers = [("accept-encoding", "identity")];
        let resp = client
            .get(&self.url, &headers, MAX_BODY_BYTES, timeout)
            .await
            .map_err(|err| self.failure(err))?;
        if !resp.status.is_success() {
            return Err(ApiError::BadGateway(format!(
                "the ad server answered {}",
                resp.status.as_u16()
            )));
        }
        if let Some(encoding) = resp.headers.get(hyper::header::CONTENT_ENCODING) {
            let encoding = String::from_utf8_lossy(encoding.as_bytes())
                .trim()
                .to_string();
            if !encoding.eq_ignore_ascii_case("identity") {
                return Err(ApiError::BadGateway(format!(
                    "the ad server sent its answer encoded ({encoding:?}) though asked for identity"
                )));
            }
        }
        if resp.body.is_empty() {
            return Err(ApiError::BadGateway(
                "the ad server answered with an empty body".into(),
            ));
        }
        Ok(resp.body.to_vec())
    }

    fn failure(&self, err: FetchError) -> ApiError {
        tracing::warn!(error = %err, url = self.url, "ad server request failed");
        match err {
            FetchError::Timeout(timeout) => ApiError::GatewayTimeout(format!(
                "the ad server did not answer within {} ms",
                timeout.as_millis()
            )),
            FetchError::TooLarge(_) => {
                ApiError::BadGateway("the ad server's answer is larger than 1 MiB".into())
            }
            FetchError::Failed(_) => {
                ApiError::BadGateway("the ad server could not be reached".into())
            }
        }
    }
}
