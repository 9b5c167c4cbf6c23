//! A validated `POST /log` request (`body` parses one): what every engine stores.

use super::keys::order_key;
use super::Instant;

/// One validated action.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAction {
    pub time: Instant,
    pub kind: String,
    /// The properties object as compact JSON text.
    pub properties: String,
    /// The client's id of the action (`messageId`, contract G): stored once per user within
    /// 24 hours (`logs::messages`).
    pub message_id: Option<String>,
}

/// A validated request: who, which session, its actions in the order sent, and its id.
#[derive(Debug, Clone, PartialEq)]
pub struct LogBatch {
    /// 32 hex digits of SHA-256 over the body's canonical JSON: equal bodies, equal ids.
    pub request: String,
    pub user_id: String,
    pub session_id: String,
    /// When the client sent the batch (`sentAt`, contract G): its actions then also keep
    /// `receivedAt` and `timestamp` (`logs::clock`).
    pub sent_at: Option<Instant>,
    pub actions: Vec<NewAction>,
}

impl LogBatch {
    /// Each action with its order key, given the request's first arrival.
    pub fn keyed(&self, arrival: u64) -> impl Iterator<Item = (String, &NewAction)> {
        self.actions.iter().enumerate().map(move |(index, action)| {
            let key = order_key(&action.time, arrival, &self.request, index);
            (key, action)
        })
    }
}
