//! Clock skew (contract G): with `sentAt`, each action also keeps when the server received it
//! (`receivedAt`) and its time corrected by the client's clock (`timestamp`), stored with the
//! action's `time` in one text so that no index projection or table column changes.
//!
//! The stored text is the time as sent, or with `sentAt` `<time> <receivedAt> <timestamp>`: an
//! RFC 3339 time holds no space. Both added fields are fixed-width UTC (`instant::utc_text`,
//! 30 characters), so an item's size, and its write units, do not depend on their values.

use super::instant::utc_text;
use super::Instant;
use crate::{ApiError, StoreError};
use serde::Serialize;

/// The fields `sentAt` adds to an action, RFC 3339 in UTC, as `GET /log` names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Clock {
    pub received_at: String,
    pub timestamp: String,
}

/// `receivedAt` − (`sentAt` − `time`) for a request received at `received` (nanoseconds since
/// the epoch), if it falls within the years 0000 to 9999.
fn corrected(time: &Instant, sent_at: &Instant, received: i128) -> Option<String> {
    utc_text(received - (sent_at.nanos() - time.nanos()))
}

/// Refuses a `sentAt` so far from an action's time that its corrected time, taken now, leaves
/// the years 0000 to 9999.
pub fn check(sent_at: &Instant, time: &Instant, now: u64) -> Result<(), ApiError> {
    match corrected(time, sent_at, i128::from(now)) {
        Some(_) => Ok(()),
        None => Err(ApiError::field(
            "sentAt",
            "is so far from an action's time that the corrected time leaves the years 0000 \
             to 9999",
        )),
    }
}

/// The stored form of an action's time for a request first received at `received`. A
/// corrected time at the edge of the range (only a request checked within seconds of it)
/// is held at the edge.
pub fn stored_time(time: &Instant, sent_at: Option<&Instant>, received: u64) -> String {
    let Some(sent_at) = sent_at else {
        return time.as_str().to_string();
    };
    let received = i128::from(received);
    let at_edge = || match sent_at.nanos() > time.nanos() {
        true => "0000-01-01T00:00:00.000000000Z".to_string(),
        false => "9999-12-31T23:59:59.999999999Z".to_string(),
    };
    let received_at = utc_text(received).unwrap_or_else(at_edge);
    let timestamp = corrected(time, sent_at, received).unwrap_or_else(at_edge);
    format!("{} {received_at} {timestamp}", time.as_str())
}

/// Splits a stored time into the time as sent and, when it has them, its clock fields.
pub fn read(stored: String) -> Result<(String, Option<Clock>), StoreError> {
    let mut parts = stored.split(' ');
    let (Some(time), received_at, timestamp, None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed(&stored));
    };
    let clock = match (received_at, timestamp) {
        (None, None) => None,
        (Some(received_at), Some(timestamp)) => Some(Clock {
            received_at: received_at.to_string(),
            timestamp: timestamp.to_string(),
        }),
        _ => return Err(malformed(&stored)),
    };
    Ok((time.to_string(), clock))
}

fn malformed(stored: &str) -> StoreError {
    StoreError::Failed(format!("a stored action time is malformed: {stored:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(raw: &str) -> Instant {
        Instant::parse("time", raw).expect(raw)
    }

    const RECEIVED: u64 = 1_539_920_300_000_000_000; // 2018-10-19T03:38:20Z

    #[test]
    fn without_sent_at_the_time_is_stored_as_sent() {
        let time = at("2018-10-18T21:37:28-06:00");
        let stored = stored_time(&time, None, RECEIVED);
        assert_eq!(stored, "2018-10-18T21:37:28-06:00");
        assert_eq!(read(stored).expect("splits"), (time.as_str().into(), None));
    }

    #[test]
    fn the_timestamp_is_received_at_less_the_client_s_clock_offset() {
        // The client's clock is 10 minutes fast: it sent at 03:48:20 what happened at 03:47:28.
        let time = at("2018-10-19T03:47:28.25Z");
        let sent_at = at("2018-10-19T05:48:20+02:00");
        let (time_text, clock) =
            read(stored_time(&time, Some(&sent_at), RECEIVED)).expect("splits");
        assert_eq!(time_text, "2018-10-19T03:47:28.25Z");
        assert_eq!(
            clock,
            Some(Clock {
                received_at: "2018-10-19T03:38:20.000000000Z".into(),
                timestamp: "2018-10-19T03:37:28.250000000Z".into(),
            })
        );
    }

    #[test]
    fn a_corrected_time_outside_the_years_0000_to_9999_is_refused_naming_sent_at() {
        let first = at("0000-01-01T00:00:00Z");
        // Sent 10 minutes after it was received: the corrected time is before the year 0000.
        let late = at("2018-10-19T03:48:20Z");
        let err = check(&late, &first, RECEIVED).expect_err("out of range");
        assert!(err.to_string().starts_with("sentAt: "), "{err}");
        assert!(check(&at("2018-10-19T03:28:20Z"), &first, RECEIVED).is_ok());
        let stored = stored_time(&first, Some(&late), RECEIVED);
        assert!(
            stored.ends_with(" 0000-01-01T00:00:00.000000000Z"),
            "{stored}"
        );
    }

    #[test]
    fn the_added_fields_are_62_bytes_whatever_their_values() {
        let time = at("2018-10-19T03:47:28Z");
        for (sent_at, received) in [
            ("2018-10-19T03:48:20Z", RECEIVED),
            ("1970-01-01T00:00:00Z", 0),
            ("9999-12-31T23:59:59Z", u64::MAX),
        ] {
            let stored = stored_time(&time, Some(&at(sent_at)), received);
            assert_eq!(stored.len(), time.as_str().len() + 62, "{stored}");
        }
    }

    #[test]
    fn malformed_stored_times_are_store_errors() {
        for bad in ["a b", "a b c d"] {
            assert!(read(bad.into()).is_err(), "{bad}");
        }
    }
}
