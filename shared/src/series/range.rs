//! The range of a series read (contract section F): `interval`, `from`, `to`, their defaults,
//! and every bucket the range touches, refused with a 400 naming the parameter when it cannot
//! be served.

use super::Hour;
use crate::http::request::offset_plus;
use crate::ApiError;
use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime};

/// The most buckets one read returns.
pub const MAX_BUCKETS: i64 = 1000;
/// How long hourly buckets are served: an hourly range that starts earlier is refused.
pub const HOURLY_RETENTION_DAYS: i64 = 35;

/// The Julian day of 1970-01-01.
const EPOCH_JULIAN_DAY: i64 = 2_440_588;

/// The size of a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    Hour,
    Day,
}

impl Interval {
    pub fn name(self) -> &'static str {
        match self {
            Interval::Hour => "hour",
            Interval::Day => "day",
        }
    }

    fn hours(self) -> i64 {
        match self {
            Interval::Hour => 1,
            Interval::Day => 24,
        }
    }
}

/// A checked range: its interval and its first and last bucket (their starting hours).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesRange {
    pub interval: Interval,
    pub first: Hour,
    pub last: Hour,
}

impl SeriesRange {
    /// The range of the query parameters `interval`, `from` and `to` (each optional), `now`
    /// being the current hour.
    pub fn parse(
        interval: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
        now: Hour,
    ) -> Result<Self, ApiError> {
        let interval = match interval {
            None | Some("day") => Interval::Day,
            Some("hour") => Interval::Hour,
            Some(other) => {
                return Err(ApiError::field(
                    "interval",
                    format!("must be hour or day (got {other:?})"),
                ))
            }
        };
        // Instants in seconds since the epoch; a date is its first second (`from`) or its last.
        let to = match to {
            Some(raw) => instant("to", raw, 86_399)?,
            None => now * 3600 + 3599,
        };
        let from = match from {
            Some(raw) => instant("from", raw, 0)?,
            None => to - default_span(interval),
        };
        if from > to {
            return Err(ApiError::field("from", "must not be after to"));
        }
        let step = interval.hours();
        let (first, last) = (
            from.div_euclid(3600 * step) * step,
            to.div_euclid(3600 * step) * step,
        );
        let buckets = (last - first) / step + 1;
        if buckets > MAX_BUCKETS {
            return Err(ApiError::field(
                "from",
                format!(
                    "the range holds {buckets} {} buckets, at most {MAX_BUCKETS} are served: \
                     narrow it or use a longer interval",
                    interval.name()
                ),
            ));
        }
        if interval == Interval::Hour && first < now - HOURLY_RETENTION_DAYS * 24 {
            return Err(ApiError::field(
                "from",
                format!(
                    "hourly buckets are kept {HOURLY_RETENTION_DAYS} days: start within them \
                     or use interval=day"
                ),
            ));
        }
        Ok(SeriesRange {
            interval,
            first,
            last,
        })
    }

    /// The range of a request's query parameters (`param` reads one), up to this hour.
    pub fn from_query<'a>(param: impl Fn(&str) -> Option<&'a str>) -> Result<Self, ApiError> {
        Self::parse(
            param("interval"),
            param("from"),
            param("to"),
            super::this_hour(),
        )
    }

    /// The start of every bucket, in time order.
    pub fn starts(&self) -> impl Iterator<Item = Hour> {
        let (step, first) = (self.interval.hours(), self.first);
        (0..=(self.last - first) / step).map(move |i| first + i * step)
    }

    /// The end of the range: the start of the bucket after the last.
    pub fn end(&self) -> Hour {
        self.last + self.interval.hours()
    }

    /// The first and last day the range touches (days since the epoch).
    pub fn days(&self) -> (i64, i64) {
        (self.first.div_euclid(24), self.last.div_euclid(24))
    }
}

/// How far `from` lies before `to` by default, in seconds: 30 days, or 48 hours.
fn default_span(interval: Interval) -> i64 {
    match interval {
        Interval::Day => 30 * 86_400,
        Interval::Hour => 48 * 3600,
    }
}

/// An RFC 3339 instant, or a `YYYY-MM-DD` UTC date plus `into_day` seconds, in seconds since
/// the epoch.
fn instant(field: &str, raw: &str, into_day: i64) -> Result<i64, ApiError> {
    if let Some(date) = iso_date(raw) {
        return Ok(day_number(date) * 86_400 + into_day);
    }
    OffsetDateTime::parse(&offset_plus(raw), &Rfc3339)
        .map(OffsetDateTime::unix_timestamp)
        .map_err(|_| {
            ApiError::field(
                field,
                format!("must be an RFC 3339 instant or a YYYY-MM-DD date (got {raw:?})"),
            )
        })
}

