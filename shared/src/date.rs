//! Calendar dates as the API spells them (the people directory's graduation dates, the
//! dashboard's days): the three accepted spellings, two-digit years never in the future, and
//! the age estimated from a date. "Today" is always the UTC date, passed in so tests can fix it.

use time::{Date, Month, OffsetDateTime};

/// Age at third-grade graduation; an estimate adds the whole years since.
pub const AGE_AT_GRADUATION: u32 = 9;

/// The earliest graduation date accepted (the contract's floor: older is a typo, not a person).
const EARLIEST: Date = match Date::from_calendar_date(1900, Month::January, 1) {
    Ok(date) => date,
    Err(_) => panic!("1900-01-01 is a date"),
};

/// Today's date in UTC.
pub fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

/// Parses `YYYY-MM-DD`, `M/D/YY` or `M/D/YYYY` (leading zeros allowed); a date after `today` is
/// refused, and so is one before 1900-01-01. A two-digit year is the latest year ending in those digits that is not in the future.
pub fn parse(raw: &str, today: Date) -> Result<Date, String> {
    let date = match (split3(raw, '-'), split3(raw, '/')) {
        (Some(parts), _) => iso(parts),
        (_, Some(parts)) => slashed(parts, today),
        _ => None,
    }
    .ok_or_else(|| format!("{raw:?} is not a date of the form YYYY-MM-DD, M/D/YY or M/D/YYYY"))?;
    if date > today {
        return Err(format!("{raw:?} is in the future"));
    }
    if date < EARLIEST {
        return Err(format!("{raw:?} is before 1900-01-01"));
    }
    Ok(date)
}

/// The date as `YYYY-MM-DD`.
pub fn format(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// Month and day as one number (`624` for June 24), comparable within a year.
pub fn month_day(date: Date) -> u16 {
    u16::from(u8::from(date.month())) * 100 + u16::from(date.day())
}

/// Whole years from `date` to `today` (an anniversary counts on its day; February 29 in a
/// common year is passed on March 1). Never negative.
pub fn whole_years(date: Date, today: Date) -> u32 {
    let years = today.year() - date.year() - i32::from(month_day(today) < month_day(date));
    u32::try_from(years).unwrap_or(0)
}

/// The age estimated for someone who graduated from third grade on `date`.
pub fn estimated_age(date: Date, today: Date) -> u32 {
    AGE_AT_GRADUATION + whole_years(date, today)
}

fn split3(raw: &str, separator: char) -> Option<[&str; 3]> {
    let mut parts = raw.split(separator);
    let three = [parts.next()?, parts.next()?, parts.next()?];
    parts.next().is_none().then_some(three)
}

/// ASCII digits only, `min..=max` of them.
fn digits(text: &str, min: usize, max: usize) -> Option<u32> {
    let ok = (min..=max).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| text.parse().ok()).flatten()
}

fn ymd(year: u32, month: u32, day: u32) -> Option<Date> {
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?).ok()
}

fn iso([y, m, d]: [&str; 3]) -> Option<Date> {
    ymd(digits(y, 4, 4)?, digits(m, 2, 2)?, digits(d, 2, 2)?)
}

fn slashed([m, d, y]: [&str; 3], today: Date) -> Option<Date> {
    let (month, day) = (digits(m, 1, 2)?, digits(d, 1, 2)?);
    if let Some(year) = digits(y, 4, 4) {
        return ymd(year, month, day);
    }
    let two = digits(y, 2, 2)?;
    let century = u32::try_from(today.year()).ok()? / 100 * 100;
    match ymd(century + two, month, day) {
        Some(date) if date <= today => Some(date),
        _ => ymd((century + two).checked_sub(100)?, month, day),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A date for tests, `YYYY-MM-DD`.
    pub(crate) fn day(iso_date: &str) -> Date {
        let parts = split3(iso_date, '-').expect("YYYY-MM-DD");
        iso(parts).expect("a real date")
    }

    const TODAY: &str = "2025-06-15";

    fn parsed(raw: &str) -> String {
        format(parse(raw, day(TODAY)).unwrap_or_else(|e| panic!("{e}")))
    }

    #[test]
    fn the_three_forms_parse_with_or_without_leading_zeros() {
        assert_eq!(parsed("2001-06-25"), "2001-06-25");
        assert_eq!(parsed("6/25/01"), "2001-06-25");
        assert_eq!(parsed("06/05/2001"), "2001-06-05");
        assert_eq!(parsed("1/1/03"), "2003-01-01");
    }

    #[test]
    fn dates_before_1900_are_refused() {
        for raw in ["0000-01-01", "1899-12-31", "12/31/1899", "1/1/0001"] {
            let err = parse(raw, day(TODAY)).expect_err(raw);
            assert!(err.contains("before 1900-01-01"), "{err}");
        }
        assert_eq!(parsed("1900-01-01"), "1900-01-01");
        assert_eq!(parsed("1/1/1900"), "1900-01-01");
    }

    #[test]
    fn two_digit_years_are_never_in_the_future() {
        assert_eq!(parsed("6/24/40"), "1940-06-24");
        assert_eq!(parsed("3/26/70"), "1970-03-26");
        assert_eq!(parsed("6/15/25"), "2025-06-15");
        assert_eq!(parsed("6/16/25"), "1925-06-16");
        assert_eq!(parsed("2/29/00"), "2000-02-29");
    }

    #[test]
    fn other_spellings_impossible_and_future_dates_are_refused() {
        for bad in [
            "",
            "2001-6-25",
            "01-06-25",
            "6/25",
            "6/25/2001/1",
            "13/1/01",
            "2/30/2000",
            "2/29/2001",
            "6/25/1",
            "6/25/001",
            "a/b/cc",
            "2025-06-16",
            "6/16/2025",
            " 6/25/01",
            "+6/25/01",
        ] {
            assert!(parse(bad, day(TODAY)).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn estimates_add_whole_years_counted_on_the_anniversary() {
        assert_eq!(estimated_age(day("1988-06-25"), day(TODAY)), 9 + 36);
        assert_eq!(estimated_age(day("1988-06-15"), day(TODAY)), 9 + 37);
        assert_eq!(estimated_age(day(TODAY), day(TODAY)), 9);
        assert_eq!(estimated_age(day("2004-02-29"), day("2025-02-28")), 9 + 20);
        assert_eq!(estimated_age(day("2004-02-29"), day("2025-03-01")), 9 + 21);
    }
}
