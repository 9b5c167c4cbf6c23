//! Action times: RFC 3339 with a required offset, kept exactly as sent and compared as instants
//! through a fixed-width UTC key whose string order is time order.

use crate::ApiError;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// A time as the client wrote it, and the instant it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instant {
    raw: String,
    utc: String,
    nanos: i128,
}

const EXPECTED: &str =
    "must be an RFC 3339 date-time with an offset, such as 2018-10-18T21:37:28-06:00";

impl Instant {
    /// Parses `raw`, naming `field` in the error. Accepts `T`/`t` and `Z`/`z` and any fraction
    /// of a second (kept to the nanosecond); refuses a space separator and missing offsets.
    pub fn parse(field: &str, raw: &str) -> Result<Self, ApiError> {
        if !matches!(raw.as_bytes().get(10), Some(b'T' | b't')) {
            return Err(ApiError::field(field, EXPECTED));
        }
        let parsed =
            OffsetDateTime::parse(raw, &Rfc3339).map_err(|_| ApiError::field(field, EXPECTED))?;
        let utc = parsed
            .checked_to_offset(UtcOffset::UTC)
            .filter(|t| (0..=9999).contains(&t.year()))
            .ok_or_else(|| {
                ApiError::field(field, "must fall within the years 0000 to 9999 in UTC")
            })?;
        Ok(Instant {
            raw: raw.to_string(),
            utc: utc_key(utc),
            nanos: utc.unix_timestamp_nanos(),
        })
    }

    /// The time exactly as sent.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ` in UTC: always 30 characters, so string order is
    /// instant order.
    pub fn utc_key(&self) -> &str {
        &self.utc
    }

    /// Nanoseconds since the Unix epoch.
    pub fn nanos(&self) -> i128 {
        self.nanos
    }
}

/// The instant `nanos` after the Unix epoch in the `utc_key` form, if it falls within the
/// years 0000 to 9999.
pub fn utc_text(nanos: i128) -> Option<String> {
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .filter(|t| (0..=9999).contains(&t.year()))
        .map(utc_key)
}

fn utc_key(t: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(raw: &str) -> String {
        Instant::parse("time", raw)
            .expect(raw)
            .utc_key()
            .to_string()
    }

    #[test]
    fn offsets_are_honoured_and_the_raw_text_is_kept() {
        let t = Instant::parse("time", "2018-10-18T21:37:28-06:00").expect("valid");
        assert_eq!(t.as_str(), "2018-10-18T21:37:28-06:00");
        assert_eq!(t.utc_key(), "2018-10-19T03:37:28.000000000Z");
        assert_eq!(key("2018-10-19T03:37:28Z"), t.utc_key());
        assert_eq!(key("2018-10-19t09:07:28.000+05:30"), t.utc_key());
        assert_eq!(key("2018-10-19T03:37:28z"), t.utc_key());
        assert_eq!(key("2018-10-19T03:37:28-00:00"), t.utc_key());
        assert_eq!(
            key("2018-10-19T03:37:28.0000000009Z"),
            t.utc_key(),
            "beyond nanoseconds"
        );
    }

    #[test]
    fn nanos_name_the_instant_and_utc_text_writes_it_back() {
        let t = Instant::parse("time", "2018-10-18T21:37:28.5-06:00").expect("valid");
        assert_eq!(t.nanos(), 1_539_920_248_500_000_000);
        assert_eq!(utc_text(t.nanos()).as_deref(), Some(t.utc_key()));
        let last = Instant::parse("time", "9999-12-31T23:59:59.999999999Z").expect("valid");
        assert_eq!(utc_text(last.nanos() + 1), None);
        let first = Instant::parse("time", "0000-01-01T00:00:00Z").expect("valid");
        assert_eq!(utc_text(first.nanos() - 1), None);
    }

    #[test]
    fn keys_are_fixed_width_and_sort_as_instants() {
        let ordered = [
            "0000-01-01T00:00:00Z",
            "1969-12-31T23:59:59.999999999Z",
            "2018-10-18T21:37:28-06:00",
            "2018-10-19T03:37:28.5Z",
            "2018-10-19T05:00:00+01:00",
            "9999-12-31T23:59:59.999999999Z",
        ];
        let keys: Vec<String> = ordered.iter().map(|raw| key(raw)).collect();
        assert!(keys.iter().all(|k| k.len() == 30), "{keys:?}");
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
    }

    #[test]
    fn bad_times_are_refused_naming_the_field() {
        for bad in [
            "yesterday",
            "",
            "2018-10-18",
            "2018-10-18 21:37:28Z",
            "2018-10-18T21:37:28",
            "2018-10-18T21:37:28+0600",
            "2018-13-18T21:37:28Z",
            "2018-02-30T21:37:28Z",
            "2018-10-18T24:00:00Z",
            "2018-10-18T21:37:28Z trailing",
            "2018-10-18T21:37:28+24:00",
            "0000-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-01:00",
            "２018-10-18T21:37:28Z",
        ] {
            let err = Instant::parse("actions[2].time", bad).expect_err(bad);
            assert!(err.to_string().starts_with("actions[2].time: "), "{err}");
        }
    }
}