/// `YYYY-MM-DD`, exactly.
fn iso_date(raw: &str) -> Option<Date> {
    let bytes = raw.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = raw.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let year = i32::try_from(number(0..4)?).ok()?;
    let month = Month::try_from(u8::try_from(number(5..7)?).ok()?).ok()?;
    Date::from_calendar_date(year, month, u8::try_from(number(8..10)?).ok()?).ok()
}

/// The first hour of a `YYYY-MM-DD` day.
pub(crate) fn day_start(text: &str) -> Option<Hour> {
    iso_date(text).map(|date| day_number(date) * 24)
}

/// Days since 1970-01-01.
pub(crate) fn day_number(date: Date) -> i64 {
    i64::from(date.to_julian_day()) - EPOCH_JULIAN_DAY
}

/// The date and the hour of the day of an hour since the epoch.
pub(crate) fn calendar(hour: Hour) -> (Date, i64) {
    let day = hour.div_euclid(24);
    let julian = i32::try_from(day + EPOCH_JULIAN_DAY).unwrap_or(i32::MAX);
    let date = Date::from_julian_day(julian).unwrap_or(Date::MAX);
    (date, hour.rem_euclid(24))
}

/// A day since the epoch as `YYYY-MM-DD`.
pub(crate) fn date_text(date: Date) -> String {
    crate::date::format(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-07T13:00Z as an hour since the epoch.
    const NOW: Hour = 20_794 * 24 + 13;

    fn parse(interval: Option<&str>, from: Option<&str>, to: Option<&str>) -> SeriesRange {
        SeriesRange::parse(interval, from, to, NOW).expect("a range")
    }

    fn refused(interval: Option<&str>, from: Option<&str>, to: Option<&str>) -> String {
        SeriesRange::parse(interval, from, to, NOW)
            .expect_err("refused")
            .to_string()
    }

    #[test]
    fn the_defaults_are_30_days_or_48_hours_up_to_now() {
        let days = parse(None, None, None);
        assert_eq!(days.interval, Interval::Day);
        assert_eq!(days.starts().count(), 31);
        assert_eq!(days.last, 20_794 * 24);
        let hours = parse(Some("hour"), None, None);
        assert_eq!(hours.starts().count(), 49);
        assert_eq!((hours.first, hours.last), (NOW - 48, NOW));
    }

    #[test]
    fn dates_cover_whole_days_and_instants_their_bucket() {
        let range = parse(Some("hour"), Some("2026-12-06"), Some("2026-12-06"));
        assert_eq!(range.starts().count(), 24);
        assert_eq!(
            calendar(range.first),
            (iso_date("2026-12-06").expect("date"), 0)
        );
        let range = parse(
            Some("hour"),
            Some("2026-12-06T10:59:59Z"),
            Some("2026-12-06T12:00:00+01:00"),
        );
        assert_eq!(range.starts().count(), 2);
        assert_eq!(range.end() - range.first, 2);
        let range = parse(None, Some("2026-11-01T23:30:00-01:00"), Some("2026-11-02"));
        assert_eq!(range.starts().count(), 1);
    }

    #[test]
    fn bad_values_name_their_parameter() {
        assert!(refused(Some("week"), None, None).starts_with("interval: "));
        assert!(refused(None, Some("yesterday"), None).starts_with("from: "));
        assert!(refused(None, None, Some("2026-13-01")).starts_with("to: "));
        assert!(refused(None, Some("2026-02-30"), None).starts_with("from: "));
        assert!(refused(None, Some("2026-12-02"), Some("2026-12-01")).starts_with("from: "));
    }

    #[test]
    fn more_than_1000_buckets_or_hours_past_the_retention_are_refused() {
        assert_eq!(
            parse(None, Some("2024-03-13"), Some("2026-12-07"))
                .starts()
                .count(),
            1000
        );
        assert!(refused(None, Some("2024-03-12"), Some("2026-12-07")).contains("1001 day"));
        assert!(parse(Some("hour"), Some("2026-11-02T13:00:00Z"), None).first == NOW - 35 * 24);
        assert!(refused(Some("hour"), Some("2026-11-02T12:59:59Z"), None).contains("35 days"));
    }
}
