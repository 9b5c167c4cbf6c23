//! The typed errors of Tally and their one mapping to an HTTP status.

use lambda_http::http::StatusCode;

/// A failure in a storage engine, classified once by each engine's adapter (DynamoDB:
/// `store::dynamodb`, SQLite: `store::sqlite`) as worth retrying or not.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// Transient: throttled, timed out, a 5xx, no connection, or the request's deadline came
    /// first. The same request may succeed later: 503 with `Retry-After`.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Permanent: the engine refused the request and would refuse it again (a validation
    /// error, a missing table, a malformed item). A bug or a misconfiguration: a logged 500.
    #[error("store failed: {0}")]
    Failed(String),
}

impl StoreError {
    /// Whether the same request may succeed if sent again later.
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

/// Everything a request can end in other than success. Each variant is one status code.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("method {method} is not allowed on this path; allowed: {allow}")]
    MethodNotAllowed { method: String, allow: String },
    #[error("{0}")]
    Conflict(String),
    /// 409 with `Retry-After`: the same request is still being processed (`Idempotency-Key`).
    #[error("{0}")]
    InFlight(String),
    /// 422: the request is well formed but cannot be done as sent (an `Idempotency-Key` used
    /// by another request).
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    RequestTimeout(String),
    #[error("request body is larger than 1 MiB")]
    PayloadTooLarge,
    #[error("{0}")]
    UriTooLong(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    BadGateway(String),
    #[error("{0}")]
    GatewayTimeout(String),
    #[error("{}", store_message(.0))]
    Store(#[from] StoreError),
    /// A bug (a handler panicked): a 500 whose cause is logged, never shown.
    #[error("internal error: it was logged")]
    Internal(String),
}

/// What the client is told of a store failure (the cause is logged, never shown).
fn store_message(err: &StoreError) -> &'static str {
    if err.is_transient() {
        "the store is unavailable; retry shortly"
    } else {
        "internal error: the store refused the request; it was logged"
    }
}

impl ApiError {
    /// A 400 whose message starts with the name of the offending field.
    pub fn field(field: &str, problem: impl std::fmt::Display) -> Self {
        ApiError::BadRequest(format!("{field}: {problem}"))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) | ApiError::InFlight(_) => StatusCode::CONFLICT,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UriTooLong(_) => StatusCode::URI_TOO_LONG,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::BadGateway(_) => StatusCode::BAD_GATEWAY,
            ApiError::GatewayTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Store(err) if err.is_transient() => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Store(_) | ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_name_the_field_first() {
        let err = ApiError::field("actions[2].time", "not an RFC 3339 time");
        assert_eq!(err.to_string(), "actions[2].time: not an RFC 3339 time");
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn store_failures_are_503_and_hide_the_cause() {
        let err = ApiError::from(StoreError::Unavailable("socket closed".into()));
        assert_eq!(err.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(!err.to_string().contains("socket"));
    }

    #[test]
    fn permanent_store_failures_are_500_and_hide_the_cause() {
        let err = ApiError::from(StoreError::Failed(
            "ValidationException: key too long".into(),
        ));
        assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!err.to_string().contains("Validation"));
    }
}
